"""The learned ranker kept in the lake, so the nightly run retrains it once a week, not
every night.

Training the ranker is a whole model state of its own (ALS, EASE, content, complements
at the cut before its validation window, then the candidates of every buyer in the
window): about a third of the recommend stage. A ranker is a few dozen coefficients and
changes slowly, so the nightly run with a holdout writes the one it trains to
``<lake>/models/ranker/label_until=D/`` (one JSON line) and the next nights reuse it
while it is recent and still leak-free:

- its validation labels end on or before the night's holdout cut (``run_date -
  holdout_days``), so the holdout never scores a model that saw its days;
- they end at most ``ranker_max_age_days - 1`` days before that cut (the default 7:
  every run of the last week can reuse the ranker one of them trained; a rerun of a
  date reuses the ranker its first run trained, so it publishes the same lists);
- it was trained with the same settings (a hash of :class:`RecsConfig`) and FEATURES.

The fixed fallback weights are never stored: the next night tries to train again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json

import numpy as np
from pyspark.errors import AnalysisException
from pyspark.sql import SparkSession

from spark_jobs.recommend.config import RecsConfig
from spark_jobs.recommend.features import FEATURES
from spark_jobs.recommend.ranker import Ranker

STORE = "models/ranker"
VERSION = 1


def config_key(config: RecsConfig) -> str:
    """A hash of every recommender setting: a ranker trained under others is not reused."""
    values = json.dumps(dataclasses.asdict(config), sort_keys=True, default=str)
    return hashlib.sha256(values.encode()).hexdigest()


def store_path(lake: str, label_until: str | None = None) -> str:
    base = f"{lake.rstrip('/')}/{STORE}"
    return base if label_until is None else f"{base}/label_until={label_until}"


def ranker_record(ranker: Ranker, config: RecsConfig) -> dict | None:
    """The JSON-able record of a learned ranker; None for the fallback weights."""
    if ranker.label_until is None or (ranker.model is None and ranker.stored is None):
        return None
    coefficients, intercept = ranker.linear()
    return {
        "version": VERSION,
        "label_until": ranker.label_until,
        "features": list(FEATURES),
        "config": config_key(config),
        # Python floats round-trip through JSON exactly: a reused ranker scores exactly
        # as the one that was trained.
        "coefficients": [float(c) for c in coefficients],
        "intercept": float(intercept),
        "repeat_share": ranker.repeat_share,
        "trained_rows": ranker.trained_rows,
        "positives": ranker.positives,
    }


def ranker_from_record(record: dict) -> Ranker:
    return Ranker(
        model=None,
        weights={},
        trained_rows=int(record["trained_rows"]),
        positives=int(record["positives"]),
        repeat_share=record["repeat_share"],
        label_until=record["label_until"],
        stored=(np.array(record["coefficients"], dtype=np.float64), float(record["intercept"])),
    )


def save_ranker(spark: SparkSession, lake: str, ranker: Ranker, config: RecsConfig) -> bool:
    """Keep a learned ranker in the lake (overwriting one with the same label_until);
    False if there is nothing to keep (the fallback weights)."""
    record = ranker_record(ranker, config)
    if record is None:
        return False
    frame = spark.createDataFrame([(json.dumps(record),)], "value string").coalesce(1)
    frame.write.mode("overwrite").text(store_path(lake, record["label_until"]))
    return True


def usable(record: dict, cut: str, config: RecsConfig) -> bool:
    """True if ``record`` may serve a run whose holdout starts after ``cut``."""
    if config.ranker_max_age_days < 1 or record.get("version") != VERSION:
        return False
    if record.get("features") != list(FEATURES) or record.get("config") != config_key(config):
        return False
    age = (dt.date.fromisoformat(cut) - dt.date.fromisoformat(record["label_until"])).days
    return 0 <= age < config.ranker_max_age_days


def load_ranker(spark: SparkSession, lake: str, cut: str, config: RecsConfig) -> Ranker | None:
    """The newest stored ranker usable for a run whose holdout starts after ``cut``, or
    None (nothing stored yet, all too old, too new or trained under other settings)."""
    if config.ranker_max_age_days < 1:
        return None
    try:
        lines = [row["value"] for row in spark.read.text(store_path(lake)).collect()]
    except AnalysisException:  # no ranker kept yet
        return None
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:  # a torn write: ignore it, train afresh
            continue
    records = [r for r in records if usable(r, cut, config)]
    if not records:
        return None
    return ranker_from_record(max(records, key=lambda r: r["label_until"]))
