"""Baseline recommender on tiny hand-made frames (Spark local[2] fixture)."""

from __future__ import annotations

import datetime as dt

import pytest
from pyspark.testing import assertDataFrameEqual

from spark_jobs.recommend.baseline import baseline_recommendations, top_k_per_customer
from spark_jobs.recommend.candidates.popularity import customer_groups
from spark_jobs.recommend.columns import (
    REASON_POPULAR_GLOBAL,
    REASON_POPULAR_SEGMENT,
    REASON_REPURCHASE,
)
from spark_jobs.recommend.config import RecsConfig

RUN_DATE = "2024-01-10"
D0 = dt.date(2024, 1, 10)
D7 = dt.date(2024, 1, 3)


@pytest.fixture(scope="module")
def shop(spark):
    customers = spark.createDataFrame(
        [
            ("c1", "A", "20-29"),
            ("c2", "A", "20-29"),
            ("c3", "B", "30-39"),  # segment and age band too small -> global
            ("c4", "A", "20-29"),  # no purchases: cold start
            ("c5", None, None),  # unknown attributes -> global
        ],
        "customer_id string, segment string, age_band string",
    )
    articles = spark.createDataFrame(
        [("a1", True), ("a2", True), ("a3", True), ("a4", True), ("a5", False)],
        "article_id string, is_sellable boolean",
    )
    transactions = spark.createDataFrame(
        [
            (D0, "c1", "a1", 1),
            (D7, "c1", "a2", 1),
            (D0, "c2", "a1", 1),
            (D0, "c2", "a3", 1),
            (D0, "c3", "a4", 1),
            (D0, "c3", "a5", 1),  # not sellable: never recommended
            (D0, None, "a4", 5),  # anonymous sale: ignored
            (dt.date(2024, 1, 11), "c1", "a4", 1),  # after the run date: ignored
        ],
        "purchase_date date, customer_id string, article_id string, quantity int",
    )
    return customers, articles, transactions


CONFIG = RecsConfig(
    top_k=3, min_group_buyers=2, popularity_half_life_days=7.0, repurchase_half_life_days=30.0
)


def test_customer_groups_back_off(spark, shop):
    customers, _, transactions = shop
    groups = customer_groups(customers, transactions, CONFIG)
    expected = spark.createDataFrame(
        [
            ("c1", "segment", "A"),
            ("c2", "segment", "A"),
            ("c3", "global", "global"),
            ("c4", "segment", "A"),
            ("c5", "global", "global"),
        ],
        "customer_id string, group_level string, group_value string",
    )
    assertDataFrameEqual(groups, expected)


def test_baseline_recommendations_hand_computed(spark, shop):
    customers, articles, transactions = shop
    recs = baseline_recommendations(customers, articles, transactions, RUN_DATE, CONFIG)
    # Repurchase score 1 + w/(w+1), w = 0.5 ** (days/30): today -> 1.5; 7 days ago
    # w = 0.5 ** (7/30) = 0.850667 -> 1.459657.
    # Segment A popularity (half-life 7): a1 = 1 + 1 = 2, a3 = 1, a2 = 0.5 -> share of
    # leader 1.0, 0.5, 0.25. Global: a1 2, a3 1, a4 1, a2 0.5 (a5 unsellable).
    rep_7 = 1 + 0.5 ** (7 / 30) / (0.5 ** (7 / 30) + 1)
    expected = spark.createDataFrame(
        [
            ("c1", 1, "a1", 1.5, REASON_REPURCHASE),
            ("c1", 2, "a2", rep_7, REASON_REPURCHASE),
            ("c1", 3, "a3", 0.5, REASON_POPULAR_SEGMENT),
            ("c2", 1, "a1", 1.5, REASON_REPURCHASE),
            ("c2", 2, "a3", 1.5, REASON_REPURCHASE),
            ("c2", 3, "a2", 0.25, REASON_POPULAR_SEGMENT),
            ("c3", 1, "a4", 1.5, REASON_REPURCHASE),
            ("c3", 2, "a1", 1.0, REASON_POPULAR_GLOBAL),
            ("c3", 3, "a3", 0.5, REASON_POPULAR_GLOBAL),
            ("c4", 1, "a1", 1.0, REASON_POPULAR_SEGMENT),
            ("c4", 2, "a3", 0.5, REASON_POPULAR_SEGMENT),
            ("c4", 3, "a2", 0.25, REASON_POPULAR_SEGMENT),
            ("c5", 1, "a1", 1.0, REASON_POPULAR_GLOBAL),
            ("c5", 2, "a3", 0.5, REASON_POPULAR_GLOBAL),
            ("c5", 3, "a4", 0.5, REASON_POPULAR_GLOBAL),
        ],
        "customer_id string, rank int, article_id string, score double, reason string",
    )
    assertDataFrameEqual(recs, expected, rtol=1e-6)


def test_top_k_keeps_best_reason_per_article(spark):
    candidates = spark.createDataFrame(
        [
            ("c1", "a1", 0.4, "x"),
            ("c1", "a1", 0.9, "y"),
            ("c1", "a2", 0.5, "z"),
            ("c1", "a3", 0.1, "w"),
        ],
        "customer_id string, article_id string, score double, reason string",
    )
    expected = spark.createDataFrame(
        [("c1", 1, "a1", 0.9, "y"), ("c1", 2, "a2", 0.5, "z")],
        "customer_id string, rank int, article_id string, score double, reason string",
    )
    assertDataFrameEqual(top_k_per_customer(candidates, 2), expected)


def test_main_writes_recommendations_for_every_customer(spark, shop, tmp_path):
    from spark_jobs.common import input_path, output_path
    from spark_jobs.recommend.job import main

    customers, articles, transactions = shop
    lake = str(tmp_path / "lake")
    interactions = (
        transactions.where("customer_id is not null").groupBy("customer_id", "article_id").count()
    )
    for name, df in {
        "customers": customers,
        "articles": articles,
        "transactions": transactions,
        "interactions": interactions,
    }.items():
        df.write.parquet(input_path(lake, RUN_DATE, name))
    main(["--lake", lake, "--run-date", RUN_DATE, "--top-k", "2", "--model", "baseline"])
    out = spark.read.parquet(output_path(lake, RUN_DATE, "recommendations"))
    assert out.columns == ["customer_id", "rank", "article_id", "score", "reason"]
    counts = {r["customer_id"]: r["count"] for r in out.groupBy("customer_id").count().collect()}
    assert counts == {c: 2 for c in ("c1", "c2", "c3", "c4", "c5")}
