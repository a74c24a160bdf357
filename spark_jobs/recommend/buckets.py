"""Customer buckets (groups of whole customers for one pandas pass each) and hash draws
that do not depend on the rows' order or partitioning."""

from __future__ import annotations

from spark_jobs.recommend.columns import CUSTOMER_ID

BUCKET = "_bucket"


def bucket_count(rows: int, rows_per_bucket: int = 100_000) -> int:
    """How many customer buckets hold about ``rows_per_bucket`` of ``rows`` rows each."""
    return max(1, -(-int(rows) // rows_per_bucket))


def customer_bucket(buckets: int):
    """The bucket of each row's customer (a column expression)."""
    from pyspark.sql import functions as F

    return F.pmod(F.hash(CUSTOMER_ID), F.lit(buckets))


def customer_buckets(df, fn, schema, rows: int | None = None, rows_per_bucket: int = 100_000):
    """``fn(pdf) -> pdf`` applied to groups of whole customers: the rows are hashed on
    ``customer_id`` into about ``rows / rows_per_bucket`` buckets, one pandas frame each.
    A pandas group per customer would cost a Python call per customer; a bucket holds
    thousands of them for one vectorized pass, and its size stays bounded as the shop
    grows (``rows``: the row count of ``df``, or an upper bound). A ``df`` that already
    carries a ``_bucket`` column (from :func:`customer_bucket`, partitioned by it) keeps
    its buckets, so no second shuffle is needed; ``rows`` is required otherwise."""
    if BUCKET not in df.columns:
        if rows is None:
            raise ValueError("customer_buckets: rows is required when df has no _bucket column")
        df = df.withColumn(BUCKET, customer_bucket(bucket_count(rows, rows_per_bucket)))
    return df.groupBy(BUCKET).applyInPandas(lambda pdf: fn(pdf.drop(columns=BUCKET)), schema=schema)


def stable_uniform(seed: int, *keys: str):
    """A draw in [0, 1) per row from a hash of its ``keys`` and ``seed``. ``F.rand(seed)``
    draws by position within a partition, so the same rows in another order or another
    partitioning (a rerun, a bigger cluster) get other draws; a hash gives a row the
    same draw wherever it lands."""
    from pyspark.sql import functions as F

    bits = 1 << 53
    return F.pmod(F.xxhash64(F.lit(seed), *[F.col(k) for k in keys]), F.lit(bits)).cast(
        "double"
    ) / float(bits)
