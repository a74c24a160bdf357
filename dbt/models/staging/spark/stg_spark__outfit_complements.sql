with

source as (

    select * from {{ source('spark', 'outfit_complements') }}

),

renamed as (

    select
        ---------- ids
        article_id,
        complement_article_id,

        ---------- numerics
        cast("rank" as integer) as complement_rank,
        cast(score as {{ type_double() }}) as score,
        cast(support as integer) as support,

        ---------- dates
        cast(run_date as date) as run_date

    from source
    -- outputs.* keeps every run's rows; this run only.
    where cast(run_date as date) = {{ run_date_sql() }}

)

select * from renamed
