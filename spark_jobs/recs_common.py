"""Column names, output names and tunable settings of the recommender, in one place.

Every ``recs_*`` module and ``recommend.py`` take their column names from here, so a
rename in the lake contract (docs/ARCHITECTURE.md) is a one-line change.
"""

from __future__ import annotations

import contextlib
import sys
import time
from dataclasses import asdict, dataclass, fields

# -- lake input columns (docs/ARCHITECTURE.md) ----------------------------------
CUSTOMER_ID = "customer_id"
ARTICLE_ID = "article_id"
SEGMENT = "segment"
AGE_BAND = "age_band"
REGION = "region"
CHANNEL = "main_sales_channel_id"
T_DAT = "t_dat"
QUANTITY = "quantity"
PRICE = "price"
IS_SELLABLE = "is_sellable"
PROD_NAME = "prod_name"
PRODUCT_TYPE = "product_type_name"
PRODUCT_GROUP = "product_group_name"
INDEX_GROUP = "index_group_name"
DETAIL_DESC = "detail_desc"
WEIGHT = "weight"
PURCHASES = "purchases"

# Categorical article attributes one-hot encoded into the content vector.
CATEGORICAL_ATTRIBUTES = (
    "product_type_name",
    "product_group_name",
    "colour_group_name",
    "graphical_appearance_name",
    "department_name",
    "garment_group_name",
    "index_group_name",
)

# -- output columns ---------------------------------------------------------------
RANK = "rank"
SCORE = "score"
REASON = "reason"
SIMILAR_ARTICLE_ID = "similar_article_id"
COMPLEMENT_ARTICLE_ID = "complement_article_id"
SUPPORT = "support"

RECOMMENDATION_COLUMNS = (CUSTOMER_ID, RANK, ARTICLE_ID, SCORE, REASON)
SIMILAR_ARTICLES_COLUMNS = (ARTICLE_ID, RANK, SIMILAR_ARTICLE_ID, SCORE)
OUTFIT_COMPLEMENTS_COLUMNS = (ARTICLE_ID, RANK, COMPLEMENT_ARTICLE_ID, SCORE, SUPPORT)
# Lake outputs carry no run_date (the path holds it; the loader adds the column).
MODEL_METRICS_COLUMNS = (
    "model",
    "k",
    "precision_at_k",
    "recall_at_k",
    "map_at_k",
    "ndcg_at_k",
    "catalog_coverage",
    "novelty",
    "diversity",
)

# Output names under lake/run_date=D/outputs/.
OUT_RECOMMENDATIONS = "recommendations"
OUT_SIMILAR_ARTICLES = "similar_articles"
OUT_OUTFIT_COMPLEMENTS = "outfit_complements"
OUT_MODEL_METRICS = "model_metrics"
# Private (never published): the best baseline's lists for the quality gate.
OUT_BASELINE_RECOMMENDATIONS = "baseline_recommendations"

# -- reasons shown to customers ---------------------------------------------------
REASON_REPURCHASE = "you bought this before"
REASON_POPULAR_SEGMENT = "popular with customers like you"
REASON_POPULAR_GLOBAL = "popular in the shop right now"
REASON_TRENDING = "trending now"


