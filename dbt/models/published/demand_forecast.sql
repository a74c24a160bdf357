-- The run's demand forecast as published (contract: shopguide.schema.PUBLISHED_TABLES).

select
    cast(run_date as date) as run_date,
    cast(article_id as varchar) as article_id,
    cast(forecast_date as date) as forecast_date,
    cast(units_p10 as double precision) as units_p10,
    cast(units_p50 as double precision) as units_p50,
    cast(units_p90 as double precision) as units_p90,
    cast(forecast_model as varchar) as model
from {{ ref('stg_spark__demand_forecasts') }}
