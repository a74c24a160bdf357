"""Content features: one L2-normalized vector per article from text and attributes.

Text (prod_name + detail_desc) goes through RegexTokenizer -> StopWordsRemover ->
HashingTF -> IDF; categorical attributes are one-hot encoded; everything is assembled
and L2-normalized, so a dot product is a cosine similarity. Used for
``similar_articles``, customer content profiles and cold-start articles.
"""

from __future__ import annotations

from functools import partial

import numpy as np
from pyspark.ml import Pipeline
from pyspark.ml.feature import (
    IDF,
    HashingTF,
    Normalizer,
    OneHotEncoder,
    RegexTokenizer,
    StopWordsRemover,
    StringIndexer,
    VectorAssembler,
)
from pyspark.ml.functions import vector_to_array
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from spark_jobs.recommend.buckets import customer_buckets
from spark_jobs.recommend.candidates.als import VECTOR, article_matrix, score_top_k
from spark_jobs.recommend.columns import (
    ARTICLE_ID,
    CATEGORICAL_ATTRIBUTES,
    CUSTOMER_ID,
    DETAIL_DESC,
    INDEX_GROUP,
    IS_SELLABLE,
    PROD_NAME,
    RANK,
    SCORE,
    SIMILAR_ARTICLE_ID,
    SIMILAR_ARTICLES_COLUMNS,
)
from spark_jobs.recommend.config import RecsConfig


def content_pool(articles: DataFrame, config: RecsConfig) -> DataFrame:
    """The sellable articles content scoring considers: recent sellers first, then the
    newest, at most ``content_pool_size`` (a full fashion catalogue holds many articles
    that are listed but not really on the shelf)."""
    sellable = articles.where(F.coalesce(F.col(IS_SELLABLE), F.lit(False)))
    units = (
        F.coalesce(F.col("units_28d"), F.lit(0)) if "units_28d" in articles.columns else F.lit(0)
    )
    last = (
        F.col("last_sale_date")
        if "last_sale_date" in articles.columns
        else F.lit(None).cast("date")
    )
    order = Window.orderBy(units.desc(), last.desc_nulls_last(), F.col(ARTICLE_ID))
    return (
        sellable.withColumn("_p", F.row_number().over(order))
        .where(F.col("_p") <= config.content_pool_size)
        .drop("_p")
    )


def article_vectors(articles: DataFrame, config: RecsConfig) -> DataFrame:
    """(article_id, vector array<float>) for every article, L2-normalized."""
    cats = [c for c in CATEGORICAL_ATTRIBUTES if c in articles.columns]
    text = F.lower(
        F.concat_ws(
            " ",
            *[
                F.coalesce(F.col(c).cast("string"), F.lit(""))
                for c in (PROD_NAME, DETAIL_DESC)
                if c in articles.columns
            ],
        )
    )
    df = articles.select(
        ARTICLE_ID,
        text.alias("_text"),
        *[F.coalesce(F.col(c).cast("string"), F.lit("unknown")).alias(c) for c in cats],
    )
    stages = [
        RegexTokenizer(
            inputCol="_text", outputCol="_tokens", pattern="[^a-z0-9]+", minTokenLength=2
        ),
        StopWordsRemover(inputCol="_tokens", outputCol="_words"),
        HashingTF(inputCol="_words", outputCol="_tf", numFeatures=config.content_text_features),
        IDF(inputCol="_tf", outputCol="_tfidf", minDocFreq=2),
        # Text block at unit length, so it weighs like one attribute.
        Normalizer(inputCol="_tfidf", outputCol="_text_vec", p=2.0),
    ]
    if cats:
        # One multi-column indexer: one pass over the articles instead of one per attribute.
        stages.append(
            StringIndexer(
                inputCols=cats, outputCols=[f"_{c}_idx" for c in cats], handleInvalid="keep"
            )
        )
        stages.append(
            OneHotEncoder(
                inputCols=[f"_{c}_idx" for c in cats],
                outputCols=[f"_{c}_oh" for c in cats],
                dropLast=False,
            )
        )
    stages += [
        VectorAssembler(inputCols=["_text_vec"] + [f"_{c}_oh" for c in cats], outputCol="_raw"),
        Normalizer(inputCol="_raw", outputCol="_vec", p=2.0),
    ]
    model = Pipeline(stages=stages).fit(df)
    return model.transform(df).select(ARTICLE_ID, vector_to_array("_vec", "float32").alias(VECTOR))


