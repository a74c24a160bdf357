"""Blocked top-K scoring and implicit ALS on tiny frames."""

from __future__ import annotations

import numpy as np
from pyspark.testing import assertDataFrameEqual

from spark_jobs.recommend.candidates.als import (
    als_candidates,
    article_matrix,
    fit_als,
    score_top_k,
    set_checkpoint_dir,
)
from spark_jobs.recommend.config import RecsConfig
from spark_jobs.recommend.topk import top_k_dense


def test_top_k_dense_matches_full_sort():
    rng = np.random.default_rng(0)
    q = rng.normal(size=(7, 5)).astype(np.float32)
    items = rng.normal(size=(30, 5)).astype(np.float32)
    pos, scores = top_k_dense(q, items, 4)
    full = q @ items.T
    np.testing.assert_array_equal(pos, np.argsort(-full, axis=1)[:, :4])
    np.testing.assert_allclose(scores, np.sort(full, axis=1)[:, ::-1][:, :4], rtol=1e-6)
    # Excluding row 0's best item moves its second best to the top.
    pos_ex, _ = top_k_dense(q, items, 4, [np.array([pos[0, 0]])] + [None] * 6)
    assert pos_ex[0, 0] == pos[0, 1]
    # k larger than the catalogue returns every item once.
    pos_all, _ = top_k_dense(q[:1], items[:3], 10)
    assert sorted(pos_all[0]) == [0, 1, 2]


def test_top_k_dense_block_pruning_matches_full_sort():
    """The block-max pruning path (many blocks, partial last block, exclusions, a row
    with everything excluded but two items) returns exactly the full sort's top k."""
    rng = np.random.default_rng(1)
    q = rng.normal(size=(50, 8)).astype(np.float32)
    items = rng.normal(size=(1037, 8)).astype(np.float32)
    full = q @ items.T
    exclude = [rng.choice(1037, 30, replace=False) if i % 3 == 0 else None for i in range(50)]
    exclude[1] = np.arange(2, 1037)
    for row, positions in enumerate(exclude):
        if positions is not None:
            full[row, positions] = -np.inf
    for block in (16, 32):
        pos, scores = top_k_dense(q, items, 12, exclude, item_block=block)
        expected = np.sort(full, axis=1)[:, ::-1][:, :12]
        np.testing.assert_allclose(scores, expected, rtol=1e-6)
        np.testing.assert_allclose(np.take_along_axis(full, pos, axis=1), scores, rtol=1e-6)
        assert sorted(pos[1][np.isfinite(scores[1])]) == [0, 1]
        assert all(len(set(row)) == 12 for row in pos)


def test_top_k_dense_breaks_ties_by_column_whatever_the_blocks():
    """Equal scores come out in column order, so the lists do not depend on the block
    size, on whether pruning runs, or on argpartition's arrangement."""
    rng = np.random.default_rng(2)
    q = rng.normal(size=(40, 6)).astype(np.float32)
    items = rng.normal(size=(700, 6)).astype(np.float32)
    twins = [3, 250, 411, 699]
    items[twins] = items[500]  # five columns score exactly alike for every row
    q[:, :] = np.abs(q)
    items[500] = items[twins[0]] = np.abs(items[500]) * 10  # ... and in every row's top k
    items[twins] = items[500]
    results = [top_k_dense(q, items, 12, item_block=block) for block in (8, 16, 700)]
    for pos, scores in results:
        np.testing.assert_array_equal(pos, results[0][0])
        np.testing.assert_array_equal(scores, results[0][1])
        for row_pos, row_scores in zip(pos, scores, strict=True):
            tied = row_pos[row_scores == row_scores[0]]
            assert list(tied) == [3, 250, 411, 500, 699]


def test_score_top_k_hand_computed(spark):
    customers = spark.createDataFrame(
        [("c1", [1.0, 0.0]), ("c2", [0.0, 2.0])], "customer_id string, vector array<float>"
    )
    ids = np.array(["a1", "a2", "a3"], dtype=object)
    matrix = np.array([[3.0, 0.0], [1.0, 1.0], [0.0, 0.5]], dtype=np.float32)
    # c1 scores: a1 3, a2 1, a3 0; c2: a1 0, a2 2, a3 1. c2 already bought a2.
    exclude = spark.createDataFrame([("c2", "a2")], "customer_id string, article_id string")
    got = score_top_k(customers, ids, matrix, 2, exclude)
    expected = spark.createDataFrame(
        [("c1", "a1", 3.0), ("c1", "a2", 1.0), ("c2", "a3", 1.0), ("c2", "a1", 0.0)],
        "customer_id string, article_id string, score double",
    )
    assertDataFrameEqual(got, expected)


