with

source as (

    select * from {{ source('feedback', 'recommendation_performance') }}

),

renamed as (

    select
        ---------- dates
        cast(run_date as date) as run_date,
        cast(scored_on as date) as scored_on,

        ---------- keys
        cast(window_days as integer) as window_days,
        slice as performance_slice,

        ---------- numerics
        cast(customers as integer) as customers,
        cast(pairs as integer) as pairs,
        cast(hits as integer) as hits,
        cast(hit_rate as {{ type_double() }}) as hit_rate,
        cast(converted_customers as integer) as converted_customers,
        cast(conversion_rate as {{ type_double() }}) as conversion_rate,
        cast(units as integer) as units,
        cast(revenue as {{ type_double() }}) as revenue

    from source
    -- outputs.* keeps every night's scoring; this run's only.
    where cast(scored_on as date) = {{ run_date_sql() }}

)

select * from renamed
