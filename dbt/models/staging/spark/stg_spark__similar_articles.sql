with

source as (

    select * from {{ source('spark', 'similar_articles') }}

),

renamed as (

    select
        ---------- ids
        article_id,
        similar_article_id,

        ---------- numerics
        cast("rank" as integer) as similar_rank,
        cast(score as {{ type_double() }}) as score,

        ---------- dates
        cast(run_date as date) as run_date

    from source
    -- outputs.* keeps every run's rows; this run only.
    where cast(run_date as date) = {{ run_date_sql() }}

)

select * from renamed
