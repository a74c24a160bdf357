"""Repurchase candidates: the sellable articles each customer bought before."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from spark_jobs.recommend.candidates.inputs import decayed_purchases, sellable_articles
from spark_jobs.recommend.columns import ARTICLE_ID, CUSTOMER_ID, REASON, REASON_REPURCHASE, SCORE
from spark_jobs.recommend.config import RecsConfig


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
