-- Realized performance of earlier runs' published lists, scored by this run
-- (contract: shopguide.schema.PUBLISHED_TABLES; computed in shopguide/feedback.py).

select
    cast(run_date as date) as run_date,
    cast(window_days as integer) as window_days,
    cast(performance_slice as varchar) as slice,
    cast(customers as integer) as customers,
    cast(pairs as integer) as pairs,
    cast(hits as integer) as hits,
    cast(hit_rate as double precision) as hit_rate,
    cast(converted_customers as integer) as converted_customers,
    cast(conversion_rate as double precision) as conversion_rate,
    cast(units as integer) as units,
    cast(revenue as double precision) as revenue,
    cast(scored_on as date) as scored_on
from {{ ref('stg_feedback__recommendation_performance') }}
