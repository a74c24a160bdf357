"""Blocked top-K scoring: query vectors x broadcast article matrix, never a crossJoin.

Each Spark task receives Arrow batches of query rows (a customer or an article with its
vector), multiplies a block of them with the broadcast article matrix using numpy
BLAS, and keeps the K best columns per row with ``argpartition``. Work per task is
O(block x articles) memory and the shuffle-free plan scales with the customers.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame

QUERY_ID = "query_id"
QUERY_VECTOR = "vector"
QUERY_EXCLUDE = "exclude"
ITEM_ID = "item_id"
TOPK_SCORE = "score"

# Rows multiplied at once: 2048 x 20k articles x 4 bytes = 160 MB of scores at most.
DEFAULT_BLOCK_ROWS = 2048


def top_k_dense(
    queries: np.ndarray, items: np.ndarray, k: int, exclude_positions: list | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(positions, scores), each (n_queries, min(k, n_items)), best first, for
    ``queries @ items.T``; ``exclude_positions[i]`` lists item positions row i may not get."""
    scores = queries @ items.T
    if exclude_positions is not None:
        for row, positions in enumerate(exclude_positions):
            if positions is not None and len(positions):
                scores[row, positions] = -np.inf
    kk = min(k, items.shape[0])
    if kk == 0:
        return np.empty((len(queries), 0), dtype=np.int64), np.empty(
            (len(queries), 0), dtype=scores.dtype
        )
    if kk < items.shape[0]:
        part = np.argpartition(scores, -kk, axis=1)[:, -kk:]
    else:
        part = np.tile(np.arange(items.shape[0]), (len(queries), 1))
    part_scores = np.take_along_axis(scores, part, axis=1)
    order = np.argsort(-part_scores, axis=1, kind="stable")
    positions = np.take_along_axis(part, order, axis=1)
    return positions, np.take_along_axis(part_scores, order, axis=1)


def _score_batches(batches, bc, k: int, block_rows: int, has_exclude: bool):
    item_ids, item_matrix = bc.value
    position_of = None
    for batch in batches:
        if batch.empty:
            continue
        for start in range(0, len(batch), block_rows):
            block = batch.iloc[start : start + block_rows]
            queries = np.stack(block[QUERY_VECTOR].to_numpy()).astype(np.float32, copy=False)
            exclude = None
            if has_exclude:
                if position_of is None:
                    position_of = pd.Series(np.arange(len(item_ids)), index=item_ids)
                exclude = [
                    position_of.reindex(list(ids)).dropna().astype(np.int64).to_numpy()
                    if ids is not None
                    else None
                    for ids in block[QUERY_EXCLUDE]
                ]
            positions, scores = top_k_dense(queries, item_matrix, k, exclude)
            n = positions.shape[1]
            out = pd.DataFrame(
                {
                    QUERY_ID: np.repeat(block[QUERY_ID].to_numpy(), n),
                    ITEM_ID: item_ids[positions.ravel()],
                    TOPK_SCORE: scores.ravel().astype(np.float64),
                }
            )
            yield out[np.isfinite(out[TOPK_SCORE])]


def blocked_top_k(
    queries: DataFrame,
    item_ids: np.ndarray,
    item_matrix: np.ndarray,
    k: int,
    block_rows: int = DEFAULT_BLOCK_ROWS,
) -> DataFrame:
    """Top ``k`` items per query row: (query_id, item_id, score), best first per query.

    ``queries``: columns ``query_id`` (string), ``vector`` (array<float>) and optionally
    ``exclude`` (array<string> of item ids not to return). ``item_ids`` (n,) strings and
    ``item_matrix`` (n, d) are broadcast once to every executor.
    """
    spark = queries.sparkSession
    item_ids = np.asarray(item_ids, dtype=object)
    item_matrix = np.ascontiguousarray(item_matrix, dtype=np.float32)
    if item_matrix.ndim != 2 or item_matrix.shape[0] != len(item_ids):
        raise ValueError(
            f"item_matrix shape {item_matrix.shape} does not match {len(item_ids)} item ids"
        )
    bc = spark.sparkContext.broadcast((item_ids, item_matrix))
    has_exclude = QUERY_EXCLUDE in queries.columns
    cols = [QUERY_ID, QUERY_VECTOR] + ([QUERY_EXCLUDE] if has_exclude else [])
    fn = partial(_score_batches, bc=bc, k=k, block_rows=block_rows, has_exclude=has_exclude)
    return queries.select(*cols).mapInPandas(
        fn, schema=f"{QUERY_ID} string, {ITEM_ID} string, {TOPK_SCORE} double"
    )
