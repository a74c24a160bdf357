with

source as (

    select * from {{ source('spark', 'demand_forecast') }}

),

renamed as (

    select
        ---------- ids
        article_id,

        ---------- numerics
        cast(units_p10 as {{ type_double() }}) as units_p10,
        cast(units_p50 as {{ type_double() }}) as units_p50,
        cast(units_p90 as {{ type_double() }}) as units_p90,

        ---------- text
        model as forecast_model,

        ---------- dates
        cast(run_date as date) as run_date,
        cast(forecast_date as date) as forecast_date

    from source
    -- outputs.* keeps every run's rows; this run only.
    where cast(run_date as date) = {{ run_date_sql() }}

)

select * from renamed
