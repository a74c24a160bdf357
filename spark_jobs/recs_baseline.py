"""Baseline recommenders: recency-weighted popularity by customer group, and repurchase.

Pure DataFrame -> DataFrame functions. Candidate frames share one shape:
(customer_id, article_id, score, reason); ``top_k_per_customer`` turns candidates
into ranked recommendations.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from spark_jobs.recs_common import (
    AGE_BAND,
    ARTICLE_ID,
    CUSTOMER_ID,
    IS_SELLABLE,
    QUANTITY,
    RANK,
    REASON,
    REASON_POPULAR_GLOBAL,
    REASON_POPULAR_SEGMENT,
    REASON_REPURCHASE,
    RECOMMENDATION_COLUMNS,
    SCORE,
    SEGMENT,
    T_DAT,
    RecsConfig,
)

GROUP_LEVEL = "group_level"
GROUP_VALUE = "group_value"
_GLOBAL = "global"


def sellable_articles(articles: DataFrame) -> DataFrame:
    """article_id of the articles the shop can sell today."""
    return articles.where(F.coalesce(F.col(IS_SELLABLE), F.lit(False))).select(ARTICLE_ID)


def decayed_purchases(transactions: DataFrame, run_date: str, half_life_days: float) -> DataFrame:
    """Transactions of known customers up to the run date with a recency weight
    ``units * 0.5 ** (days_ago / half_life)`` (column ``w``)."""
    days_ago = F.datediff(F.to_date(F.lit(run_date)), F.col(T_DAT))
    units = (
        F.coalesce(F.col(QUANTITY).cast("double"), F.lit(1.0))
        if QUANTITY in transactions.columns
        else F.lit(1.0)
    )
    return (
        transactions.where(F.col(CUSTOMER_ID).isNotNull() & (days_ago >= 0))
        .withColumn("w", units * F.pow(F.lit(0.5), days_ago / F.lit(float(half_life_days))))
        .select(CUSTOMER_ID, ARTICLE_ID, T_DAT, "w")
    )


def customer_groups(customers: DataFrame, transactions: DataFrame, config: RecsConfig) -> DataFrame:
    """(customer_id, group_level, group_value): the customer's segment when it has at
    least ``min_group_buyers`` buyers, else the age band under the same rule, else global."""
    buyers = transactions.where(F.col(CUSTOMER_ID).isNotNull()).select(CUSTOMER_ID).distinct()
    with_buyer = customers.select(CUSTOMER_ID, SEGMENT, AGE_BAND).join(
        buyers.withColumn("_buyer", F.lit(1)), CUSTOMER_ID, "left"
    )

    def big_groups(col: str) -> DataFrame:
        return (
            with_buyer.where(F.col(col).isNotNull())
            .groupBy(col)
            .agg(F.sum(F.coalesce("_buyer", F.lit(0))).alias("_n"))
            .where(F.col("_n") >= config.min_group_buyers)
            .select(col, F.lit(True).alias(f"_{col}_ok"))
        )

    grouped = with_buyer.join(F.broadcast(big_groups(SEGMENT)), SEGMENT, "left").join(
        F.broadcast(big_groups(AGE_BAND)), AGE_BAND, "left"
    )
    level = (
        F.when(F.col(f"_{SEGMENT}_ok"), F.lit(SEGMENT))
        .when(F.col(f"_{AGE_BAND}_ok"), F.lit(AGE_BAND))
        .otherwise(F.lit(_GLOBAL))
    )
    value = (
        F.when(F.col(f"_{SEGMENT}_ok"), F.col(SEGMENT).cast("string"))
        .when(F.col(f"_{AGE_BAND}_ok"), F.col(AGE_BAND).cast("string"))
        .otherwise(F.lit(_GLOBAL))
    )
    return grouped.select(CUSTOMER_ID, level.alias(GROUP_LEVEL), value.alias(GROUP_VALUE))


def group_popularity(
    customers: DataFrame,
    transactions: DataFrame,
    sellable: DataFrame,
    run_date: str,
    config: RecsConfig,
    per_group: int,
) -> DataFrame:
    """Top ``per_group`` sellable articles per customer group by recency-weighted units:
    (group_level, group_value, article_id, score), score = share of the group's leader (0, 1]."""
    bought = decayed_purchases(transactions, run_date, config.popularity_half_life_days)
    attrs = customers.select(
        CUSTOMER_ID,
        F.col(SEGMENT).cast("string").alias(SEGMENT),
        F.col(AGE_BAND).cast("string").alias(AGE_BAND),
    )
    bought = bought.join(attrs, CUSTOMER_ID, "left").join(sellable, ARTICLE_ID, "left_semi")
    by_level = [
        bought.where(F.col(SEGMENT).isNotNull()).groupBy(
            F.lit(SEGMENT).alias(GROUP_LEVEL), F.col(SEGMENT).alias(GROUP_VALUE), ARTICLE_ID
        ),
        bought.where(F.col(AGE_BAND).isNotNull()).groupBy(
            F.lit(AGE_BAND).alias(GROUP_LEVEL), F.col(AGE_BAND).alias(GROUP_VALUE), ARTICLE_ID
        ),
        bought.groupBy(
            F.lit(_GLOBAL).alias(GROUP_LEVEL), F.lit(_GLOBAL).alias(GROUP_VALUE), ARTICLE_ID
        ),
    ]
    pop = by_level[0].agg(F.sum("w").alias("_pop"))
    for grouped in by_level[1:]:
        pop = pop.unionByName(grouped.agg(F.sum("w").alias("_pop")))
    w = Window.partitionBy(GROUP_LEVEL, GROUP_VALUE)
    ranked = w.orderBy(F.col("_pop").desc(), F.col(ARTICLE_ID))
    return (
        pop.withColumn("_r", F.row_number().over(ranked))
        .where(F.col("_r") <= per_group)
        .withColumn(SCORE, F.col("_pop") / F.max("_pop").over(w))
        .select(GROUP_LEVEL, GROUP_VALUE, ARTICLE_ID, SCORE)
    )


