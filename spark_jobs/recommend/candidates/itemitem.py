"""Item-to-item collaborative filtering: EASE (Steck, "Embarrassingly Shallow
Autoencoders for Sparse Data", WWW 2019).

EASE learns an article x article weight matrix B with a zero diagonal that best
rebuilds each customer's purchases from their other purchases:
``B = I - P / diag(P)`` with ``P = (X'X + l2 * I)^-1``, X the binary customer x article
matrix. A customer's score for article a is ``sum_j w_j * B[j, a]`` over the articles j
they bought (``w_j``: their recency-decayed interaction weight). It complements ALS:
on MovieLens-100k EASE ranks better than Spark's implicit ALS (benchmarks/results.md).

On Spark: the Gram matrix X'X is summed from per-partition sparse products
(``mapInPandas`` over customers, scipy in the workers), the n x n inverse is taken on
the driver (n = the ``itemitem_max_articles`` most bought articles), and top-K scoring
is :func:`spark_jobs.recommend.topk.blocked_top_k` with sparse customer rows against the
broadcast columns of B: never a customers x articles cross join.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from spark_jobs.recommend.columns import ARTICLE_ID, CUSTOMER_ID, REASON, SCORE, WEIGHT
from spark_jobs.recommend.config import RecsConfig
from spark_jobs.recommend.topk import (
    ITEM_ID,
    QUERY_EXCLUDE,
    QUERY_ID,
    QUERY_INDICES,
    QUERY_VALUES,
    TOPK_SCORE,
    blocked_top_k,
)

ARTICLE_IDX = "article_idx"
REASON_ITEMITEM = "bought together with what you bought"


@dataclass
class ItemItemModel:
    """EASE weights over a vocabulary of articles: ``weights[j, a]`` is how much buying
    ``article_ids[j]`` speaks for ``article_ids[a]``."""

    article_ids: np.ndarray
    weights: np.ndarray


def vocabulary_index(spark, article_ids: np.ndarray) -> DataFrame:
    """(article_id, article_idx): each vocabulary article's row in B."""
    return spark.createDataFrame(
        pd.DataFrame({ARTICLE_ID: article_ids, ARTICLE_IDX: np.arange(len(article_ids))}),
        f"{ARTICLE_ID} string, {ARTICLE_IDX} int",
    )


def _partial_gram(batches, n: int):
    """X'X of the customers in this partition, as (i, j, count) rows."""
    from scipy.sparse import csr_matrix

    frames = [b for b in batches if not b.empty]
    if not frames:
        return
    rows = pd.concat(frames, ignore_index=True)
    customers = pd.factorize(rows[CUSTOMER_ID])[0]
    x = csr_matrix(
        (np.ones(len(rows), np.float32), (customers, rows[ARTICLE_IDX].to_numpy())),
        shape=(customers.max() + 1, n),
    )
    gram = (x.T @ x).tocoo()
    yield pd.DataFrame({"i": gram.row, "j": gram.col, "c": gram.data.astype(np.float64)})


def fit_itemitem(interactions: DataFrame, config: RecsConfig) -> ItemItemModel | None:
    """EASE on the distinct (customer, article) pairs of ``interactions`` (weight > 0),
    over the ``itemitem_max_articles`` articles with the most customers."""
    pairs = (
        interactions.where(F.col(WEIGHT) > 0)
        .select(CUSTOMER_ID, ARTICLE_ID)
        .where(F.col(CUSTOMER_ID).isNotNull())
        .distinct()
    )
    vocab = (
        pairs.groupBy(ARTICLE_ID)
        .agg(F.count(F.lit(1)).alias("_n"))
        .orderBy(F.col("_n").desc(), F.col(ARTICLE_ID))
        .limit(config.itemitem_max_articles)
        .toPandas()
    )
    # An article needs a co-buyer to learn anything; fewer than two articles, nothing to do.
    if len(vocab) < 2:
        return None
    ids = np.sort(vocab[ARTICLE_ID].to_numpy(dtype=object))
    n = len(ids)
    spark = interactions.sparkSession
    index = vocabulary_index(spark, ids)
    x = pairs.join(F.broadcast(index), ARTICLE_ID).select(CUSTOMER_ID, ARTICLE_IDX)
    partitions = max(1, spark.sparkContext.defaultParallelism)
    parts = x.repartition(partitions, CUSTOMER_ID).mapInPandas(
        lambda batches: _partial_gram(batches, n), schema="i int, j int, c double"
    )
    # X'X is symmetric (sums of whole co-purchase counts, exact in float64): the driver
    # collects the upper triangle as Arrow, half the entries and no pandas copy of them,
    # and mirrors it into the dense matrix.
    upper = (
        parts.groupBy("i", "j").agg(F.sum("c").alias("c")).where(F.col("i") <= F.col("j")).toArrow()
    )
    gram = np.zeros((n, n), dtype=np.float64)
    i, j = upper.column("i").to_numpy(), upper.column("j").to_numpy()
    c = upper.column("c").to_numpy()
    gram[i, j] = c
    gram[j, i] = c
    del upper, i, j, c
    return ItemItemModel(ids, ease_weights(gram, config.itemitem_l2, overwrite=True))


