-- The recommender's holdout metrics for the run as published; no rows when the run had
-- no holdout (contract: shopguide.schema.PUBLISHED_TABLES).

select
    cast(run_date as date) as run_date,
    cast(recommendation_model as varchar) as model,
    cast(k as integer) as k,
    cast(precision_at_k as double precision) as precision_at_k,
    cast(recall_at_k as double precision) as recall_at_k,
    cast(map_at_k as double precision) as map_at_k,
    cast(ndcg_at_k as double precision) as ndcg_at_k,
    cast(catalog_coverage as double precision) as catalog_coverage,
    cast(novelty as double precision) as novelty,
    cast(diversity as double precision) as diversity
from {{ ref('stg_spark__model_metrics') }}
