"""Collaborative filtering: Spark MLlib implicit ALS on weighted interactions.

Customer and article ids are mapped to dense integers (zipWithIndex over the sorted
ids, so a rerun gives the same map), ALS is fit with a fixed seed and checkpointing,
and top-K scoring goes through :func:`spark_jobs.recommend.topk.blocked_top_k` over the
sellable articles' factors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pyspark.ml.feature import StringIndexer
from pyspark.ml.recommendation import ALS, ALSModel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from spark_jobs.recommend.columns import ARTICLE_ID, CUSTOMER_ID, REASON, SCORE
from spark_jobs.recommend.config import RecsConfig
from spark_jobs.recommend.topk import (
    ITEM_ID,
    QUERY_EXCLUDE,
    QUERY_ID,
    QUERY_VECTOR,
    TOPK_SCORE,
    blocked_top_k,
)

USER_IDX = "customer_idx"
ITEM_IDX = "article_idx"
CONFIDENCE = "confidence"
VECTOR = "vector"

REASON_ALS = "customers with your taste bought this"


@dataclass
class AlsFactors:
    """Fitted factors keyed by the shop's ids: (customer_id, vector), (article_id, vector)."""

    model: ALSModel
    customers: DataFrame
    articles: DataFrame


def index_ids(df: DataFrame, id_col: str, idx_col: str) -> DataFrame:
    """(id_col, idx_col int) for the distinct ids of ``df``, numbered 0, 1, ... in sorted
    order (so a rerun gives the same map). MLlib's StringIndexer with ``alphabetAsc``
    numbers the sorted distinct labels in the JVM: the same map as a row_number over the
    sorted ids (tests/unit/recommend/test_index_ids.py), without a window over the
    whole table on one partition (Spark warned "No Partition Defined for Window operation"
    each time); ``rdd.zipWithIndex`` sent every id through Python and back."""
    ids = df.select(id_col).where(F.col(id_col).isNotNull()).distinct()
    model = StringIndexer(
        inputCol=id_col, outputCol=idx_col, stringOrderType="alphabetAsc", handleInvalid="error"
    ).fit(ids)
    return model.transform(ids).select(id_col, F.col(idx_col).cast("int").alias(idx_col))


def set_checkpoint_dir(spark: SparkSession, directory: str) -> None:
    """ALS iterations build long lineages; checkpointing cuts them (and avoids stack overflows)."""
    spark.sparkContext.setCheckpointDir(directory)


def fit_als(interactions: DataFrame, confidence_col: str, config: RecsConfig) -> AlsFactors:
    """Fit implicit ALS on (customer_id, article_id, <confidence_col>); the caller sets the
    checkpoint directory (see :func:`set_checkpoint_dir`)."""
    data = interactions.where(F.col(confidence_col) > 0).select(
        CUSTOMER_ID, ARTICLE_ID, F.col(confidence_col).cast("float").alias(CONFIDENCE)
    )
    # The id maps and the indexed ratings are checkpointed (eagerly, in the checkpoint
    # directory): a StringIndexer model carries every id it numbers in its plan, and ALS's
    # tasks, every iteration's (narrow-linked to the ratings through its cached blocks),
    # deserialized that plan. A JFR recording of a fit of the H&M week (69k customers) had
    # 77% of the executor threads' samples in that deserialization; checkpointed, the fit
    # took 34-35 s against 57-66 s, with the same factors.
    customers = index_ids(data, CUSTOMER_ID, USER_IDX).checkpoint(eager=True)
    articles = index_ids(data, ARTICLE_ID, ITEM_IDX).checkpoint(eager=True)
    indexed = (
        data.join(customers, CUSTOMER_ID)
        .join(articles, ARTICLE_ID)
        .select(USER_IDX, ITEM_IDX, CONFIDENCE)
        .checkpoint(eager=True)
    )
    als = ALS(
        rank=config.als_rank,
        maxIter=config.als_max_iter,
        regParam=config.als_reg_param,
        alpha=config.als_alpha,
        implicitPrefs=True,
        userCol=USER_IDX,
        itemCol=ITEM_IDX,
        ratingCol=CONFIDENCE,
        coldStartStrategy="drop",
        checkpointInterval=config.als_checkpoint_interval,
        seed=config.seed,
    )
    model = als.fit(indexed)
    user_f = model.userFactors.join(customers.withColumnRenamed(USER_IDX, "id"), "id").select(
        CUSTOMER_ID, F.col("features").alias(VECTOR)
    )
    item_f = model.itemFactors.join(articles.withColumnRenamed(ITEM_IDX, "id"), "id").select(
        ARTICLE_ID, F.col("features").alias(VECTOR)
    )
    return AlsFactors(model=model, customers=user_f, articles=item_f)


