with

source as (

    select * from {{ source('feedback', 'campaign_performance') }}

),

renamed as (

    select
        ---------- dates
        cast(run_date as date) as run_date,
        cast(scored_on as date) as scored_on,

        ---------- keys
        cast(window_days as integer) as window_days,
        metric as campaign_metric,

        ---------- numerics
        cast(treatment_customers as integer) as treatment_customers,
        cast(control_customers as integer) as control_customers,
        cast(treatment_value as {{ type_double() }}) as treatment_value,
        cast(control_value as {{ type_double() }}) as control_value,
        cast(uplift as {{ type_double() }}) as uplift,
        cast(uplift_ci_low as {{ type_double() }}) as uplift_ci_low,
        cast(uplift_ci_high as {{ type_double() }}) as uplift_ci_high

    from source
    -- outputs.* keeps every night's scoring; this run's only.
    where cast(scored_on as date) = {{ run_date_sql() }}

)

select * from renamed
