"""Ranking and catalogue metrics on pandas frames (pure numpy/pandas, so Spark jobs
and ``shopguide.evaluation`` share one implementation).

Definitions follow Microsoft Recommenders' ``python_evaluation`` and Spark's
``RankingMetrics``: per-customer values averaged over the customers present in both
the truth and the predictions, binary relevance, precision divided by k. ``map_at_k``
is the H&M competition's MAP@k (average precision / min(|relevant|, k)); ``map``
divides by |relevant|.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CUSTOMER = "customer_id"
ARTICLE = "article_id"
SCORE = "score"


def _top_k(predictions: pd.DataFrame, k: int) -> pd.DataFrame:
    """The first k predictions per customer by score (highest first, stable on ties),
    with their 1-based ``_rank``."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    missing = {CUSTOMER, ARTICLE, SCORE} - set(predictions.columns)
    if missing:
        raise ValueError(
            f"predictions lack columns {sorted(missing)}; need customer_id, article_id, score"
        )
    pred = predictions[[CUSTOMER, ARTICLE, SCORE]].drop_duplicates([CUSTOMER, ARTICLE])
    pred = pred.sort_values([CUSTOMER, SCORE], ascending=[True, False], kind="mergesort")
    pred = pred.assign(_rank=pred.groupby(CUSTOMER, sort=False).cumcount() + 1)
    return pred[pred["_rank"] <= k]


def ranking_metrics(truth: pd.DataFrame, predictions: pd.DataFrame, k: int) -> dict:
    """precision_at_k, recall_at_k, map_at_k, ndcg_at_k, map (and ``users``, the number
    of customers averaged over). ``truth`` holds the relevant (customer_id, article_id)
    pairs; repeats count once."""
    missing = {CUSTOMER, ARTICLE} - set(truth.columns)
    if missing:
        raise ValueError(f"truth lacks columns {sorted(missing)}; need customer_id, article_id")
    rel = truth[[CUSTOMER, ARTICLE]].drop_duplicates()
    top = _top_k(predictions, k)
    users = np.intersect1d(rel[CUSTOMER].unique(), top[CUSTOMER].unique())
    n = len(users)
    if n == 0:
        return {
            "precision_at_k": 0.0,
            "recall_at_k": 0.0,
            "map_at_k": 0.0,
            "ndcg_at_k": 0.0,
            "map": 0.0,
            "users": 0,
        }
    n_rel = rel[rel[CUSTOMER].isin(users)].groupby(CUSTOMER).size()
    hits = top.merge(rel, on=[CUSTOMER, ARTICLE], how="inner")
    hits = hits.sort_values([CUSTOMER, "_rank"], kind="mergesort")
    # Precision at each hit's rank: (hits so far) / rank.
    hits["_prec"] = (hits.groupby(CUSTOMER).cumcount() + 1) / hits["_rank"]
    hits["_gain"] = 1.0 / np.log2(hits["_rank"] + 1.0)
    per_user = hits.groupby(CUSTOMER).agg(
        n_hits=("_rank", "size"), ap_sum=("_prec", "sum"), dcg=("_gain", "sum")
    )
    per_user = per_user.reindex(users, fill_value=0.0)
    n_rel = n_rel.reindex(users).astype(float)
    # Ideal DCG: the min(|rel|, k) relevant articles at the top.
    discounts = np.concatenate([[0.0], np.cumsum(1.0 / np.log2(np.arange(2, k + 2)))])
    idcg = discounts[np.minimum(n_rel.to_numpy(), k).astype(int)]
    return {
        "precision_at_k": float((per_user["n_hits"] / k).sum() / n),
        "recall_at_k": float((per_user["n_hits"] / n_rel).sum() / n),
        "map_at_k": float((per_user["ap_sum"] / np.minimum(n_rel, k)).sum() / n),
        "ndcg_at_k": float((per_user["dcg"].to_numpy() / idcg).sum() / n),
        "map": float((per_user["ap_sum"] / n_rel).sum() / n),
        "users": int(n),
    }


def catalog_coverage(predictions: pd.DataFrame, catalog_size: int, k: int) -> float:
    """Share of the catalogue (``catalog_size`` articles) appearing in someone's top k."""
    if catalog_size <= 0:
        return 0.0
    return float(_top_k(predictions, k)[ARTICLE].nunique() / catalog_size)


def novelty(predictions: pd.DataFrame, train: pd.DataFrame, k: int) -> float:
    """Mean self-information -log2(share of training customers who bought the article)
    over all recommended slots (Recommenders' definition); articles nobody bought in
    training count as bought by one customer, the most novel possible."""
    top = _top_k(predictions, k)
    if top.empty:
        return 0.0
    pairs = train[[CUSTOMER, ARTICLE]].drop_duplicates()
    n_customers = max(pairs[CUSTOMER].nunique(), 1)
    buyers = pairs.groupby(ARTICLE).size()
    counts = top[ARTICLE].map(buyers).fillna(1.0).clip(lower=1.0)
    return float((-np.log2(counts / n_customers)).mean())


def diversity(predictions: pd.DataFrame, article_category: pd.Series, k: int) -> float:
    """Intra-list diversity: per customer, the share of pairs in the top k from different
    categories (``article_category``: article_id -> e.g. product type), averaged over
    customers with at least two recommendations. Unknown categories count as distinct."""
    top = _top_k(predictions, k)
    if top.empty:
        return 0.0
    cats = top[ARTICLE].map(article_category)
    cats = cats.where(cats.notna(), "__unknown__" + top[ARTICLE].astype(str))
    frame = pd.DataFrame({CUSTOMER: top[CUSTOMER].to_numpy(), "_cat": cats.to_numpy()})
    sizes = frame.groupby(CUSTOMER).size()
    same = frame.groupby([CUSTOMER, "_cat"]).size()
    same_pairs = (same * (same - 1) / 2).groupby(level=0).sum()
    all_pairs = sizes * (sizes - 1) / 2
    ok = all_pairs > 0
    if not ok.any():
        return 0.0
    return float((1.0 - same_pairs[ok] / all_pairs[ok]).mean())
