"""Leakage: what happens after a cut must not change the metrics computed at that cut.

The nightly holdout fits the recommender at D-7 and scores the last seven days. A
signal that exists only in those seven days (purchases that flip customers' segments in
the run-date mart, an article launched in the window that everyone buys) must leave the
holdout metrics exactly as they are without it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd
import pytest
from test_recommend_hybrid import CONFIG, RUN_DATE, tiny_shop

CUT = "2024-03-24"  # RUN_DATE - 7: the holdout's training cut
FLIPPED = [f"c{c}" for c in range(10)]  # ladies whose holdout week is menswear
LAUNCHED = "L_launch"  # listed two days before the run date, bought by every lady then


def _holdout_shop():
    """tiny_shop, with ten ladies in the 30-39 age band (the men's band) and a holdout
    week in which they buy lots of menswear, and every lady buys an article launched
    in that week. Returns (customers as the run-date mart says, customers as of the
    cut, articles with the launched one, articles without it, transactions)."""
    customers, articles, transactions = tiny_shop()
    customers = customers.copy()
    flipped = customers.customer_id.isin(FLIPPED)
    customers.loc[flipped, "age_band"] = "30-39"
    at_cut = customers.copy()
    at_cut.loc[flipped, "segment"] = "30-39|Ladieswear"
    # The run-date mart counts the holdout week: menswear outweighs their ladieswear.
    at_run_date = customers.copy()
    at_run_date.loc[flipped, "segment"] = "30-39|Menswear"
    extra = []
    day = dt.date(2024, 3, 29)
    for c in FLIPPED:
        for a in ("Ms0", "Ms1", "Mf0", "Mf1"):
            extra.append((day, c, a, 10.0, 2, 10))
    for c in range(20):
        extra.append((dt.date(2024, 3, 30), f"c{c}", LAUNCHED, 20.0, 2, 1))
    transactions = pd.concat(
        [transactions, pd.DataFrame(extra, columns=transactions.columns)], ignore_index=True
    )
    launched = articles[articles.article_id == "L_new"].copy()
    launched["article_id"] = LAUNCHED
    launched["prod_name"] = "Summer dress launched"
    launched["first_seen_date"] = dt.date(2024, 3, 29)
    with_launch = pd.concat([articles, launched], ignore_index=True)
    return at_run_date, at_cut, with_launch, articles, transactions


@pytest.fixture(scope="module")
def holdout(spark, tmp_path_factory):
    """holdout_metrics(customers, articles) on the shop's transactions, fixed-weight ranker."""
    from spark_jobs.recommend.candidates.als import set_checkpoint_dir
    from spark_jobs.recommend.holdout import holdout_metrics
    from spark_jobs.recommend.ranker import fallback_ranker

    set_checkpoint_dir(spark, str(tmp_path_factory.mktemp("ckpt")))
    at_run_date, at_cut, with_launch, without_launch, transactions = _holdout_shop()
    tx = spark.createDataFrame(transactions)
    config = dataclasses.replace(CONFIG, als_max_iter=2)
    frames = {
        "mart_customers": spark.createDataFrame(at_run_date),
        "cut_customers": spark.createDataFrame(at_cut),
        "with_launch": spark.createDataFrame(with_launch),
        "without_launch": spark.createDataFrame(without_launch),
    }

    done: dict[tuple[str, str], pd.DataFrame] = {}  # both tests compare with the clean run

    def run(customers: str, articles: str) -> pd.DataFrame:
        if (customers, articles) in done:
            return done[customers, articles].copy()
        metrics = holdout_metrics(
            frames[customers],
            frames[articles],
            tx,
            RUN_DATE,
            config,
            7,
            fallback_ranker(config),
        )
        done[customers, articles] = metrics.sort_values("model").reset_index(drop=True)
        return done[customers, articles].copy()

    return run


def test_segment_flips_in_the_holdout_week_do_not_change_the_holdout(holdout):
    """The run-date mart puts the ten ladies in the men's segment because of what they
    bought in the holdout week; at the cut they were ladies. The holdout must be fit on
    the cut's segments, whichever customers table it is handed."""
    clean = holdout("cut_customers", "without_launch")
    leaky = holdout("mart_customers", "without_launch")
    pd.testing.assert_frame_equal(leaky, clean)


def test_an_article_launched_in_the_holdout_week_does_not_change_the_holdout(holdout):
    """An article first listed after the cut, bought by every lady in the holdout week,
    did not exist for the model fit at the cut: the metrics are those of a catalogue
    without it."""
    clean = holdout("cut_customers", "without_launch")
    leaky = holdout("cut_customers", "with_launch")
    pd.testing.assert_frame_equal(leaky, clean)


def test_nightly_holdout_equals_evaluate_recs_on_the_same_files(spark, tmp_path):
    """The nightly holdout for run date D and ``shopguide evaluate recs --source generated
    --path P --train-end W --test-days 7 --k 12`` (W: the holdout window's first day)
    score the same seven days from the same files: same numbers for every model."""
    import argparse

    from shopguide.evaluation import evaluate_recs
    from shopguide.generate import generate_shop
    from shopguide.pipeline import prepare_inputs
    from shopguide.sources import read_source
    from spark_jobs.common import read_input
    from spark_jobs.recommend.asof import shop_as_of
    from spark_jobs.recommend.candidates.als import set_checkpoint_dir
    from spark_jobs.recommend.config import RecsConfig
    from spark_jobs.recommend.holdout import holdout_metrics
    from support import make_settings

    run_date, first_test_day = "2024-06-30", "2024-06-24"
    path = tmp_path / "shop"
    generate_shop(path, customers=150, articles=60, days=56, end_date=run_date, seed=5)
    settings = make_settings(tmp_path / "nightly")
    prepare_inputs(settings, run_date, read_source("generated", str(path)))
    set_checkpoint_dir(spark, str(tmp_path / "ckpt"))
    customers, articles, transactions = (
        read_input(spark, settings.lake, run_date, n)
        for n in ("customers", "articles", "transactions")
    )
    # At the run date the as-of state is the marts' (the production lists do not change).
    custs, arts = shop_as_of(customers, articles, transactions, run_date, RecsConfig())
    mart = customers.select("customer_id", "segment").toPandas().set_index("customer_id")
    ours = custs.select("customer_id", "segment").toPandas().set_index("customer_id")
    pd.testing.assert_series_equal(ours.segment.sort_index(), mart.segment.sort_index())
    flags = ["is_new", "is_sellable"]
    mart = articles.select("article_id", *flags).toPandas().set_index("article_id").sort_index()
    ours = arts.select("article_id", *flags).toPandas().set_index("article_id").sort_index()
    pd.testing.assert_frame_equal(ours, mart)
    assert 0 < mart.is_sellable.sum() < len(mart)
    nightly = holdout_metrics(
        customers, articles, transactions, run_date, RecsConfig().replace(top_k=12), 7
    ).set_index("model")
    offline = evaluate_recs(
        argparse.Namespace(
            source="generated",
            path=str(path),
            k=12,
            split="time",
            train_end=first_test_day,
            test_days=7,
            workdir=str(tmp_path / "offline"),
        )
    )
    assert set(offline["models"]) == set(nightly.index)
    assert offline["users"] > 20
    for model, metrics in offline["models"].items():
        for key, value in metrics.items():
            assert nightly.loc[model, key] == pytest.approx(value, abs=1e-6), (model, key)
