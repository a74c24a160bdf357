"""Candidate features: one row per (customer, candidate article) from every candidate
source (:func:`candidate_features`), and the rank features filled in per customer bucket."""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from spark_jobs.recommend.buckets import BUCKET, bucket_count, customer_bucket, customer_buckets
from spark_jobs.recommend.candidates.als import AlsFactors, als_candidates, als_lookup, als_scores
from spark_jobs.recommend.candidates.content import content_candidates, customer_profiles
from spark_jobs.recommend.candidates.inputs import decayed_purchases
from spark_jobs.recommend.candidates.itemitem import itemitem_candidates
from spark_jobs.recommend.candidates.popularity import popularity_candidates
from spark_jobs.recommend.candidates.repurchase import repurchase_score
from spark_jobs.recommend.columns import (
    ARTICLE_ID,
    COMPLEMENT_ARTICLE_ID,
    CUSTOMER_ID,
    PURCHASE_DATE,
    QUANTITY,
    REASON,
    REASON_POPULAR_GLOBAL,
    SCORE,
    SIMILAR_ARTICLE_ID,
)
from spark_jobs.recommend.config import RecsConfig
from spark_jobs.recommend.state import ShopState

# Candidate sources, in the order a reason is chosen when several propose an article.
SOURCES = (
    "repurchase",
    "complement",
    "similar",
    "itemitem",
    "als",
    "content",
    "trending",
    "popular",
)
FEATURES = (
    "f_als",
    "f_itemitem",
    "f_rep_w",
    "f_rep_n",
    "f_rep_days",
    "f_pop",
    "f_pop_global",
    "f_trend",
    "f_content",
    "f_complement",
    "f_similar",
    "f_cust_freq",
    "f_cust_recency",
    "is_repurchase",
    "is_als",
    "is_itemitem",
    "is_content",
    "is_complement",
    "is_similar",
    "is_popular",
    "is_trending",
    "f_als_rank",
    "f_itemitem_rank",
    "f_pop_rank",
    "f_rep_rank",
)
# Sources whose reason depends on more than the source, carried as a number through the
# candidate merge (r_<source>) and spelled out only for the final lists: the bought
# article behind "similar to ..." / "completes the look with ..." (xxhash64 of its id),
# global (1) or segment (0) popularity.
REASON_CODES = ("similar", "complement", "popular")
# A customer's history with a candidate article (repurchase half-life): decayed units,
# purchase rows, last purchase day; null for articles never bought.
HISTORY_COLUMNS = ("_rep_w", "_rep_n", "_rep_last")


def _recent_purchases(state: ShopState, config: RecsConfig) -> DataFrame:
    """(customer_id, article_id, w): each customer's last ``recent_articles`` distinct articles."""
    bought = decayed_purchases(state.transactions, state.as_of, config.repurchase_half_life_days)
    per = bought.groupBy(CUSTOMER_ID, ARTICLE_ID).agg(
        F.max(PURCHASE_DATE).alias("_last"), F.sum("w").alias("w")
    )
    order = Window.partitionBy(CUSTOMER_ID).orderBy(
        F.col("_last").desc(), F.col("w").desc(), F.col(ARTICLE_ID)
    )
    return (
        per.withColumn("_r", F.row_number().over(order))
        .where(F.col("_r") <= config.recent_articles)
        .select(CUSTOMER_ID, ARTICLE_ID, "w")
    )


