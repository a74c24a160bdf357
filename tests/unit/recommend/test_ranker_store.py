"""The ranker kept in the lake: reused only while recent, leak-free and trained under the
same settings; read back, it scores exactly as the one that was trained."""

from __future__ import annotations

import json

import numpy as np

from spark_jobs.recommend.config import RecsConfig
from spark_jobs.recommend.features import FEATURES
from spark_jobs.recommend.ranker import Ranker, fallback_ranker
from spark_jobs.recommend.ranker_store import (
    load_ranker,
    ranker_from_record,
    ranker_record,
    save_ranker,
    usable,
)


def learned(label_until: str, seed: int = 0) -> Ranker:
    rng = np.random.default_rng(seed)
    # Coefficients with many significant digits: the JSON round trip must keep all.
    coefficients = rng.normal(size=len(FEATURES)) / 3.0
    return Ranker(
        model=None,
        weights={},
        trained_rows=1234,
        positives=56,
        repeat_share=0.1234567,
        label_until=label_until,
        stored=(coefficients, float(rng.normal()) / 7.0),
    )


def test_a_record_round_trips_exactly_through_json():
    config = RecsConfig()
    ranker = learned("2024-06-23")
    back = ranker_from_record(json.loads(json.dumps(ranker_record(ranker, config))))
    c0, b0 = ranker.linear()
    c1, b1 = back.linear()
    assert np.array_equal(c0, c1) and b0 == b1
    assert (back.repeat_share, back.trained_rows, back.positives, back.label_until) == (
        0.1234567,
        1234,
        56,
        "2024-06-23",
    )
    assert back.describe()["kind"] == "logistic-regression (stored)"


def test_only_recent_leak_free_rankers_of_the_same_settings_are_usable():
    config = RecsConfig()
    record = ranker_record(learned("2024-06-23"), config)
    cut = "2024-06-23"  # the night's holdout starts after this day
    assert usable(record, cut, config)  # a rerun of the date that trained it
    assert usable(record, "2024-06-29", config)  # six days later
    assert not usable(record, "2024-06-30", config)  # a week old: retrain
    assert not usable(record, "2024-06-22", config)  # labels inside that run's holdout
    assert not usable(record, cut, config.replace(als_rank=32))  # other settings
    assert not usable(record, cut, config.replace(ranker_max_age_days=0))  # reuse off
    assert not usable({**record, "features": record["features"][:-1]}, cut, config)
    assert ranker_record(fallback_ranker(config), config) is None  # fixed weights: never kept


def test_the_newest_usable_ranker_is_read_back_from_the_lake(spark, tmp_path):
    config = RecsConfig()
    lake = str(tmp_path / "lake")
    assert load_ranker(spark, lake, "2024-06-23", config) is None  # nothing kept yet
    assert not save_ranker(spark, lake, fallback_ranker(config), config)
    older, newer, future = (
        learned("2024-06-16", 1),
        learned("2024-06-20", 2),
        learned("2024-06-25", 3),
    )
    for ranker in (older, newer, future):
        assert save_ranker(spark, lake, ranker, config)
    got = load_ranker(spark, lake, "2024-06-23", config)
    assert got.label_until == "2024-06-20"  # 2024-06-25 would leak into this holdout
    assert np.array_equal(got.linear()[0], newer.linear()[0])
    assert got.linear()[1] == newer.linear()[1]
    # Saving again under the same label_until replaces the record.
    assert save_ranker(spark, lake, learned("2024-06-20", 4), config)
    again = load_ranker(spark, lake, "2024-06-23", config)
    assert np.array_equal(again.linear()[0], learned("2024-06-20", 4).linear()[0])
    assert load_ranker(spark, lake, "2024-06-23", config.replace(top_k=5)) is None
