"""index_ids (spark_jobs/recommend/candidates/als.py): the StringIndexer map equals the
sorted row_number map it replaced, so ALS sees the same integer ids (and the recommender
the same lists)."""

from __future__ import annotations

from pyspark.sql import Window
from pyspark.sql import functions as F

from spark_jobs.recommend.candidates.als import index_ids


def _window_map(df, id_col, idx_col):
    ids = df.select(id_col).where(F.col(id_col).isNotNull()).distinct()
    order = Window.orderBy(id_col)
    return ids.select(id_col, (F.row_number().over(order) - 1).cast("int").alias(idx_col))


def test_index_ids_is_the_sorted_row_number_map(spark):
    ids = ["0000000010", "0000000009", "abc", "ABC", "a-1", "a_1", "z", "10", "9", "é", None]
    df = spark.createDataFrame([(i,) for i in ids + ids[:4]], "customer_id string")
    got = index_ids(df, "customer_id", "idx").orderBy("idx").collect()
    want = _window_map(df, "customer_id", "idx").orderBy("idx").collect()
    assert [tuple(r) for r in got] == [tuple(r) for r in want]
    assert [r["idx"] for r in got] == list(range(len(set(ids) - {None})))
    assert dict(index_ids(df, "customer_id", "idx").dtypes)["idx"] == "int"
