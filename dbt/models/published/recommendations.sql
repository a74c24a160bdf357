-- The run's recommendations as published (contract: shopguide.schema.PUBLISHED_TABLES).

select
    cast(run_date as date) as run_date,
    cast(customer_id as varchar) as customer_id,
    cast(recommendation_rank as integer) as "rank",
    cast(article_id as varchar) as article_id,
    cast(score as double precision) as score,
    cast(reason as varchar) as reason
from {{ ref('stg_spark__recommendations') }}
