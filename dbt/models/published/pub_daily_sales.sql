-- BI's actual sales for the run: units and revenue per article and day over the last
-- `published_sales_days` days to the run date, to set forecasts against actuals
-- (published as `daily_sales`; contract: shopguide.schema.PUBLISHED_TABLES['daily_sales']).
-- The model is named pub_daily_sales because marts.daily_sales has the name in dbt.

select
    cast({{ run_date_sql() }} as date) as run_date,
    cast(article_id as varchar) as article_id,
    cast(sale_date as date) as sale_date,
    cast(units as bigint) as units,
    cast(revenue as double precision) as revenue,
    cast(customers as bigint) as customers
from {{ ref('daily_sales') }}
where sale_date > {{ run_date_sql() }} - {{ positive_var('published_sales_days') }}
    and sale_date <= {{ run_date_sql() }}