def ease_weights(gram: np.ndarray, l2: float, overwrite: bool = False) -> np.ndarray:
    """EASE's closed form: B = -P / diag(P) off the diagonal, 0 on it, P = (G + l2 I)^-1.
    ``overwrite``: ``gram`` (float64) may be used as scratch space, which spares the
    driver a copy of the n x n matrix."""
    g = gram if overwrite and gram.dtype == np.float64 else gram.astype(np.float64, copy=True)
    g[np.diag_indices_from(g)] += l2
    p = np.linalg.inv(g)
    del g
    p /= -np.diag(p).copy()  # in place, the same arithmetic as p / -diag(p)
    p[np.diag_indices_from(p)] = 0.0
    return p.astype(np.float32)


def itemitem_candidates(
    model: ItemItemModel,
    interactions: DataFrame,
    sellable: DataFrame,
    k: int,
    exclude: DataFrame | None = None,
) -> DataFrame:
    """EASE top-k among sellable vocabulary articles for every customer with an
    interaction in the vocabulary: (customer_id, article_id, score, reason), the score
    divided by the customer's best (1.0 for the first)."""
    spark = interactions.sparkSession
    keep = set(sellable.select(ARTICLE_ID).toPandas()[ARTICLE_ID])
    mask = np.array([a in keep for a in model.article_ids], dtype=bool)
    if not mask.any():
        return spark.createDataFrame(
            [], f"{CUSTOMER_ID} string, {ARTICLE_ID} string, {SCORE} double, {REASON} string"
        )
    queries = (
        interactions.where(F.col(WEIGHT) > 0)
        .join(F.broadcast(vocabulary_index(spark, model.article_ids)), ARTICLE_ID)
        .groupBy(F.col(CUSTOMER_ID).alias(QUERY_ID))
        .agg(
            F.sort_array(
                F.collect_list(F.struct(ARTICLE_IDX, F.col(WEIGHT).cast("float").alias(WEIGHT)))
            ).alias("_q")
        )
        .select(
            QUERY_ID,
            F.col(f"_q.{ARTICLE_IDX}").alias(QUERY_INDICES),
            F.col(f"_q.{WEIGHT}").alias(QUERY_VALUES),
        )
    )
    if exclude is not None:
        seen = exclude.groupBy(F.col(CUSTOMER_ID).alias(QUERY_ID)).agg(
            F.collect_set(ARTICLE_ID).alias(QUERY_EXCLUDE)
        )
        queries = queries.join(seen, QUERY_ID, "left")
    # Row a of the broadcast matrix is column a of B: a customer's score is x_u . B[:, a].
    columns = np.ascontiguousarray(model.weights[:, mask].T)
    top = blocked_top_k(queries, model.article_ids[mask], columns, k).where(F.col(TOPK_SCORE) > 0)
    best = F.max(TOPK_SCORE).over(Window.partitionBy(QUERY_ID))
    return top.select(
        F.col(QUERY_ID).alias(CUSTOMER_ID),
        F.col(ITEM_ID).alias(ARTICLE_ID),
        (F.col(TOPK_SCORE) / best).alias(SCORE),
        F.lit(REASON_ITEMITEM).alias(REASON),
    )