def popularity_candidates(
    customers: DataFrame,
    transactions: DataFrame,
    articles: DataFrame,
    run_date: str,
    config: RecsConfig,
    per_customer: int | None = None,
) -> DataFrame:
    """Every customer's group-popularity list: (customer_id, article_id, score, reason)."""
    per_customer = per_customer or 2 * config.top_k
    pop = group_popularity(
        customers, transactions, sellable_articles(articles), run_date, config, per_customer
    )
    groups = customer_groups(customers, transactions, config)
    reason = F.when(F.col(GROUP_LEVEL) == _GLOBAL, F.lit(REASON_POPULAR_GLOBAL)).otherwise(
        F.lit(REASON_POPULAR_SEGMENT)
    )
    # Few groups: broadcasting the lists keeps this a map-side join even for many customers.
    return groups.join(F.broadcast(pop), [GROUP_LEVEL, GROUP_VALUE]).select(
        CUSTOMER_ID, ARTICLE_ID, SCORE, reason.alias(REASON)
    )


def repurchase_candidates(
    transactions: DataFrame, articles: DataFrame, run_date: str, config: RecsConfig
) -> DataFrame:
    """Sellable articles each customer bought before, scored by recency-weighted
    frequency, squashed into (1, 2) so they rank above popularity (score <= 1)."""
    bought = decayed_purchases(transactions, run_date, config.repurchase_half_life_days)
    agg = (
        bought.join(sellable_articles(articles), ARTICLE_ID, "left_semi")
        .groupBy(CUSTOMER_ID, ARTICLE_ID)
        .agg(F.sum("w").alias("_w"))
    )
    return agg.select(
        CUSTOMER_ID,
        ARTICLE_ID,
        repurchase_score(F.col("_w")).alias(SCORE),
        F.lit(REASON_REPURCHASE).alias(REASON),
    )


def repurchase_score(weight):
    """Recency-weighted purchase frequency squashed into (1, 2): above any popularity
    score (<= 1), more weight ranks higher."""
    return F.lit(1.0) + weight / (weight + F.lit(1.0))


def top_k_per_customer(candidates: DataFrame, k: int) -> DataFrame:
    """Rank candidates per customer: one row per article (its best score and that
    score's reason), highest score first, ties by article_id; keep ranks 1..k."""
    best = Window.partitionBy(CUSTOMER_ID, ARTICLE_ID).orderBy(F.col(SCORE).desc(), F.col(REASON))
    deduped = candidates.withColumn("_b", F.row_number().over(best)).where(F.col("_b") == 1)
    order = Window.partitionBy(CUSTOMER_ID).orderBy(F.col(SCORE).desc(), F.col(ARTICLE_ID))
    return (
        deduped.withColumn(RANK, F.row_number().over(order))
        .where(F.col(RANK) <= k)
        .select(
            F.col(CUSTOMER_ID),
            F.col(RANK).cast("int").alias(RANK),
            F.col(ARTICLE_ID),
            F.col(SCORE).cast("double").alias(SCORE),
            F.col(REASON),
        )
        .select(*RECOMMENDATION_COLUMNS)
    )


def baseline_recommendations(
    customers: DataFrame,
    articles: DataFrame,
    transactions: DataFrame,
    run_date: str,
    config: RecsConfig,
) -> DataFrame:
    """Top-K per customer in ``customers``: repurchase first, then group popularity."""
    candidates = repurchase_candidates(transactions, articles, run_date, config).join(
        customers.select(CUSTOMER_ID), CUSTOMER_ID, "left_semi"
    )
    candidates = candidates.unionByName(
        popularity_candidates(
            customers, transactions, articles, run_date, config, per_customer=2 * config.top_k
        )
    )
    return top_k_per_customer(candidates, config.top_k)
