"""The AI shopping guide: candidates from every source, a learned ranker, business rules.

For a run date D the recommender
1. computes its model state as of a date (ALS factors, EASE weights, content vectors
   and profiles, complements, popularity, trending) with :func:`build_state`;
2. generates candidates per customer from ALS, item-to-item EASE, repurchase, content
   similarity to recent purchases and to the customer's content profile, outfit
   complements, segment popularity and trending (:func:`candidate_features`);
3. ranks them with a logistic regression (Spark MLlib) on the candidates' features,
   trained on a validation window carved from the end of the training data (models
   fit before the window, labels = purchases in it); without enough validation
   purchases it falls back to the fixed weights in :class:`RecsConfig`;
4. applies the business rules (sellable only, at most M per product type, top K) and
   explains each row with a reason.

Why this module is over 600 lines: model state, candidate features, ranker and list
building share ``ShopState`` and the feature columns, and moved as one unit so far; the
split into ``recommend/`` (candidates, ranker, lists) is open in the redesign issue, to
be done as a behaviour-preserving move checked with ``shopguide fingerprint``.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd
from pyspark.ml.classification import LogisticRegression, LogisticRegressionModel
from pyspark.ml.feature import VectorAssembler
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from spark_jobs.recs_als import (
    REASON_ALS,
    AlsFactors,
    als_candidates,
    als_lookup,
    als_scores,
    fit_als,
    fixed_order_dot,
)
from spark_jobs.recs_asof import articles_as_of, shop_as_of  # noqa: F401 (re-exported)
from spark_jobs.recs_baseline import (
    decayed_purchases,
    popularity_candidates,
    repurchase_candidates,
    repurchase_score,
    sellable_articles,
    top_k_per_customer,
)
from spark_jobs.recs_common import (
    ARTICLE_ID,
    BUCKET,
    COMPLEMENT_ARTICLE_ID,
    CUSTOMER_ID,
    PROD_NAME,
    PRODUCT_TYPE,
    QUANTITY,
    RANK,
    REASON,
    REASON_POPULAR_GLOBAL,
    REASON_POPULAR_SEGMENT,
    REASON_REPURCHASE,
    REASON_TRENDING,
    SCORE,
    SIMILAR_ARTICLE_ID,
    T_DAT,
    RecsConfig,
    bucket_count,
    customer_bucket,
    customer_buckets,
    stable_uniform,
    timed,
)
from spark_jobs.recs_complements import outfit_complements
from spark_jobs.recs_content import (
    article_vectors,
    content_candidates,
    content_pool,
    customer_profiles,
    similar_articles,
)
from spark_jobs.recs_itemitem import (
    REASON_ITEMITEM,
    ItemItemModel,
    fit_itemitem,
    itemitem_candidates,
)

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
LABEL = "label"
# Sources whose reason depends on more than the source, carried as a number through the
# candidate merge (r_<source>) and spelled out only for the final lists: the bought
# article behind "similar to ..." / "completes the look with ..." (xxhash64 of its id),
# global (1) or segment (0) popularity.
REASON_CODES = ("similar", "complement", "popular")
REASON_CONTENT = "matches your style"
# A customer's history with a candidate article (repurchase half-life): decayed units,
# purchase rows, last purchase day; null for articles never bought.
HISTORY_COLUMNS = ("_rep_w", "_rep_n", "_rep_last")


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
        .select(CUSTOMER_ID, ARTICLE_ID, T_DAT)
        .distinct()
    )
    first = F.min(T_DAT).over(Window.partitionBy(CUSTOMER_ID, ARTICLE_ID))
    row = (
        days.select((F.col(T_DAT) > first).cast("double").alias("_r"))
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
        tx = transactions.where(F.col(T_DAT) <= F.to_date(F.lit(as_of))).cache()
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


def _recent_purchases(state: ShopState, config: RecsConfig) -> DataFrame:
    """(customer_id, article_id, w): each customer's last ``recent_articles`` distinct articles."""
    bought = decayed_purchases(state.transactions, state.as_of, config.repurchase_half_life_days)
    per = bought.groupBy(CUSTOMER_ID, ARTICLE_ID).agg(
        F.max(T_DAT).alias("_last"), F.sum("w").alias("w")
    )
    order = Window.partitionBy(CUSTOMER_ID).orderBy(
        F.col("_last").desc(), F.col("w").desc(), F.col(ARTICLE_ID)
    )
    return (
        per.withColumn("_r", F.row_number().over(order))
        .where(F.col("_r") <= config.recent_articles)
        .select(CUSTOMER_ID, ARTICLE_ID, "w")
    )


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
            F.max(T_DAT).alias("_rep_last"),
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
    days_ago = F.datediff(F.to_date(F.lit(state.as_of)), F.col(T_DAT))
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
        F.count(F.lit(1)).alias("_c_n"), F.max(T_DAT).alias("_c_last")
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
        # the pandas pass over the customer's bucket (_with_als).
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


