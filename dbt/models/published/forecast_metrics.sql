-- The forecaster's backtest errors for the run as published; no rows when the run had
-- no backtest (contract: shopguide.schema.PUBLISHED_TABLES).

select
    cast(run_date as date) as run_date,
    cast(forecast_level as varchar) as "level",
    cast(forecast_model as varchar) as model,
    cast(horizon as integer) as horizon,
    cast(wape as double precision) as wape,
    cast(mase as double precision) as mase,
    cast(bias as double precision) as bias,
    cast(interval_coverage as double precision) as interval_coverage
from {{ ref('stg_spark__forecast_metrics') }}
