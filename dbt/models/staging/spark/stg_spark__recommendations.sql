with

source as (

    select * from {{ source('spark', 'recommendations') }}

),

renamed as (

    select
        ---------- ids
        customer_id,
        article_id,

        ---------- numerics
        cast("rank" as integer) as recommendation_rank,
        cast(score as {{ type_double() }}) as score,

        ---------- text
        reason,

        ---------- dates
        cast(run_date as date) as run_date

    from source
    -- outputs.* keeps every run's rows; this run only.
    where cast(run_date as date) = {{ run_date_sql() }}

)

select * from renamed