# Over 80 lines: every source adds its part through the local add()/via_recent() before
# the one merge; it moved verbatim into the package (a behaviour-preserving move).
def candidate_features(
    state: ShopState,
    customers: DataFrame,
    config: RecsConfig,
    exclude_seen: bool,
    drop_bought: bool = False,
    with_ranks: bool = True,
) -> DataFrame:
    """One row per (customer, candidate article) with the FEATURES and a ``reason``.
    Articles the customer already bought stay candidates (repurchase and the other
    sources) unless ``exclude_seen`` or ``drop_bought``. Without ``with_ranks`` the
    RANK_FEATURES are left out and ``f_als`` is 0: :func:`ranked_lists` fills both in
    its own pass over the customer buckets the rows already sit in (``_bucket``).

    The candidates of all sources are shuffled once, into buckets of whole customers;
    merging them, adding the features and the one pandas pass per bucket (ALS scores,
    ranks) then run where the rows are. Merging by (customer, article), then scoring
    ALS in a separate Python pass, then bucketing for the ranks moved every candidate
    through two shuffles and two Python round trips, and spilled."""
    cust = customers.select(CUSTOMER_ID).distinct()
    tx = state.transactions.join(cust, CUSTOMER_ID, "left_semi")
    parts: list[DataFrame] = []

    def add(source: str, df: DataFrame, reason_code=None, *extra: str) -> None:
        code = [] if reason_code is None else [reason_code.cast("long").alias(f"r_{source}")]
        parts.append(
            df.select(
                CUSTOMER_ID,
                ARTICLE_ID,
                F.col(SCORE).cast("double").alias(f"s_{source}"),
                *code,
                *extra,
            )
        )

    # Repurchase candidates carry the purchase history features along, so the merged
    # candidates need no second join with the history.
    hist = (
        decayed_purchases(tx, state.as_of, config.repurchase_half_life_days)
        .join(state.sellable, ARTICLE_ID, "left_semi")
        .groupBy(CUSTOMER_ID, ARTICLE_ID)
        .agg(
            F.sum("w").alias("_rep_w"),
            F.count(F.lit(1)).alias("_rep_n"),
            F.max(PURCHASE_DATE).alias("_rep_last"),
        )
    )
    rep = hist.withColumn(SCORE, repurchase_score(F.col("_rep_w")))
    add("repurchase", rep, None, *HISTORY_COLUMNS)
    # Group sizes come from every customer; only the targets keep their lists.
    pop = popularity_candidates(
        state.customers,
        state.transactions,
        state.articles,
        state.as_of,
        config,
        per_customer=config.popular_candidates,
    )
    pop = pop.join(cust, CUSTOMER_ID, "left_semi")
    add("popular", pop, F.col(REASON) == F.lit(REASON_POPULAR_GLOBAL))
    if state.als is not None:
        als_users = state.als.customers.join(cust, CUSTOMER_ID, "left_semi")
        factors = AlsFactors(state.als.model, als_users, state.als.articles)
        seen = tx.select(CUSTOMER_ID, ARTICLE_ID).distinct() if exclude_seen else None
        add(
            "als",
            als_candidates(factors, state.sellable, config.als_candidates, exclude=seen),
        )
    if state.itemitem is not None:
        add(
            "itemitem",
            itemitem_candidates(
                state.itemitem,
                state.interactions.join(cust, CUSTOMER_ID, "left_semi"),
                state.sellable,
                config.itemitem_candidates,
                exclude=tx.select(CUSTOMER_ID, ARTICLE_ID).distinct() if exclude_seen else None,
            ),
        )
    recent = _recent_purchases(state, config).join(cust, CUSTOMER_ID, "left_semi")

    def via_recent(pairs: DataFrame, other: str) -> DataFrame:
        """Articles paired with a recent purchase, weighted by it; ``_src`` is the bought one."""
        return recent.join(
            pairs.withColumnRenamed(ARTICLE_ID, "_src"), F.col("_src") == recent[ARTICLE_ID]
        ).select(
            CUSTOMER_ID,
            F.col(other).alias(ARTICLE_ID),
            (F.col(SCORE) * F.col("w") / (F.col("w") + 1)).alias(SCORE),
            "_src",
        )

    # Similar to recent purchases and completing their look, explained by the bought article.
    add(
        "similar",
        via_recent(state.similar, SIMILAR_ARTICLE_ID),
        F.xxhash64("_src"),
    )
    add(
        "complement",
        via_recent(state.complements, COMPLEMENT_ARTICLE_ID),
        F.xxhash64("_src"),
    )
    profiles = customer_profiles(recent, state.vectors)
    seen = tx.select(CUSTOMER_ID, ARTICLE_ID).distinct()
    # Content-profile candidates always skip what the customer has: they are for discovery
    # (new articles without sales reach customers this way).
    add(
        "content",
        content_candidates(
            profiles, state.vectors, state.pool, config.content_candidates, exclude=seen
        ),
    )
    trend = trending_articles(state, config)
    add(
        "trending",
        cust.crossJoin(F.broadcast(trend.select(ARTICLE_ID, SCORE))),
    )

    merged = parts[0]
    for p in parts[1:]:
        merged = merged.unionByName(p, allowMissingColumns=True)
    buckets = bucket_count(cust.count() * max_candidates_per_customer(config))
    merged = merged.withColumn(BUCKET, customer_bucket(buckets)).repartition(buckets, BUCKET)
    aggs = []
    for s in SOURCES:
        aggs.append(F.max(f"s_{s}").alias(f"s_{s}"))
        if s in REASON_CODES:
            # Numeric codes keep this a hash aggregation (strings would force a sort).
            aggs.append(F.max_by(f"r_{s}", f"s_{s}").alias(f"r_{s}"))
    aggs += [F.max(c).alias(c) for c in HISTORY_COLUMNS]
    cand = merged.groupBy(BUCKET, CUSTOMER_ID, ARTICLE_ID).agg(*aggs)
    cand = cand.join(F.broadcast(state.sellable.select(ARTICLE_ID)), ARTICLE_ID, "left_semi")
    if exclude_seen or drop_bought:
        cand = cand.join(
            tx.select(CUSTOMER_ID, ARTICLE_ID).distinct(), [CUSTOMER_ID, ARTICLE_ID], "left_anti"
        )
    base = _add_features(cand, state, tx, config)
    if not with_ranks:
        return base
    schema = StructType([f for f in base.schema.fields if f.name != BUCKET])
    for name, _ in RANK_FEATURES:
        schema = schema.add(name, "double")
    lookup = als_lookup(state.als) if state.als is not None else None
    return customer_buckets(base, partial(with_rank_features, als=lookup), schema)


