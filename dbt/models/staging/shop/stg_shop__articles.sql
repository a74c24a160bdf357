with

source as (

    select * from {{ source('shop', 'articles') }}

),

latest as (

    -- Loads upsert by article_id; keep the latest load should a key repeat anyway.
    select
        *,
        row_number() over (partition by article_id order by _run_date desc) as load_rank
    from source

),

renamed as (

    select
        ---------- ids
        article_id,
        product_code,

        ---------- text
        prod_name,
        product_type_name,
        product_group_name,
        graphical_appearance_name,
        colour_group_name,
        perceived_colour_master_name,
        department_name,
        index_name,
        index_group_name,
        section_name,
        garment_group_name,
        detail_desc,

        ---------- dates
        -- The day the article first appeared in the catalogue (kept by ingest across loads).
        first_seen_date,
        _run_date as loaded_run_date

    from latest
    where load_rank = 1
        -- Listed by the run's day: a backfill of an earlier date does not see later listings.
        and (first_seen_date is null or first_seen_date <= {{ run_date_sql() }})

)

select * from renamed
