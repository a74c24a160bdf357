"""Holdout evaluation of the recommender and its baselines (``model_metrics``).

The nightly run (``recommend --evaluate``) and ``shopguide evaluate recs`` both call
:func:`evaluate_models` on the lists :func:`spark_jobs.recommend.lists.recommend_as_of` returns.
"""

from __future__ import annotations

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from spark_jobs.recommend.columns import (
    ARTICLE_ID,
    CUSTOMER_ID,
    MODEL_METRICS_COLUMNS,
    PRODUCT_TYPE,
    PURCHASE_DATE,
    SCORE,
)
from spark_jobs.recommend.config import RecsConfig
from spark_jobs.recommend.lists import Recommendations, recommend_as_of
from spark_jobs.recommend.metrics import catalog_coverage, diversity, novelty, ranking_metrics
from spark_jobs.recommend.ranker import Ranker
from spark_jobs.recommend.state import shift_date
from spark_jobs.recommend.timing import timed

MODELS = ("hybrid", "als", "popularity", "repurchase")


def _lists(df: DataFrame | None) -> pd.DataFrame:
    if df is None:
        return pd.DataFrame({CUSTOMER_ID: [], ARTICLE_ID: [], SCORE: []})
    # Rank order is the score order; use -rank as the score so ties cannot reorder.
    return df.select(
        CUSTOMER_ID, ARTICLE_ID, (-F.col("rank")).cast("double").alias(SCORE)
    ).toPandas()


def evaluate_models(
    recs: Recommendations,
    truth: pd.DataFrame,
    train_pairs: pd.DataFrame,
    article_types: pd.Series,
    catalog_size: int,
    k: int,
    customers: set | None = None,
) -> dict[str, dict]:
    """Metrics per model on ``truth`` (customer_id, article_id), restricted to
    ``customers`` when given."""
    out = {}
    for name in MODELS:
        with timed(f"holdout lists: {name}"):
            preds = _lists(getattr(recs, name))
        if customers is not None:
            preds = preds[preds[CUSTOMER_ID].isin(customers)]
        metrics = ranking_metrics(truth, preds, k)
        # A customer with no list at all (e.g. no history for repurchase) scores 0, so
        # every model is averaged over the same customers.
        n_truth = truth[CUSTOMER_ID].nunique()
        if metrics["users"] and n_truth > metrics["users"]:
            scale = metrics["users"] / n_truth
            for key in ("precision_at_k", "recall_at_k", "map_at_k", "ndcg_at_k", "map"):
                metrics[key] *= scale
            metrics["users"] = n_truth
        metrics["catalog_coverage"] = catalog_coverage(preds, catalog_size, k)
        metrics["novelty"] = novelty(preds, train_pairs, k)
        metrics["diversity"] = diversity(preds, article_types, k)
        out[name] = metrics
    return out


def holdout_metrics(
    customers: DataFrame,
    articles: DataFrame,
    transactions: DataFrame,
    run_date: str,
    config: RecsConfig,
    holdout_days: int = 7,
    ranker: Ranker | None = None,
) -> pd.DataFrame:
    """model_metrics rows: fit on the data before the last ``holdout_days`` days, score
    the customers who bought both before and within them. ``ranker`` must have been
    trained on data before the holdout (default: trained here)."""
    cut = shift_date(run_date, -holdout_days)
    known = transactions.where(F.col(CUSTOMER_ID).isNotNull())
    train = known.where(F.col(PURCHASE_DATE) <= F.to_date(F.lit(cut)))
    test = known.where(
        (F.col(PURCHASE_DATE) > F.to_date(F.lit(cut)))
        & (F.col(PURCHASE_DATE) <= F.to_date(F.lit(run_date)))
    )
    evaluated = (
        test.select(CUSTOMER_ID)
        .distinct()
        .join(train.select(CUSTOMER_ID).distinct(), CUSTOMER_ID, "left_semi")
    )
    truth = (
        test.join(evaluated, CUSTOMER_ID, "left_semi")
        .select(CUSTOMER_ID, ARTICLE_ID)
        .distinct()
        .toPandas()
    )
    columns = list(MODEL_METRICS_COLUMNS)
    if truth.empty:
        return pd.DataFrame({c: [] for c in columns})
    recs = recommend_as_of(
        customers,
        articles,
        transactions.where(F.col(PURCHASE_DATE) <= F.to_date(F.lit(cut))),
        cut,
        config,
        score_customers=evaluated,
        ranker=ranker,
    )
    sellable = recs_catalog_size(recs)
    train_pairs = train.select(CUSTOMER_ID, ARTICLE_ID).distinct().toPandas()
    types = article_type_series(articles)
    metrics = evaluate_models(recs, truth, train_pairs, types, sellable, config.top_k)
    recs.release()
    rows = [
        {
            "model": m,
            "k": config.top_k,
            **{c: float(v[c]) for c in columns[2:]},
        }
        for m, v in metrics.items()
    ]
    return pd.DataFrame(rows, columns=columns)


def recs_catalog_size(recs: Recommendations) -> int:
    return int(recs.sellable_count)


def article_type_series(articles: DataFrame) -> pd.Series:
    if PRODUCT_TYPE not in articles.columns:
        return pd.Series(dtype=object)
    pdf = articles.select(ARTICLE_ID, PRODUCT_TYPE).toPandas()
    return pd.Series(pdf[PRODUCT_TYPE].to_numpy(), index=pdf[ARTICLE_ID].to_numpy())
