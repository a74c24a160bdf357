"""The AI shopping guide: candidates from every source, a learned ranker, business rules.

For a run date D the recommender (:func:`recommend_as_of`)
1. computes its model state as of a date (ALS factors, EASE weights, content vectors
   and profiles, complements, popularity, trending) with
   :func:`spark_jobs.recommend.state.build_state`;
2. generates candidates per customer from ALS, item-to-item EASE, repurchase, content
   similarity to recent purchases and to the customer's content profile, outfit
   complements, segment popularity and trending
   (:func:`spark_jobs.recommend.features.candidate_features`);
3. ranks them with a logistic regression (Spark MLlib) on the candidates' features,
   trained on a validation window carved from the end of the training data (models
   fit before the window, labels = purchases in it); without enough validation
   purchases it falls back to the fixed weights in :class:`RecsConfig`
   (:mod:`spark_jobs.recommend.ranker`);
4. applies the business rules (sellable only, at most M per product type, top K) and
   explains each row with a reason (:func:`ranked_lists`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from spark_jobs.recommend.baseline import top_k_per_customer
from spark_jobs.recommend.buckets import customer_buckets
from spark_jobs.recommend.candidates.als import (
    REASON_ALS,
    AlsFactors,
    als_candidates,
    als_lookup,
    fixed_order_dot,
)
from spark_jobs.recommend.candidates.itemitem import REASON_ITEMITEM
from spark_jobs.recommend.candidates.popularity import popularity_candidates
from spark_jobs.recommend.candidates.repurchase import repurchase_candidates
from spark_jobs.recommend.columns import (
    ARTICLE_ID,
    CUSTOMER_ID,
    PROD_NAME,
    PRODUCT_TYPE,
    RANK,
    REASON,
    REASON_POPULAR_GLOBAL,
    REASON_POPULAR_SEGMENT,
    REASON_REPURCHASE,
    REASON_TRENDING,
    SCORE,
)
from spark_jobs.recommend.config import RecsConfig
from spark_jobs.recommend.features import (
    FEATURES,
    SOURCES,
    add_rank_features,
    candidate_features,
    customer_article_codes,
    positions,
    with_als_scores,
)
from spark_jobs.recommend.ranker import Ranker, fit_ranker
from spark_jobs.recommend.state import ShopState, build_state
from spark_jobs.recommend.timing import timed

REASON_CONTENT = "matches your style"


def _ranked_lists_of_bucket(
    pdf: pd.DataFrame,
    coefficients: np.ndarray,
    intercept: float,
    config: RecsConfig,
    names,
    als=None,
) -> pd.DataFrame:
    """Score one bucket's candidates with the linear ranker, keep each customer's top K
    with at most ``max_per_product_type`` per product type and explain them."""
    customers, articles = customer_article_codes(pdf)
    pdf = add_rank_features(with_als_scores(pdf, als), customers, articles)
    score = fixed_order_dot(pdf[list(FEATURES)].to_numpy(np.float64), coefficients) + intercept
    kind = pd.factorize(pdf["_pt"].fillna(pdf[ARTICLE_ID]))[0]
    in_type = positions(customers * (int(kind.max(initial=0)) + 1) + kind, score, articles)
    keep = np.flatnonzero(in_type < config.max_per_product_type)
    position = positions(customers[keep], score[keep], articles[keep])
    top = position < config.top_k
    rows = keep[top]
    return pd.DataFrame(
        {
            CUSTOMER_ID: pdf[CUSTOMER_ID].to_numpy()[rows],
            RANK: (position[top] + 1).astype(np.int32),
            ARTICLE_ID: pdf[ARTICLE_ID].to_numpy()[rows],
            SCORE: score[rows],
            REASON: reasons(pdf.iloc[rows], names.value),
        }
    )


def reasons(rows: pd.DataFrame, names: pd.Series) -> np.ndarray:
    """The human-readable reason of each candidate row: its first source in SOURCES
    order. ``names``: article name by xxhash64 of the article id."""
    fixed = {
        "repurchase": REASON_REPURCHASE,
        "itemitem": REASON_ITEMITEM,
        "als": REASON_ALS,
        "content": REASON_CONTENT,
        "trending": REASON_TRENDING,
    }
    prefix = {"similar": "similar to ", "complement": "completes the look with "}
    out = np.full(len(rows), REASON_POPULAR_SEGMENT, dtype=object)
    open_ = np.ones(len(rows), dtype=bool)
    for s in SOURCES:
        has = open_ & (rows[f"is_{s}"].to_numpy() > 0)
        if not has.any():
            continue
        if s in fixed:
            out[has] = fixed[s]
        elif s == "popular":
            is_global = rows["r_popular"].to_numpy()[has] == 1
            out[has] = np.where(is_global, REASON_POPULAR_GLOBAL, REASON_POPULAR_SEGMENT)
        else:
            bought = names.reindex(rows[f"r_{s}"].to_numpy()[has]).fillna("what you bought")
            out[has] = (prefix[s] + bought.astype(str)).to_numpy()
        open_ &= ~has
    return out


def ranked_lists(
    features: DataFrame,
    ranker: Ranker,
    articles: DataFrame,
    config: RecsConfig,
    als: AlsFactors | None,
    rows: int | None = None,
) -> DataFrame:
    """Top K per customer with at most ``max_per_product_type`` of one product type, from
    candidate features without their RANK_FEATURES (``candidate_features(...,
    with_ranks=False)``): one pass over buckets of whole customers adds the ranks,
    scores, applies the rules and cuts, instead of a window sort per rank and rule.
    ``als``: the factors that fill ``f_als`` (required: the candidates carry no ALS
    score before this pass). ``rows``: needed only for features that do not sit in
    customer buckets yet (no ``_bucket`` column): their row count or an upper bound."""
    types = (
        articles.select(ARTICLE_ID, F.col(PRODUCT_TYPE).alias("_pt"))
        if PRODUCT_TYPE in articles.columns
        else articles.select(ARTICLE_ID, F.lit(None).cast("string").alias("_pt"))
    )
    coefficients, intercept = ranker.linear()
    named = articles.select(
        F.xxhash64(ARTICLE_ID).alias("_h"),
        F.coalesce(F.col(PROD_NAME), F.col(ARTICLE_ID)).alias("_name"),
    ).toPandas()
    names = pd.Series(named["_name"].to_numpy(), index=named["_h"].to_numpy())
    names = names[~names.index.duplicated()]
    fn = partial(
        _ranked_lists_of_bucket,
        coefficients=coefficients,
        intercept=intercept,
        config=config,
        names=articles.sparkSession.sparkContext.broadcast(names),
        als=als_lookup(als) if als is not None else None,
    )
    schema = (
        f"{CUSTOMER_ID} string, {RANK} int, {ARTICLE_ID} string, {SCORE} double, {REASON} string"
    )
    return customer_buckets(
        features.join(F.broadcast(types), ARTICLE_ID, "left"), fn, schema, rows=rows
    )


# -- the whole recommender ------------------------------------------------------------
@dataclass
class Recommendations:
    """What one run produces: the ranked lists, the side tables and the single-model
    lists evaluation compares against."""

    hybrid: DataFrame
    als: DataFrame | None
    popularity: DataFrame
    repurchase: DataFrame
    similar_articles: DataFrame
    outfit_complements: DataFrame
    ranker: Ranker
    repeat_rate: float
    sellable_count: int
    state: ShopState | None = None

    def release(self) -> None:
        """Unpersist the cached model state (the session may be shared with other jobs)."""
        if self.state is not None:
            self.state.release()


def recommend_as_of(
    customers: DataFrame,
    articles: DataFrame,
    transactions: DataFrame,
    run_date: str,
    config: RecsConfig,
    *,
    score_customers: DataFrame | None = None,
    exclude_seen: bool = False,
    ranker: Ranker | None = None,
    validation: str = "time",
) -> Recommendations:
    """Run the whole recommender as of ``run_date``. ``score_customers`` limits who gets
    lists (default: everyone in ``customers``)."""
    ranker = ranker or fit_ranker(
        customers, articles, transactions, run_date, config, exclude_seen, validation
    )
    state = build_state(customers, articles, transactions, run_date, config)
    targets = (
        customers
        if score_customers is None
        else customers.join(score_customers.select(CUSTOMER_ID), CUSTOMER_ID, "left_semi")
    )
    with timed(f"{run_date} candidate sources prepared (models on the driver, plans)"):
        drop_bought = not ranker.allows_repeats(state, config)
        feats = candidate_features(
            state, targets, config, exclude_seen, drop_bought, with_ranks=False
        )
        hybrid = ranked_lists(feats, ranker, state.articles, config, als=state.als)
    seen = state.transactions.select(CUSTOMER_ID, ARTICLE_ID).distinct() if exclude_seen else None
    als = None
    if state.als is not None:
        users = state.als.customers.join(targets, CUSTOMER_ID, "left_semi")
        als = top_k_per_customer(
            als_candidates(
                AlsFactors(state.als.model, users, state.als.articles),
                state.sellable,
                config.top_k,
                exclude=seen,
            ),
            config.top_k,
        )
    pop = popularity_candidates(
        state.customers,
        state.transactions,
        state.articles,
        run_date,
        config,
        per_customer=config.top_k * 2 + (50 if exclude_seen else 0),
    )
    pop = pop.join(targets.select(CUSTOMER_ID), CUSTOMER_ID, "left_semi")
    if seen is not None:
        pop = pop.join(seen, [CUSTOMER_ID, ARTICLE_ID], "left_anti")
    rep = repurchase_candidates(
        state.transactions.join(targets, CUSTOMER_ID, "left_semi"), state.articles, run_date, config
    )
    return Recommendations(
        hybrid=hybrid,
        als=als,
        popularity=top_k_per_customer(pop, config.top_k),
        repurchase=top_k_per_customer(rep, config.top_k),
        similar_articles=state.similar,
        outfit_complements=state.complements,
        ranker=ranker,
        repeat_rate=state.repeat_rate,
        sellable_count=state.sellable.count(),
        state=state,
    )