def trending_articles(state: ShopState, config: RecsConfig) -> DataFrame:
    """(article_id, score): sellable articles whose last-7-day sales most exceed their
    previous 3 weeks' pace (smoothed), top ``trending_candidates``."""
    days_ago = F.datediff(F.to_date(F.lit(state.as_of)), F.col(PURCHASE_DATE))
    units = F.coalesce(F.col(QUANTITY).cast("double"), F.lit(1.0))
    stats = (
        state.transactions.where(days_ago.between(0, 27))
        .groupBy(ARTICLE_ID)
        .agg(
            F.sum(F.when(days_ago < 7, units).otherwise(0.0)).alias("_u7"),
            F.sum(F.when(days_ago >= 7, units).otherwise(0.0)).alias("_u21"),
        )
        .join(state.sellable, ARTICLE_ID, "left_semi")
    )
    # Growth times volume, so three sales against none do not beat a real hit.
    score = (F.col("_u7") + 1) / (F.col("_u21") / 3 + 1) * F.log1p(F.col("_u7"))
    order = Window.orderBy(F.col(SCORE).desc(), F.col(ARTICLE_ID))
    return (
        stats.select(ARTICLE_ID, score.alias(SCORE))
        .withColumn("_r", F.row_number().over(order))
        .where(F.col("_r") <= config.trending_candidates)
        .drop("_r")
    )


