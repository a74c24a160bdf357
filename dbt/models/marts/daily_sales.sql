-- BI's daily sales: units, revenue and distinct known customers per article and day, to
-- the run date. A full rebuild each night (cheap, and a backfill of an old run date
-- shows exactly what the shop knew then).

select
    article_id,
    sale_date,
    units,
    cast(revenue as {{ type_double() }}) as revenue,
    customers
from {{ ref('int_article_sales_daily') }}
