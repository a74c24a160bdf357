"""Item-to-item EASE: the closed form against per-article ridge regressions, the Gram
matrix summed on Spark, sparse top-K scoring and the candidates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from spark_jobs.recommend.candidates.itemitem import ease_weights, fit_itemitem, itemitem_candidates
from spark_jobs.recommend.config import RecsConfig
from spark_jobs.recommend.topk import blocked_top_k, top_k_dense


def test_ease_closed_form_equals_one_ridge_regression_per_article():
    """Column a of B is the ridge regression of article a on all other articles."""
    rng = np.random.default_rng(3)
    x = (rng.random((40, 6)) < 0.35).astype(np.float64)
    l2 = 2.5
    b = ease_weights(x.T @ x, l2)
    assert np.allclose(np.diag(b), 0.0)
    for a in range(6):
        others = [j for j in range(6) if j != a]
        xo = x[:, others]
        ridge = np.linalg.solve(xo.T @ xo + l2 * np.eye(5), xo.T @ x[:, a])
        np.testing.assert_allclose(b[others, a], ridge, rtol=1e-4, atol=1e-6)


def test_ease_in_the_grams_own_memory_gives_the_same_weights_bit_for_bit():
    """``overwrite=True`` (fit_itemitem's, which spares the driver a copy of the n x n
    matrix) changes where the arithmetic happens, not its result; without it the Gram
    matrix is left as it was."""
    rng = np.random.default_rng(11)
    x = (rng.random((300, 120)) < 0.08).astype(np.float64)
    gram = x.T @ x
    kept = gram.copy()
    expected = ease_weights(gram, 4.0)
    np.testing.assert_array_equal(gram, kept)
    p = np.linalg.inv(kept + 4.0 * np.eye(120))
    by_formula = p / -np.diag(p)
    by_formula[np.diag_indices_from(by_formula)] = 0.0
    np.testing.assert_array_equal(expected, by_formula.astype(np.float32))
    np.testing.assert_array_equal(ease_weights(gram, 4.0, overwrite=True), expected)


def test_sparse_queries_score_like_dense_ones(spark):
    rng = np.random.default_rng(5)
    items = rng.normal(size=(300, 20)).astype(np.float32)
    ids = np.array([f"a{i}" for i in range(300)], dtype=object)
    dense = np.where(rng.random((9, 20)) < 0.2, rng.random((9, 20)), 0.0).astype(np.float32)
    rows = [
        (f"c{r}", np.flatnonzero(dense[r]).tolist(), dense[r][dense[r] > 0].tolist())
        for r in range(9)
    ]
    queries = spark.createDataFrame(
        rows, "query_id string, indices array<int>, `values` array<float>"
    )
    got = blocked_top_k(queries, ids, items, 5).toPandas()
    positions, scores = top_k_dense(dense, items, 5)
    for r in range(9):
        mine = got[got["query_id"] == f"c{r}"]
        if not dense[r].any():
            # An empty row scores 0 everywhere: any 5 articles, all at 0.
            assert np.allclose(mine["score"], 0.0)
            continue
        assert list(mine["item_id"]) == list(ids[positions[r]])
        np.testing.assert_allclose(mine["score"], scores[r], rtol=1e-5)


@pytest.fixture
def baskets(spark):
    """Dress buyers also buy belts; shoe buyers socks; c0 bought a dress only."""
    rows = [("c0", "dress", 1.0)]
    for c in range(1, 7):
        rows += [(f"c{c}", "dress", 1.0), (f"c{c}", "belt", 1.0)]
    for c in range(7, 12):
        rows += [(f"c{c}", "shoes", 1.0), (f"c{c}", "socks", 1.0)]
    rows.append(("c12", "shoes", 2.0))
    return pd.DataFrame(rows, columns=["customer_id", "article_id", "weight"])


def test_gram_on_spark_equals_numpy_and_candidates_follow_co_purchases(spark, baskets):
    interactions = spark.createDataFrame(baskets)
    config = RecsConfig(itemitem_l2=1.0, itemitem_max_articles=10)
    model = fit_itemitem(interactions, config)
    assert list(model.article_ids) == ["belt", "dress", "shoes", "socks"]
    x = pd.crosstab(baskets["customer_id"], baskets["article_id"]).clip(upper=1)
    x = x[list(model.article_ids)].to_numpy(dtype=float)
    np.testing.assert_allclose(model.weights, ease_weights(x.T @ x, 1.0), rtol=1e-5)

    sellable = spark.createDataFrame(
        [(a,) for a in ["belt", "dress", "shoes", "socks"]], "article_id string"
    )
    seen = interactions.select("customer_id", "article_id")
    recs = itemitem_candidates(model, interactions, sellable, 3, exclude=seen).toPandas()
    first = recs.sort_values("score", ascending=False).groupby("customer_id").head(1)
    best = dict(zip(first["customer_id"], first["article_id"], strict=True))
    assert best["c0"] == "belt" and best["c12"] == "socks"
    # Scores are shares of the customer's best; only positive evidence is returned.
    assert (recs.groupby("customer_id")["score"].max() == 1.0).all()
    assert (recs["score"] > 0).all()
    # Articles that are not sellable are never proposed.
    only_dress = spark.createDataFrame([("dress",)], "article_id string")
    recs = itemitem_candidates(model, interactions, only_dress, 3).toPandas()
    assert set(recs["article_id"]) <= {"dress"}


def test_too_little_data_gives_no_model(spark):
    one = spark.createDataFrame(
        [("c1", "a1", 1.0)], "customer_id string, article_id string, weight double"
    )
    assert fit_itemitem(one, RecsConfig()) is None
