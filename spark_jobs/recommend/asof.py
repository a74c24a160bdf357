"""The shop as it was known at a cut: one code path for every recommender model state.

The nightly lists at D, the ranker's training state, the nightly holdout at D-7 and
``shopguide evaluate recs`` all see the lake inputs through :func:`shop_as_of`, so no
state is built with information from after its cut:

- customers: ``segment`` (age band | preferred index group) from the purchases up to
  the cut, by the rules of ``int_customer_purchases_aggregated`` / ``customer_profiles``
  (the run-date mart's segment counts the holdout week's purchases);
- articles: only those listed by the cut (``first_seen_date <= cut``), with sales
  statistics and the ``is_new`` / ``is_sellable`` flags of the ``article_features``
  mart (dbt vars ``new_article_days`` and ``sellable_days``) recomputed from the sales
  up to the cut. A never-sold article listed long ago is not new, so an article first
  sold after the cut is neither new nor sellable at the cut.

At the run date itself the result equals the marts (tests check that), so the
production lists are unchanged.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from spark_jobs.recommend.columns import (
    AGE_BAND,
    ARTICLE_ID,
    CUSTOMER_ID,
    INDEX_GROUP,
    PURCHASE_DATE,
    QUANTITY,
    SEGMENT,
)
from spark_jobs.recommend.config import RecsConfig

FIRST_SEEN = "first_seen_date"
PREFERRED_INDEX_GROUP = "preferred_index_group"


def _units(transactions: DataFrame):
    return (
        F.coalesce(F.col(QUANTITY).cast("double"), F.lit(1.0))
        if QUANTITY in transactions.columns
        else F.lit(1.0)
    )


def listed_articles(articles: DataFrame, as_of: str) -> DataFrame:
    """The catalogue as of ``as_of``: articles first seen on or before it (an article
    without a first-seen date counts as listed)."""
    if FIRST_SEEN not in articles.columns:
        return articles
    seen = F.to_date(F.col(FIRST_SEEN))
    return articles.where(seen.isNull() | (seen <= F.to_date(F.lit(as_of))))


def articles_as_of(
    articles: DataFrame, transactions: DataFrame, as_of: str, config: RecsConfig
) -> DataFrame:
    """Articles listed by ``as_of`` with ``first_sale_date``, ``last_sale_date``,
    ``units_7d``, ``units_28d``, ``is_new`` and ``is_sellable`` recomputed from the
    ``transactions`` (anonymous sales included) up to ``as_of``, by the rules of the
    dbt mart ``article_features``:

    - new: first sold less than ``new_article_days`` ago, or never sold and first seen
      less than ``new_article_days`` ago (never sold and no first-seen date: not new);
    - sellable: last sold less than ``sellable_days`` ago, or never sold and new.
    """
    cut = F.to_date(F.lit(as_of))
    days_ago = F.datediff(cut, F.col(PURCHASE_DATE))
    units = _units(transactions)
    sales = (
        transactions.where(days_ago >= 0)
        .groupBy(ARTICLE_ID)
        .agg(
            F.min(PURCHASE_DATE).alias("first_sale_date"),
            F.max(PURCHASE_DATE).alias("last_sale_date"),
            F.sum(F.when(days_ago < 7, units).otherwise(0.0)).alias("units_7d"),
            F.sum(F.when(days_ago < 28, units).otherwise(0.0)).alias("units_28d"),
        )
    )
    drop = [
        c
        for c in (
            "first_sale_date",
            "last_sale_date",
            "units_7d",
            "units_28d",
            "is_new",
            "is_sellable",
        )
        if c in articles.columns
    ]
    listed = listed_articles(articles.drop(*drop), as_of)
    joined = listed.join(sales, ARTICLE_ID, "left")
    first_age = F.datediff(cut, F.col("first_sale_date"))
    last_age = F.datediff(cut, F.col("last_sale_date"))
    seen_age = (
        F.datediff(cut, F.to_date(F.col(FIRST_SEEN)))
        if FIRST_SEEN in articles.columns
        else F.lit(None).cast("int")
    )
    is_new = F.coalesce(
        F.when(F.col("first_sale_date").isNotNull(), first_age < config.new_article_days).otherwise(
            seen_age < config.new_article_days
        ),
        F.lit(False),
    )
    is_sellable = F.coalesce(last_age < config.sellable_days, F.lit(False)) | (
        F.col("last_sale_date").isNull() & F.col("is_new")
    )
    return (
        joined.withColumn("units_7d", F.coalesce(F.col("units_7d"), F.lit(0.0)))
        .withColumn("units_28d", F.coalesce(F.col("units_28d"), F.lit(0.0)))
        .withColumn("is_new", is_new)
        .withColumn("is_sellable", is_sellable)
    )


def customers_as_of(
    customers: DataFrame, articles: DataFrame, transactions: DataFrame, as_of: str
) -> DataFrame:
    """``customers`` with ``preferred_index_group`` and ``segment`` recomputed from the
    purchases up to ``as_of`` (the rules of ``int_customer_purchases_aggregated`` and
    ``customer_profiles``): the index group with the most units (ties: the smallest
    name), segment = age band | that group, or | 'any' without purchases (null without
    an age band)."""
    if AGE_BAND not in customers.columns:
        return customers
    cut = F.to_date(F.lit(as_of))
    bought = transactions.where(F.col(CUSTOMER_ID).isNotNull() & (F.col(PURCHASE_DATE) <= cut))
    groups = (
        articles.select(ARTICLE_ID, F.col(INDEX_GROUP).cast("string").alias("_ig"))
        if INDEX_GROUP in articles.columns
        else articles.select(ARTICLE_ID, F.lit(None).cast("string").alias("_ig"))
    ).dropDuplicates([ARTICLE_ID])
    per_group = (
        bought.select(CUSTOMER_ID, ARTICLE_ID, _units(transactions).alias("_u"))
        .join(groups, ARTICLE_ID, "left")
        .where(F.col("_ig").isNotNull())
        .groupBy(CUSTOMER_ID, "_ig")
        .agg(F.sum("_u").alias("_u"))
    )
    order = Window.partitionBy(CUSTOMER_ID).orderBy(F.col("_u").desc(), F.col("_ig"))
    preferred = (
        per_group.withColumn("_r", F.row_number().over(order))
        .where(F.col("_r") == 1)
        .select(CUSTOMER_ID, F.col("_ig").alias(PREFERRED_INDEX_GROUP))
    )
    base = customers.drop(*[c for c in (SEGMENT, PREFERRED_INDEX_GROUP) if c in customers.columns])
    segment = F.concat(
        F.col(AGE_BAND).cast("string"),
        F.lit("|"),
        F.coalesce(F.col(PREFERRED_INDEX_GROUP), F.lit("any")),
    )
    return base.join(preferred, CUSTOMER_ID, "left").withColumn(SEGMENT, segment)


def shop_as_of(
    customers: DataFrame,
    articles: DataFrame,
    transactions: DataFrame,
    as_of: str,
    config: RecsConfig,
) -> tuple[DataFrame, DataFrame]:
    """(customers, articles) as known at ``as_of``: the one function every model state
    is built from (``transactions`` may run past ``as_of``; later rows are ignored)."""
    tx = transactions.where(F.col(PURCHASE_DATE) <= F.to_date(F.lit(as_of)))
    arts = articles_as_of(articles, tx, as_of, config)
    # Segments use the index group of every article bought, listed or not at the cut
    # (an article bought by the cut was listed by it).
    custs = customers_as_of(customers, articles, tx, as_of)
    return custs, arts