def article_matrix(
    article_vectors: DataFrame, keep: DataFrame | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(ids, matrix) of the article vectors, restricted to ``keep``'s article_id when given."""
    if keep is not None:
        article_vectors = article_vectors.join(keep.select(ARTICLE_ID), ARTICLE_ID, "left_semi")
    return _vector_matrix(article_vectors, ARTICLE_ID)


def _vector_matrix(vectors: DataFrame, id_col: str) -> tuple[np.ndarray, np.ndarray]:
    """(ids, matrix) on the driver, sorted by id: (id_col, vector) rows as numpy."""
    pdf = vectors.select(id_col, VECTOR).orderBy(id_col).toPandas()
    if pdf.empty:
        return np.array([], dtype=object), np.zeros((0, 1), dtype=np.float32)
    return pdf[id_col].to_numpy(dtype=object), np.stack(pdf[VECTOR].to_numpy()).astype(np.float32)


def score_top_k(
    customer_vectors: DataFrame,
    article_ids: np.ndarray,
    article_vectors: np.ndarray,
    k: int,
    exclude: DataFrame | None = None,
) -> DataFrame:
    """(customer_id, article_id, score): the k best articles per customer by dot product.
    ``exclude``: (customer_id, article_id) pairs never to return (e.g. already bought)."""
    queries = customer_vectors.select(
        F.col(CUSTOMER_ID).alias(QUERY_ID), F.col(VECTOR).alias(QUERY_VECTOR)
    )
    if exclude is not None:
        seen = exclude.groupBy(F.col(CUSTOMER_ID).alias(QUERY_ID)).agg(
            F.collect_set(ARTICLE_ID).alias(QUERY_EXCLUDE)
        )
        queries = queries.join(seen, QUERY_ID, "left")
    return blocked_top_k(queries, article_ids, article_vectors, k).select(
        F.col(QUERY_ID).alias(CUSTOMER_ID),
        F.col(ITEM_ID).alias(ARTICLE_ID),
        F.col(TOPK_SCORE).alias(SCORE),
    )


def als_candidates(
    factors: AlsFactors, sellable: DataFrame, k: int, exclude: DataFrame | None = None
) -> DataFrame:
    """ALS top-k among sellable articles: (customer_id, article_id, score, reason)."""
    ids, matrix = article_matrix(factors.articles, sellable)
    return score_top_k(factors.customers, ids, matrix, k, exclude).withColumn(
        REASON, F.lit(REASON_ALS)
    )


def als_lookup(factors: AlsFactors):
    """A broadcast of both factor matrices, for :func:`als_scores` inside pandas passes
    (customers x rank floats: 100k customers at rank 64 are 26 MB)."""
    user_ids, user_matrix = _vector_matrix(factors.customers, CUSTOMER_ID)
    item_ids, item_matrix = article_matrix(factors.articles)
    spark = factors.customers.sparkSession
    return spark.sparkContext.broadcast(
        (pd.Index(user_ids), user_matrix, pd.Index(item_ids), item_matrix)
    )


def als_scores(lookup, customer_ids, article_ids) -> np.ndarray:
    """ALS score (customer factors . article factors) of each pair; 0.0 where either has
    no factors. ``lookup``: an :func:`als_lookup` broadcast."""
    user_index, user_matrix, item_index, item_matrix = lookup.value
    u = user_index.get_indexer(customer_ids)
    i = item_index.get_indexer(article_ids)
    known = (u >= 0) & (i >= 0)
    scores = np.zeros(len(u), dtype=np.float64)
    if known.any():
        scores[known] = fixed_order_dot(user_matrix[u[known]], item_matrix[i[known]])
    return scores


def fixed_order_dot(rows: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Row-wise dot products in float64, summed column by column: every row gets the same
    operations in the same order wherever it sits in a batch. BLAS and einsum pick
    kernels by size and alignment, so a row's last bit could change with the batch it
    arrives in, flip near-ties and make a rerun rank differently. ``other``: a matrix of
    the same shape, or one vector of weights."""
    out = np.zeros(len(rows), dtype=np.float64)
    for j in range(rows.shape[1]):
        column = other[:, j] if other.ndim == 2 else other[j]
        out += rows[:, j].astype(np.float64) * np.asarray(column, dtype=np.float64)
    return out