def _add_features(
    cand: DataFrame, state: ShopState, tx: DataFrame, config: RecsConfig
) -> DataFrame:
    as_of = F.to_date(F.lit(state.as_of))
    cust = tx.groupBy(CUSTOMER_ID).agg(
        F.count(F.lit(1)).alias("_c_n"), F.max(PURCHASE_DATE).alias("_c_last")
    )
    glob = (
        decayed_purchases(state.transactions, state.as_of, config.popularity_half_life_days)
        .groupBy(ARTICLE_ID)
        .agg(F.sum("w").alias("_g"))
    )
    glob = glob.select(
        ARTICLE_ID, (F.col("_g") / F.max("_g").over(Window.partitionBy())).alias("_g")
    )
    df = cand.join(cust, CUSTOMER_ID, "left").join(F.broadcast(glob), ARTICLE_ID, "left")
    z = lambda c: F.coalesce(F.col(c).cast("double"), F.lit(0.0))  # noqa: E731
    feats = {
        # The ALS score of every candidate, not only of ALS's own top ones: filled in
        # the pandas pass over the customer's bucket (with_als_scores).
        "f_als": F.lit(0.0),
        "f_itemitem": z("s_itemitem"),
        "f_rep_w": F.log1p(z("_rep_w")),
        "f_rep_n": F.log1p(z("_rep_n")),
        # 1 for a purchase today, fading to 0 with age; 0 if never bought.
        "f_rep_days": F.when(
            F.col("_rep_last").isNotNull(),
            F.lit(1.0) / (F.lit(1.0) + F.datediff(as_of, F.col("_rep_last")) / F.lit(7.0)),
        ).otherwise(0.0),
        "f_pop": z("s_popular"),
        "f_pop_global": z("_g"),
        "f_trend": F.log1p(z("s_trending")),
        "f_content": z("s_content"),
        "f_complement": F.log1p(z("s_complement")),
        "f_similar": z("s_similar"),
        "f_cust_freq": F.log1p(z("_c_n")),
        "f_cust_recency": F.when(
            F.col("_c_last").isNotNull(),
            F.lit(1.0) / (F.lit(1.0) + F.datediff(as_of, F.col("_c_last")) / F.lit(7.0)),
        ).otherwise(0.0),
    }
    for s in SOURCES:
        feats[f"is_{s}"] = F.col(f"s_{s}").isNotNull().cast("double")
    codes = [F.col(f"r_{s}") for s in REASON_CODES]
    return df.select(
        BUCKET, CUSTOMER_ID, ARTICLE_ID, *codes, *[v.alias(k) for k, v in feats.items()]
    )


# Ranks within the customer's candidates: raw ALS dot products and popularity shares are
# on different scales per customer, their order is what carries over.
RANK_FEATURES = (
    ("f_als_rank", "f_als"),
    ("f_itemitem_rank", "f_itemitem"),
    ("f_pop_rank", "f_pop_global"),
    ("f_rep_rank", "f_rep_w"),
)


def positions(groups: np.ndarray, value: np.ndarray, tie: np.ndarray) -> np.ndarray:
    """0-based position of every row within its group, ``value`` descending, then ``tie``
    ascending (what ``row_number() - 1`` over such a window gives), vectorized."""
    order = np.lexsort((tie, -value, groups))
    g = groups[order]
    index = np.arange(len(order))
    first = np.maximum.accumulate(np.where(np.r_[True, g[1:] != g[:-1]], index, 0))
    out = np.empty(len(order), dtype=np.int64)
    out[order] = index - first
    return out


def customer_article_codes(pdf: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(customer codes, article codes); article codes follow the ids' sort order, so
    ties break by article_id as in the rest of the recommender."""
    customers = pd.factorize(pdf[CUSTOMER_ID])[0]
    articles = pd.factorize(pdf[ARTICLE_ID], sort=True)[0]
    return customers, articles


def with_rank_features(pdf: pd.DataFrame, als=None) -> pd.DataFrame:
    """Fill ``f_als`` (with ``als``, an :func:`als_lookup` broadcast) and add
    RANK_FEATURES (1 / log2(1 + position) within the customer) to one bucket of whole
    customers' candidates. Only articles the customer bought have a repurchase rank,
    only EASE's candidates an item-to-item rank."""
    return add_rank_features(with_als_scores(pdf, als), *customer_article_codes(pdf))


def with_als_scores(pdf: pd.DataFrame, als) -> pd.DataFrame:
    if als is not None:
        pdf["f_als"] = als_scores(als, pdf[CUSTOMER_ID].to_numpy(), pdf[ARTICLE_ID].to_numpy())
    return pdf


def add_rank_features(pdf: pd.DataFrame, customers: np.ndarray, articles: np.ndarray):
    for name, col in RANK_FEATURES:
        position = positions(customers, pdf[col].to_numpy(np.float64), articles)
        pdf[name] = 1.0 / np.log2(position + 2.0)
    pdf["f_rep_rank"] *= pdf["is_repurchase"]
    pdf["f_itemitem_rank"] *= pdf["is_itemitem"]
    return pdf


def max_candidates_per_customer(config: RecsConfig) -> int:
    """An estimate of the most candidates one customer gets (sizes the buckets)."""
    return (
        config.als_candidates
        + config.itemitem_candidates
        + config.content_candidates
        + config.popular_candidates
        + config.trending_candidates
        + config.recent_articles * (config.similar_top_n + config.complement_top_n)
        + 25  # repurchase: the articles the customer bought
    )