@dataclass(frozen=True)
class RecsConfig:
    """Tunable settings of the recommender. Only some defaults were searched on validation
    splits (benchmarks/results.md: EASE's ``itemitem_l2`` on MovieLens; the MovieLens ALS
    search sets ``SOURCE_PROFILES`` in shopguide/evaluation.py, not these defaults); the
    others were set by hand and are not tuned."""

    top_k: int = 12
    # Popularity: purchases decay with this half-life (days before the run date).
    popularity_half_life_days: float = 7.0
    # A segment (or age band) needs this many distinct buyers to get its own list;
    # smaller groups back off to age band, then to the whole shop.
    min_group_buyers: int = 30
    # Repurchase: how fast old purchases lose weight.
    repurchase_half_life_days: float = 30.0
    # Implicit ALS (spark.ml): confidence = 1 + alpha * interaction weight.
    als_rank: int = 64
    als_reg_param: float = 0.1
    als_alpha: float = 10.0
    als_max_iter: int = 10
    # Checkpoint the factors every this many iterations. Each checkpoint writes both
    # factor RDDs to the lake, so one cut of the lineage per default fit (10 iterations)
    # costs less than two; the results do not depend on it.
    als_checkpoint_interval: int = 10
    # ALS candidates per customer handed to the ranker.
    als_candidates: int = 50
    # Item-to-item EASE: the most bought articles it covers (an n x n matrix is inverted
    # on the driver), its L2 penalty, and its candidates per customer.
    itemitem_max_articles: int = 4000
    itemitem_l2: float = 500.0
    itemitem_candidates: int = 50
    seed: int = 42
    # Content: hashed text features, the articles content scoring considers.
    content_text_features: int = 256
    content_pool_size: int = 20000
    content_candidates: int = 20
    similar_top_n: int = 12
    similar_same_index_group: bool = True
    # Complete the look: basket = one customer's purchases within basket_days.
    basket_days: int = 3
    max_basket_articles: int = 40
    complement_min_support: int = 2
    complement_shrinkage: float = 5.0
    complement_top_n: int = 12
    # Same rules as the dbt marts, for cuts the recommender makes itself.
    interaction_half_life_days: float = 30.0
    new_article_days: int = 28
    sellable_days: int = 90
    # Candidates per customer from each source.
    recent_articles: int = 5
    popular_candidates: int = 24
    trending_candidates: int = 12
    # Below this repeat share the shop's customers do not repeat and already bought
    # articles are left out of the lists. Measured on the ranker's validation window
    # (share of its purchases re-buying an article bought before it); without one, on
    # the history (share of purchase-days re-buying an article).
    min_repeat_rate: float = 0.01
    # Business rule: at most this many articles of one product type in a list.
    max_per_product_type: int = 6
    # Ranker: validation window (days at the end of the training data) and training.
    ranker_val_days: int = 7
    # Random splits: the share of each customer's purchases that labels the ranker. A
    # small share keeps the models behind the features close to the final ones (on the
    # MovieLens validation split 0.1 beat 0.25: benchmarks/results.md).
    ranker_val_fraction: float = 0.1
    ranker_max_customers: int = 50000
    ranker_min_positives: int = 20
    ranker_negatives_per_positive: float = 20.0
    ranker_reg_param: float = 0.001
    ranker_max_iter: int = 30
    # Linear weights used when there is too little data to train the ranker.
    fallback_weights: tuple = (
        ("f_rep_w", 2.0),
        ("f_rep_days", 1.0),
        ("f_als", 1.0),
        ("f_itemitem", 1.0),
        ("f_pop", 1.0),
        ("f_pop_global", 0.5),
        ("f_similar", 0.5),
        ("f_complement", 0.3),
        ("f_content", 0.3),
        ("f_trend", 0.2),
    )

    def replace(self, **changes) -> RecsConfig:
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(
                f"unknown recommender settings {sorted(unknown)}; known: {sorted(known)}"
            )
        return RecsConfig(**{**asdict(self), **changes})


@contextlib.contextmanager
def timed(step: str):
    """Log how long a recommender step took (stderr, picked up by the task log; also
    appended to STEP_LOG for an in-process caller such as the benchmark)."""
    started = time.perf_counter()
    try:
        yield
    finally:
        seconds = round(time.perf_counter() - started, 1)
        STEP_LOG.append((step, seconds))
        print(f"[recommend] {step}: {seconds:.1f} s", file=sys.stderr, flush=True)


# (step, seconds) of the timed steps, in order, since the last recommend run began.
STEP_LOG: list[tuple[str, float]] = []


BUCKET = "_bucket"


def bucket_count(rows: int, rows_per_bucket: int = 100_000) -> int:
    """How many customer buckets hold about ``rows_per_bucket`` of ``rows`` rows each."""
    return max(1, -(-int(rows) // rows_per_bucket))


def customer_bucket(buckets: int):
    """The bucket of each row's customer (a column expression)."""
    from pyspark.sql import functions as F

    return F.pmod(F.hash(CUSTOMER_ID), F.lit(buckets))


def customer_buckets(df, fn, schema, rows: int | None = None, rows_per_bucket: int = 100_000):
    """``fn(pdf) -> pdf`` applied to groups of whole customers: the rows are hashed on
    ``customer_id`` into about ``rows / rows_per_bucket`` buckets, one pandas frame each.
    A pandas group per customer would cost a Python call per customer; a bucket holds
    thousands of them for one vectorized pass, and its size stays bounded as the shop
    grows (``rows``: the row count of ``df``, or an upper bound). A ``df`` that already
    carries a ``_bucket`` column (from :func:`customer_bucket`, partitioned by it) keeps
    its buckets, so no second shuffle is needed; ``rows`` is required otherwise."""
    if BUCKET not in df.columns:
        if rows is None:
            raise ValueError("customer_buckets: rows is required when df has no _bucket column")
        df = df.withColumn(BUCKET, customer_bucket(bucket_count(rows, rows_per_bucket)))
    return df.groupBy(BUCKET).applyInPandas(lambda pdf: fn(pdf.drop(columns=BUCKET)), schema=schema)


def stable_uniform(seed: int, *keys: str):
    """A draw in [0, 1) per row from a hash of its ``keys`` and ``seed``. ``F.rand(seed)``
    draws by position within a partition, so the same rows in another order or another
    partitioning (a rerun, a bigger cluster) get other draws; a hash gives a row the
    same draw wherever it lands."""
    from pyspark.sql import functions as F

    bits = 1 << 53
    return F.pmod(F.xxhash64(F.lit(seed), *[F.col(k) for k in keys]), F.lit(bits)).cast(
        "double"
    ) / float(bits)
