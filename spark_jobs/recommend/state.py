"""The recommender's model state as of a date (:class:`ShopState`, :func:`build_state`):
ALS factors, EASE weights, content vectors and similar articles, outfit complements,
fit on the purchases up to the date with the shop as known then
(:func:`spark_jobs.recommend.asof.shop_as_of`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from spark_jobs.recommend.asof import shop_as_of
from spark_jobs.recommend.candidates.als import AlsFactors, fit_als
from spark_jobs.recommend.candidates.complements import outfit_complements
from spark_jobs.recommend.candidates.content import article_vectors, content_pool, similar_articles
from spark_jobs.recommend.candidates.inputs import decayed_purchases, sellable_articles
from spark_jobs.recommend.candidates.itemitem import ItemItemModel, fit_itemitem
from spark_jobs.recommend.columns import ARTICLE_ID, CUSTOMER_ID, PURCHASE_DATE
from spark_jobs.recommend.config import RecsConfig
from spark_jobs.recommend.timing import timed


@dataclass
class ShopState:
    """Everything the recommender learned from the data up to ``as_of``."""

    as_of: str
    customers: DataFrame
    articles: DataFrame
    transactions: DataFrame
    sellable: DataFrame
    pool: DataFrame
    als: AlsFactors | None
    itemitem: ItemItemModel | None
    interactions: DataFrame
    vectors: DataFrame
    similar: DataFrame
    complements: DataFrame
    repeat_rate: float

    def release(self) -> None:
        """Drop this state's cached frames (the validation state is not needed after training)."""
        for df in (
            self.customers,
            self.articles,
            self.sellable,
            self.pool,
            self.vectors,
            self.similar,
            self.complements,
            self.interactions,
        ):
            df.unpersist()
        if self.als is not None:
            self.als.customers.unpersist()
            self.als.articles.unpersist()


def shift_date(day: str, days: int) -> str:
    return (dt.date.fromisoformat(day) + dt.timedelta(days=days)).isoformat()


def repeat_rate(transactions: DataFrame) -> float:
    """Share of purchase-days (customer, article, day) on which the customer had already
    bought the article on an earlier day: how much this shop's customers repeat."""
    days = (
        transactions.where(F.col(CUSTOMER_ID).isNotNull())
        .select(CUSTOMER_ID, ARTICLE_ID, PURCHASE_DATE)
        .distinct()
    )
    first = F.min(PURCHASE_DATE).over(Window.partitionBy(CUSTOMER_ID, ARTICLE_ID))
    row = (
        days.select((F.col(PURCHASE_DATE) > first).cast("double").alias("_r"))
        .agg(F.avg("_r").alias("r"))
        .first()
    )
    return float(row["r"] or 0.0)


def interactions_as_of(transactions: DataFrame, as_of: str, config: RecsConfig) -> DataFrame:
    """(customer_id, article_id, weight): recency-decayed units, the same formula as the
    dbt model ``int_interactions_weighted`` (half-life ``interaction_half_life_days``)."""
    bought = decayed_purchases(transactions, as_of, config.interaction_half_life_days)
    return bought.groupBy(CUSTOMER_ID, ARTICLE_ID).agg(F.sum("w").alias("weight"))


def build_state(
    customers: DataFrame,
    articles: DataFrame,
    transactions: DataFrame,
    as_of: str,
    config: RecsConfig,
) -> ShopState:
    """Fit every model on the purchases up to ``as_of`` (each step materialized, so the
    step log shows where the time goes). Customers' segments and the articles' listing,
    newness and sellability are those known at ``as_of`` (:func:`shop_as_of`), for the
    nightly lists, the ranker's training state and the holdout alike."""
    with timed(f"{as_of} articles and sellable"):
        tx = transactions.where(F.col(PURCHASE_DATE) <= F.to_date(F.lit(as_of))).cache()
        customers, arts = shop_as_of(customers, articles, tx, as_of, config)
        customers = customers.cache()
        arts = arts.cache()
        sellable = sellable_articles(arts).cache()
        pool = content_pool(arts, config).cache()
        pool.count()
        rate = repeat_rate(tx)
    with timed(f"{as_of} ALS fit"):
        interactions = interactions_as_of(tx, as_of, config).cache()
        als = fit_als(interactions, "weight", config) if interactions.head(1) else None
        if als is not None:
            als.customers.cache().count()
            als.articles.cache().count()
    with timed(f"{as_of} item-to-item (EASE) fit"):
        itemitem = fit_itemitem(interactions, config) if als is not None else None
    with timed(f"{as_of} content vectors and similar articles"):
        # Only the articles content scoring can touch: the pool (candidates, similar
        # articles) and what customers bought (their profiles); a full catalogue lists
        # many more that are neither.
        relevant = pool.select(ARTICLE_ID).unionByName(tx.select(ARTICLE_ID)).distinct()
        vectors = article_vectors(arts.join(relevant, ARTICLE_ID, "left_semi"), config).cache()
        similar = similar_articles(vectors, arts, pool, config).cache()
        similar.count()
    with timed(f"{as_of} outfit complements"):
        complements = outfit_complements(tx, arts, pool, as_of, config)
    return ShopState(
        as_of=as_of,
        customers=customers,
        articles=arts,
        transactions=tx,
        sellable=sellable,
        pool=pool,
        als=als,
        itemitem=itemitem,
        interactions=interactions,
        vectors=vectors,
        similar=similar,
        complements=complements,
        repeat_rate=rate,
    )
