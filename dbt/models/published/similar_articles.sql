-- The run's most similar articles per article as published
-- (contract: shopguide.schema.PUBLISHED_TABLES).

select
    cast(run_date as date) as run_date,
    cast(article_id as varchar) as article_id,
    cast(similar_rank as integer) as "rank",
    cast(similar_article_id as varchar) as similar_article_id,
    cast(score as double precision) as score
from {{ ref('stg_spark__similar_articles') }}