def test_blocked_top_k_over_arrow_batches_matches_numpy(spark):
    """Queries cut into several Arrow batches and blocks, exclusions with unknown ids,
    empty and null lists: exactly the numpy top-k of each row, ids mapped back."""
    from spark_jobs.recommend.topk import blocked_top_k

    rng = np.random.default_rng(4)
    q = rng.normal(size=(23, 6)).astype(np.float32)
    items = rng.normal(size=(40, 6)).astype(np.float32)
    ids = np.array([f"a{i:02d}" for i in range(40)], dtype=object)
    best = np.argsort(-(q @ items.T), axis=1)
    # Rows 2 and 3 of every 4 may not get their best one to three articles (nor an
    # unknown id); row 0 has a null list, row 1 an empty one.
    exclude = [
        None if r % 4 == 0 else [] if r % 4 == 1 else [*ids[best[r, : 1 + r % 3]], "zz"]
        for r in range(23)
    ]
    queries = spark.createDataFrame(
        [(f"c{r:02d}", q[r].tolist(), exclude[r]) for r in range(23)],
        "query_id string, vector array<float>, exclude array<string>",
    ).repartition(3)
    previous = spark.conf.get("spark.sql.execution.arrow.maxRecordsPerBatch")
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", "4")
    try:
        got = blocked_top_k(queries, ids, items, 5, block_rows=3).toPandas()
    finally:
        spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", previous)
    position = {a: i for i, a in enumerate(ids)}
    positions = [
        None if not ex else np.array([position[a] for a in ex if a in position]) for ex in exclude
    ]
    want_pos, want_scores = top_k_dense(q, items, 5, positions)
    assert len(got) == 23 * 5
    for r in range(23):
        mine = got[got["query_id"] == f"c{r:02d}"]
        assert list(mine["item_id"]) == list(ids[want_pos[r]])
        # BLAS may round a 3-row block's products in another order than a 23-row one's.
        np.testing.assert_allclose(mine["score"].to_numpy(), want_scores[r], rtol=1e-6)


def test_als_recommends_what_similar_customers_bought(spark, tmp_path):
    set_checkpoint_dir(spark, str(tmp_path / "ckpt"))
    # Two taste groups: c0..c5 buy d1..d4 (dresses), c6..c11 buy s1..s4 (shoes);
    # c0 has not bought d4 yet.
    rows = []
    for c in range(12):
        group = ["d1", "d2", "d3", "d4"] if c < 6 else ["s1", "s2", "s3", "s4"]
        for a in group:
            if not (c == 0 and a == "d4"):
                rows.append((f"c{c}", a, 1.0))
    interactions = spark.createDataFrame(
        rows, "customer_id string, article_id string, weight double"
    )
    config = RecsConfig(als_rank=4, als_max_iter=8, als_reg_param=0.05, als_alpha=5.0)
    factors = fit_als(interactions, "weight", config)
    sellable = spark.createDataFrame(
        [(a,) for a in ["d1", "d2", "d3", "d4", "s1", "s2", "s3", "s4"]], "article_id string"
    )
    seen = interactions.select("customer_id", "article_id")
    recs = als_candidates(factors, sellable, 1, exclude=seen).where("customer_id = 'c0'").collect()
    assert [r["article_id"] for r in recs] == ["d4"]
    ids, matrix = article_matrix(factors.articles, sellable)
    assert list(ids) == ["d1", "d2", "d3", "d4", "s1", "s2", "s3", "s4"] and matrix.shape == (8, 4)


def test_als_scores_every_pair_and_zero_without_factors(spark):
    from spark_jobs.recommend.candidates.als import AlsFactors, als_lookup, als_scores

    users = spark.createDataFrame(
        [("c1", [1.0, 2.0]), ("c2", [0.5, -1.0])], "customer_id string, vector array<float>"
    )
    items = spark.createDataFrame(
        [("a1", [3.0, 1.0]), ("a2", [-2.0, 4.0])], "article_id string, vector array<float>"
    )
    lookup = als_lookup(AlsFactors(None, users, items))
    got = als_scores(lookup, ["c1", "c1", "c2", "c3", "c2"], ["a1", "a2", "a2", "a1", "a9"])
    # c3 has no customer factors, a9 no article factors: both score 0
    assert got.tolist() == [5.0, 6.0, -5.0, 0.0, 0.0]


def test_fixed_order_dot_does_not_depend_on_the_batch():
    from spark_jobs.recommend.candidates.als import fixed_order_dot

    rng = np.random.default_rng(8)
    a = rng.normal(size=(257, 25))
    b = rng.normal(size=(257, 25))
    whole = fixed_order_dot(a, b)
    np.testing.assert_allclose(whole, (a * b).sum(axis=1), rtol=1e-12)
    # The same rows in another batch, another order and an odd offset: bit for bit equal.
    order = rng.permutation(257)
    again = fixed_order_dot(a[order][3:], b[order][3:])
    assert np.array_equal(again, whole[order][3:])
    w = rng.normal(size=25)
    assert np.array_equal(fixed_order_dot(a[order], w), fixed_order_dot(a, w)[order])