def _positions(groups: np.ndarray, value: np.ndarray, tie: np.ndarray) -> np.ndarray:
    """0-based position of every row within its group, ``value`` descending, then ``tie``
    ascending (what ``row_number() - 1`` over such a window gives), vectorized."""
    order = np.lexsort((tie, -value, groups))
    g = groups[order]
    index = np.arange(len(order))
    first = np.maximum.accumulate(np.where(np.r_[True, g[1:] != g[:-1]], index, 0))
    out = np.empty(len(order), dtype=np.int64)
    out[order] = index - first
    return out


def _codes(pdf: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
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
    return _add_rank_features(_with_als(pdf, als), *_codes(pdf))


def _with_als(pdf: pd.DataFrame, als) -> pd.DataFrame:
    if als is not None:
        pdf["f_als"] = als_scores(als, pdf[CUSTOMER_ID].to_numpy(), pdf[ARTICLE_ID].to_numpy())
    return pdf


def _add_rank_features(pdf: pd.DataFrame, customers: np.ndarray, articles: np.ndarray):
    for name, col in RANK_FEATURES:
        position = _positions(customers, pdf[col].to_numpy(np.float64), articles)
        pdf[name] = 1.0 / np.log2(position + 2.0)
    pdf["f_rep_rank"] *= pdf["is_repurchase"]
    pdf["f_itemitem_rank"] *= pdf["is_itemitem"]
    return pdf


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
    customers, articles = _codes(pdf)
    pdf = _add_rank_features(_with_als(pdf, als), customers, articles)
    score = fixed_order_dot(pdf[list(FEATURES)].to_numpy(np.float64), coefficients) + intercept
    kind = pd.factorize(pdf["_pt"].fillna(pdf[ARTICLE_ID]))[0]
    in_type = _positions(customers * (int(kind.max(initial=0)) + 1) + kind, score, articles)
    keep = np.flatnonzero(in_type < config.max_per_product_type)
    position = _positions(customers[keep], score[keep], articles[keep])
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


# -- ranker ---------------------------------------------------------------------------
@dataclass
class Ranker:
    """A logistic regression on FEATURES, or the fixed fallback weights."""

    model: LogisticRegressionModel | None
    weights: dict
    trained_rows: int = 0
    positives: int = 0
    # Share of the validation window's (customer, article) purchases, by customers with
    # history, that re-bought an article bought before the window; None without one.
    repeat_share: float | None = None

    def allows_repeats(self, state: ShopState, config: RecsConfig) -> bool:
        """Repeat purchases are recommended where the data says customers repeat: on the
        validation window when there was one, else on the state's whole history."""
        rate = self.repeat_share if self.repeat_share is not None else state.repeat_rate
        return rate >= config.min_repeat_rate

    def linear(self) -> tuple[np.ndarray, float]:
        """(coefficients over FEATURES, intercept): the score is their linear margin, as
        the logistic regression's rawPrediction, or the fixed weights' sum."""
        if self.model is not None:
            return self.model.coefficients.toArray().astype(np.float64), float(self.model.intercept)
        return np.array([float(self.weights.get(f, 0.0)) for f in FEATURES]), 0.0

    def describe(self) -> dict:
        share = None if self.repeat_share is None else round(self.repeat_share, 4)
        if self.model is None:
            return {"kind": "fixed-weights", "weights": self.weights, "repeat_share": share}
        coefs = self.model.coefficients.toArray().tolist()
        return {
            "kind": "logistic-regression",
            "trained_rows": self.trained_rows,
            "positives": self.positives,
            "repeat_share": share,
            "coefficients": dict(zip(FEATURES, [round(c, 4) for c in coefs], strict=True)),
        }


def fallback_ranker(config: RecsConfig) -> Ranker:
    return Ranker(model=None, weights=dict(config.fallback_weights))


def label_candidates(features: DataFrame, truth: DataFrame) -> DataFrame:
    """Add ``label`` = 1 if the customer bought the article in the label window."""
    pos = truth.select(CUSTOMER_ID, ARTICLE_ID).distinct().withColumn(LABEL, F.lit(1.0))
    return features.join(pos, [CUSTOMER_ID, ARTICLE_ID], "left").withColumn(
        LABEL, F.coalesce(F.col(LABEL), F.lit(0.0))
    )


def train_ranker(labelled: DataFrame, config: RecsConfig) -> Ranker:
    """Fit the logistic regression on labelled candidates (negatives down-sampled)."""
    stats = labelled.agg(F.count(F.lit(1)).alias("n"), F.sum(LABEL).alias("p")).first()
    n, p = int(stats["n"] or 0), int(stats["p"] or 0)
    if p < config.ranker_min_positives:
        return fallback_ranker(config)
    neg_fraction = min(1.0, config.ranker_negatives_per_positive * p / max(n - p, 1))
    # The sample is a few hundred thousand rows spread over the candidates' many
    # partitions: each of the solver's iterations is one job over all of them, so
    # partitions of a few rows each cost more in task overhead than in arithmetic.
    # One partition per task slot (no shuffle).
    slots = max(1, labelled.sparkSession.sparkContext.defaultParallelism)
    sample = labelled.where(
        (F.col(LABEL) == 1) | (stable_uniform(config.seed, CUSTOMER_ID, ARTICLE_ID) < neg_fraction)
    ).coalesce(slots)
    assembled = VectorAssembler(inputCols=list(FEATURES), outputCol="_x").transform(sample)
    lr = LogisticRegression(
        featuresCol="_x",
        labelCol=LABEL,
        regParam=config.ranker_reg_param,
        elasticNetParam=0.0,
        maxIter=config.ranker_max_iter,
    )
    model = lr.fit(assembled)
    return Ranker(model=model, weights={}, trained_rows=n, positives=p)


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


def validation_window(
    transactions: DataFrame, as_of: str, config: RecsConfig
) -> tuple[str, str] | None:
    """(train_until, label_until): the last ``ranker_val_days`` days before ``as_of``
    (at most a third of the data's span) hold the ranker's labels."""
    row = transactions.agg(F.min(T_DAT).alias("lo"), F.max(T_DAT).alias("hi")).first()
    if row["lo"] is None:
        return None
    hi = min(row["hi"], dt.date.fromisoformat(as_of))
    span = (hi - row["lo"]).days + 1
    days = min(config.ranker_val_days, span // 3)
    if days < 1:
        return None
    return (hi - dt.timedelta(days=days)).isoformat(), hi.isoformat()


def validation_repeat_share(fit_tx: DataFrame, label_tx: DataFrame) -> float | None:
    """Share of the distinct (customer, article) purchases in the validation window,
    by customers who bought before it, whose article the customer had already bought
    before it; None if no such customer bought in the window."""
    before = fit_tx.where(F.col(CUSTOMER_ID).isNotNull()).select(CUSTOMER_ID, ARTICLE_ID).distinct()
    window = (
        label_tx.select(CUSTOMER_ID, ARTICLE_ID)
        .distinct()
        .join(before.select(CUSTOMER_ID).distinct(), CUSTOMER_ID, "left_semi")
    )
    again = window.join(before.withColumn("_again", F.lit(1.0)), [CUSTOMER_ID, ARTICLE_ID], "left")
    row = again.agg(F.count(F.lit(1)).alias("n"), F.sum("_again").alias("r")).first()
    n = int(row["n"] or 0)
    return float(row["r"] or 0.0) / n if n else None


def fit_ranker(
    customers: DataFrame,
    articles: DataFrame,
    transactions: DataFrame,
    as_of: str,
    config: RecsConfig,
    exclude_seen: bool,
    validation: str = "time",
) -> Ranker:
    """Train the ranker on validation labels carved from the training data: the last
    days (``validation="time"``) or a random ``ranker_val_fraction`` of each customer's
    purchases (``"random"``, for random-split protocols). Models for the features are
    fit on the rest."""
    known = transactions.where(
        F.col(CUSTOMER_ID).isNotNull() & (F.col(T_DAT) <= F.to_date(F.lit(as_of)))
    )
    if validation == "random":
        # A draw per row from a hash of all its columns: identical rows share one.
        marked_keys = known.columns
        marked = known.withColumn(
            "_val", stable_uniform(config.seed, *marked_keys) < config.ranker_val_fraction
        )
        label_tx = marked.where(F.col("_val")).drop("_val")
        fit_tx = marked.where(~F.col("_val")).drop("_val")
        fit_as_of = as_of
    elif validation == "time":
        window = validation_window(transactions, as_of, config)
        if window is None:
            return fallback_ranker(config)
        fit_as_of, label_until = window
        day = F.col(T_DAT)
        label_tx = known.where(
            (day > F.to_date(F.lit(fit_as_of))) & (day <= F.to_date(F.lit(label_until)))
        )
        fit_tx = transactions.where(day <= F.to_date(F.lit(fit_as_of)))
    else:
        raise ValueError(f"validation must be 'time' or 'random', got {validation!r}")
    # Train on customers who bought in the window (the others carry no positives),
    # at most ranker_max_customers of them.
    buyers = label_tx.select(CUSTOMER_ID).distinct()
    n_buyers = buyers.count()
    if n_buyers == 0:
        return fallback_ranker(config)
    share = validation_repeat_share(fit_tx, label_tx)
    if n_buyers > config.ranker_max_customers:
        buyers = buyers.where(
            stable_uniform(config.seed, CUSTOMER_ID) < config.ranker_max_customers / n_buyers
        )
    state = build_state(customers, articles, fit_tx, fit_as_of, config)
    # Bought articles stay candidates here, so the ranker learns from the window how
    # much a past purchase predicts the next one.
    feats = candidate_features(
        state, customers.join(buyers, CUSTOMER_ID, "left_semi"), config, exclude_seen
    )
    labelled = label_candidates(feats, label_tx).cache()
    try:
        with timed(f"{fit_as_of} ranker candidates"):
            labelled.count()
        with timed(f"{fit_as_of} ranker training"):
            ranker = train_ranker(labelled, config)
        ranker.repeat_share = share
        print(f"[recommend] {fit_as_of} ranker: {json.dumps(ranker.describe())}", file=sys.stderr)
        return ranker
    finally:
        labelled.unpersist()
        state.release()


def recommend(
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
    drop_bought = not ranker.allows_repeats(state, config)
    feats = candidate_features(state, targets, config, exclude_seen, drop_bought, with_ranks=False)
    hybrid = ranked_lists(
        feats,
        ranker,
        state.articles,
        config,
        als=state.als,
    )
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
