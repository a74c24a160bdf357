"""Popularity candidates: recency-weighted popularity by customer group (segment, else
age band, else the whole shop).

Candidate frames share one shape: (customer_id, article_id, score, reason);
:func:`spark_jobs.recommend.baseline.top_k_per_customer` turns candidates into ranked
recommendations.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from spark_jobs.recommend.candidates.inputs import decayed_purchases, sellable_articles
from spark_jobs.recommend.columns import (
    AGE_BAND,
    ARTICLE_ID,
    CUSTOMER_ID,
    REASON,
    REASON_POPULAR_GLOBAL,
    REASON_POPULAR_SEGMENT,
    SCORE,
    SEGMENT,
)
from spark_jobs.recommend.config import RecsConfig

GROUP_LEVEL = "group_level"
GROUP_VALUE = "group_value"
_GLOBAL = "global"


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
