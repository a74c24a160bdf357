with

source as (

    select * from {{ source('spark', 'forecast_metrics') }}

),

renamed as (

    select
        ---------- numerics
        cast(horizon as integer) as horizon,
        cast(wape as {{ type_double() }}) as wape,
        cast(mase as {{ type_double() }}) as mase,
        cast(bias as {{ type_double() }}) as bias,
        cast(interval_coverage as {{ type_double() }}) as interval_coverage,

        ---------- text
        "level" as forecast_level,
        model as forecast_model,

        ---------- dates
        cast(run_date as date) as run_date

    from source
    -- outputs.* keeps every run's rows; this run only.
    where cast(run_date as date) = {{ run_date_sql() }}

)

select * from renamed
