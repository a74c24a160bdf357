"""The baseline recommender (repurchase first, then group popularity) and
:func:`top_k_per_customer`, which turns candidates into ranked recommendations.

Pure DataFrame -> DataFrame functions. Candidate frames share one shape:
(customer_id, article_id, score, reason).
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from spark_jobs.recommend.candidates.popularity import popularity_candidates
from spark_jobs.recommend.candidates.repurchase import repurchase_candidates
from spark_jobs.recommend.columns import (
    ARTICLE_ID,
    CUSTOMER_ID,
    RANK,
    REASON,
    RECOMMENDATION_COLUMNS,
    SCORE,
)
from spark_jobs.recommend.config import RecsConfig


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
