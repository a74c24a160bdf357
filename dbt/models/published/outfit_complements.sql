-- The run's outfit complements per article as published
-- (contract: shopguide.schema.PUBLISHED_TABLES).

select
    cast(run_date as date) as run_date,
    cast(article_id as varchar) as article_id,
    cast(complement_rank as integer) as "rank",
    cast(complement_article_id as varchar) as complement_article_id,
    cast(score as double precision) as score,
    cast(support as integer) as support
from {{ ref('stg_spark__outfit_complements') }}
