"""Complete the look: articles from other product groups bought in the same basket.

A basket is one customer's purchases within ``basket_days`` days (counted back from
the run date). For every pair of articles from different product groups bought in the
same basket, the score is a shrunk lift ``n_ab * N / ((n_a + s) * (n_b + s))``: plain
lift rewards pairs of rare articles seen together once, the shrinkage ``s`` keeps
well-supported pairs on top. Articles with too little history fall back to a content
rule: the best sellers of other product groups in the same index group.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from spark_jobs.recommend.columns import (
    ARTICLE_ID,
    COMPLEMENT_ARTICLE_ID,
    CUSTOMER_ID,
    INDEX_GROUP,
    OUTFIT_COMPLEMENTS_COLUMNS,
    PRODUCT_GROUP,
    PURCHASE_DATE,
    RANK,
    SCORE,
    SUPPORT,
)
from spark_jobs.recommend.config import RecsConfig


def baskets(transactions: DataFrame, run_date: str, config: RecsConfig) -> DataFrame:
    """(basket_id, article_id) distinct, for baskets of 2..max_basket_articles articles."""
    days_ago = F.datediff(F.to_date(F.lit(run_date)), F.col(PURCHASE_DATE))
    items = (
        transactions.where(F.col(CUSTOMER_ID).isNotNull() & (days_ago >= 0))
        .select(
            F.concat_ws(
                "|",
                F.col(CUSTOMER_ID),
                F.floor(days_ago / F.lit(config.basket_days)).cast("string"),
            ).alias("basket_id"),
            ARTICLE_ID,
        )
        .distinct()
    )
    # Huge baskets (wholesale buyers) would square the pair count and say little.
    size = F.count(F.lit(1)).over(Window.partitionBy("basket_id"))
    return (
        items.withColumn("_n", size)
        .where((F.col("_n") >= 2) & (F.col("_n") <= config.max_basket_articles))
        .drop("_n")
    )


def co_purchase_complements(b: DataFrame, articles: DataFrame, config: RecsConfig) -> DataFrame:
    """(article_id, complement_article_id, score, support) from basket co-purchases
    across different product groups, support >= complement_min_support. ``b``: the
    :func:`baskets` (read several times: cache it)."""
    n_baskets = b.select("basket_id").distinct().count()
    if n_baskets == 0:
        return b.sparkSession.createDataFrame(
            [],
            f"{ARTICLE_ID} string, {COMPLEMENT_ARTICLE_ID} string, {SCORE} double, {SUPPORT} long",
        )
    groups = articles.select(
        ARTICLE_ID, F.coalesce(F.col(PRODUCT_GROUP), F.lit("unknown")).alias("_pg")
    )
    b = b.join(groups, ARTICLE_ID)
    counts = b.groupBy(ARTICLE_ID).agg(F.count(F.lit(1)).alias("_na"))
    left = b.select("basket_id", F.col(ARTICLE_ID).alias("_a"), F.col("_pg").alias("_pga"))
    right = b.select("basket_id", F.col(ARTICLE_ID).alias("_b"), F.col("_pg").alias("_pgb"))
    pairs = (
        left.join(right, "basket_id")
        .where(F.col("_pga") != F.col("_pgb"))
        .groupBy("_a", "_b")
        .agg(F.count(F.lit(1)).alias(SUPPORT))
        .where(F.col(SUPPORT) >= config.complement_min_support)
    )
    ca = counts.select(F.col(ARTICLE_ID).alias("_a"), F.col("_na").alias("_n_a"))
    cb = counts.select(F.col(ARTICLE_ID).alias("_b"), F.col("_na").alias("_n_b"))
    s = float(config.complement_shrinkage)
    return (
        pairs.join(ca, "_a")
        .join(cb, "_b")
        .select(
            F.col("_a").alias(ARTICLE_ID),
            F.col("_b").alias(COMPLEMENT_ARTICLE_ID),
            (
                F.col(SUPPORT)
                * F.lit(float(n_baskets))
                / ((F.col("_n_a") + s) * (F.col("_n_b") + s))
            ).alias(SCORE),
            F.col(SUPPORT).cast("long").alias(SUPPORT),
        )
    )


def content_rule_complements(pool: DataFrame, config: RecsConfig) -> DataFrame:
    """(article_id, complement_article_id, score, support=0): best sellers (units_28d) of
    the other product groups in the article's index group, score in (0, 0.01] so real
    co-purchases always rank first."""
    units = (
        F.coalesce(F.col("units_28d"), F.lit(0)).cast("double")
        if "units_28d" in pool.columns
        else F.lit(0.0)
    )
    cand = pool.select(
        F.col(ARTICLE_ID).alias("_b"),
        F.coalesce(F.col(INDEX_GROUP), F.lit("unknown")).alias("_ig"),
        F.coalesce(F.col(PRODUCT_GROUP), F.lit("unknown")).alias("_pgb"),
        units.alias("_u"),
    )
    # The best few per (index group, product group) are enough to fill any list.
    per_group = Window.partitionBy("_ig", "_pgb").orderBy(F.col("_u").desc(), F.col("_b"))
    top = cand.withColumn("_r", F.row_number().over(per_group)).where(
        F.col("_r") <= config.complement_top_n
    )
    src = pool.select(
        F.col(ARTICLE_ID).alias(ARTICLE_ID),
        F.coalesce(F.col(INDEX_GROUP), F.lit("unknown")).alias("_ig"),
        F.coalesce(F.col(PRODUCT_GROUP), F.lit("unknown")).alias("_pga"),
    )
    return (
        src.join(F.broadcast(top), "_ig")
        .where(F.col("_pga") != F.col("_pgb"))
        .select(
            ARTICLE_ID,
            F.col("_b").alias(COMPLEMENT_ARTICLE_ID),
            (F.lit(0.01) / (F.col("_r") + F.lit(0.0))).alias(SCORE),
            F.lit(0).cast("long").alias(SUPPORT),
        )
    )


def outfit_complements(
    transactions: DataFrame, articles: DataFrame, pool: DataFrame, run_date: str, config: RecsConfig
) -> DataFrame:
    """(article_id, rank, complement_article_id, score, support): top complement_top_n
    sellable complements per pool article, co-purchases first, content rule to fill.

    Returned cached and materialized (the caller unpersists it). The baskets feed the
    basket count, the article counts and both sides of the pair join; they are cached
    while the complements are computed, so their shuffles run once instead of once per
    use, and dropped afterwards."""
    b = baskets(transactions, run_date, config).cache()
    try:
        out = _complements(co_purchase_complements(b, articles, config), pool, config).cache()
        out.count()
    finally:
        b.unpersist()
    return out


def _complements(co: DataFrame, pool: DataFrame, config: RecsConfig) -> DataFrame:
    """Co-purchase pairs ``co`` with both articles in ``pool``, plus the content rule's
    pairs (scores in (0, 0.01], below any co-purchase); per pair the higher score, then
    the top ``complement_top_n`` per article by score, ties by complement id."""
    co = co.join(pool.select(ARTICLE_ID), ARTICLE_ID, "left_semi").join(
        pool.select(F.col(ARTICLE_ID).alias(COMPLEMENT_ARTICLE_ID)),
        COMPLEMENT_ARTICLE_ID,
        "left_semi",
    )
    both = co.unionByName(content_rule_complements(pool, config))
    best = Window.partitionBy(ARTICLE_ID, COMPLEMENT_ARTICLE_ID).orderBy(F.col(SCORE).desc())
    order = Window.partitionBy(ARTICLE_ID).orderBy(
        F.col(SCORE).desc(), F.col(COMPLEMENT_ARTICLE_ID)
    )
    return (
        both.withColumn("_b", F.row_number().over(best))
        .where(F.col("_b") == 1)
        .withColumn(RANK, F.row_number().over(order).cast("int"))
        .where(F.col(RANK) <= config.complement_top_n)
        .select(*OUTFIT_COMPLEMENTS_COLUMNS)
    )
