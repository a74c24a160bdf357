"""What the candidate sources read: the sellable articles and the recency-decayed
purchases."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from spark_jobs.recommend.columns import (
    ARTICLE_ID,
    CUSTOMER_ID,
    IS_SELLABLE,
    PURCHASE_DATE,
    QUANTITY,
)


def sellable_articles(articles: DataFrame) -> DataFrame:
    """article_id of the articles the shop can sell today."""
    return articles.where(F.coalesce(F.col(IS_SELLABLE), F.lit(False))).select(ARTICLE_ID)


def decayed_purchases(transactions: DataFrame, run_date: str, half_life_days: float) -> DataFrame:
    """Transactions of known customers up to the run date with a recency weight
    ``units * 0.5 ** (days_ago / half_life)`` (column ``w``)."""
    days_ago = F.datediff(F.to_date(F.lit(run_date)), F.col(PURCHASE_DATE))
    units = (
        F.coalesce(F.col(QUANTITY).cast("double"), F.lit(1.0))
        if QUANTITY in transactions.columns
        else F.lit(1.0)
    )
    return (
        transactions.where(F.col(CUSTOMER_ID).isNotNull() & (days_ago >= 0))
        .withColumn("w", units * F.pow(F.lit(0.5), days_ago / F.lit(float(half_life_days))))
        .select(CUSTOMER_ID, ARTICLE_ID, PURCHASE_DATE, "w")
    )