def _similar_in_group(pdf, top_n: int, block_rows: int):
    """Top-n most similar articles (not itself) for every article of one index group."""
    import pandas as pd

    from spark_jobs.recommend.topk import top_k_dense

    # Sorted, so ties rank the same way on every run.
    pdf = pdf.sort_values(ARTICLE_ID, kind="mergesort")
    ids = pdf[ARTICLE_ID].to_numpy(dtype=object)
    matrix = (
        np.stack(pdf[VECTOR].to_numpy()).astype(np.float32)
        if len(pdf)
        else np.zeros((0, 1), np.float32)
    )
    out = []
    for start in range(0, len(ids), block_rows):
        block = matrix[start : start + block_rows]
        own = [np.array([start + i]) for i in range(len(block))]
        positions, scores = top_k_dense(block, matrix, top_n, own)
        n = positions.shape[1]
        frame = pd.DataFrame(
            {
                ARTICLE_ID: np.repeat(ids[start : start + len(block)], n),
                RANK: np.tile(np.arange(1, n + 1, dtype=np.int32), len(block)),
                SIMILAR_ARTICLE_ID: ids[positions.ravel()],
                SCORE: scores.ravel().astype(np.float64),
            }
        )
        out.append(frame[np.isfinite(frame[SCORE])])
    if not out:
        return pd.DataFrame({c: [] for c in SIMILAR_ARTICLES_COLUMNS})
    return pd.concat(out, ignore_index=True)


def similar_articles(
    vectors: DataFrame, articles: DataFrame, pool: DataFrame, config: RecsConfig
) -> DataFrame:
    """(article_id, rank, similar_article_id, score): the ``similar_top_n`` most similar
    pool articles for every pool article, within its index group unless
    ``similar_same_index_group`` is off. Each index group is one task: a blocked dense
    product of its articles with themselves, never a crossJoin of the catalogue."""
    groups = pool.select(ARTICLE_ID, F.coalesce(F.col(INDEX_GROUP), F.lit("unknown")).alias("_g"))
    if not config.similar_same_index_group:
        groups = groups.select(ARTICLE_ID, F.lit("all").alias("_g"))
    pool_vectors = vectors.join(groups, ARTICLE_ID).select("_g", ARTICLE_ID, VECTOR)
    fn = partial(_similar_in_group, top_n=config.similar_top_n, block_rows=1024)
    schema = f"{ARTICLE_ID} string, {RANK} int, {SIMILAR_ARTICLE_ID} string, {SCORE} double"
    return (
        pool_vectors.groupBy("_g")
        .applyInPandas(lambda pdf: fn(pdf.drop(columns="_g")), schema=schema)
        .select(*SIMILAR_ARTICLES_COLUMNS)
    )


def customer_profiles(
    weighted: DataFrame, vectors: DataFrame, rows_per_bucket: int = 100_000
) -> DataFrame:
    """(customer_id, vector): weighted mean of the bought articles' vectors, L2-normalized.
    ``weighted``: (customer_id, article_id, w).

    Customers are hashed into buckets of about ``rows_per_bucket`` rows and each bucket
    is summed with one vectorized numpy pass (``np.add.reduceat``): a pandas group per
    customer costs a Python call per customer, and MLlib's ``Summarizer`` spills on
    wide dense vectors."""
    joined = weighted.join(vectors, ARTICLE_ID).select(CUSTOMER_ID, "w", VECTOR)
    return customer_buckets(
        joined,
        _profiles_of_bucket,
        f"{CUSTOMER_ID} string, {VECTOR} array<float>",
        rows=weighted.count(),
        rows_per_bucket=rows_per_bucket,
    )


def _profiles_of_bucket(pdf):
    import pandas as pd

    if pdf.empty:
        return pd.DataFrame({CUSTOMER_ID: [], VECTOR: []})
    pdf = pdf.sort_values(CUSTOMER_ID, kind="mergesort")
    ids = pdf[CUSTOMER_ID].to_numpy(dtype=object)
    weighted = (
        np.stack(pdf[VECTOR].to_numpy()).astype(np.float32)
        * pdf["w"].to_numpy(dtype=np.float32)[:, None]
    )
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    sums = np.add.reduceat(weighted, starts, axis=0)
    norms = np.linalg.norm(sums, axis=1)
    keep = norms > 0
    profiles = (sums[keep] / norms[keep, None]).astype(np.float32)
    return pd.DataFrame({CUSTOMER_ID: ids[starts][keep], VECTOR: list(profiles)})


def content_candidates(
    profiles: DataFrame,
    vectors: DataFrame,
    pool: DataFrame,
    k: int,
    exclude: DataFrame | None = None,
) -> DataFrame:
    """(customer_id, article_id, score): the k pool articles closest to each profile."""
    ids, matrix = article_matrix(vectors, pool)
    return score_top_k(profiles, ids, matrix, k, exclude)
