-- The email campaign's uplift on earlier lists, scored by this run
-- (contract: shopguide.schema.PUBLISHED_TABLES; computed in shopguide/feedback.py).

select
    cast(run_date as date) as run_date,
    cast(window_days as integer) as window_days,
    cast(campaign_metric as varchar) as metric,
    cast(treatment_customers as integer) as treatment_customers,
    cast(control_customers as integer) as control_customers,
    cast(treatment_value as double precision) as treatment_value,
    cast(control_value as double precision) as control_value,
    cast(uplift as double precision) as uplift,
    cast(uplift_ci_low as double precision) as uplift_ci_low,
    cast(uplift_ci_high as double precision) as uplift_ci_high,
    cast(scored_on as date) as scored_on
from {{ ref('stg_feedback__campaign_performance') }}
