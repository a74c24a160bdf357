"""Pipeline bookkeeping: dates checked, task order, stale outputs never loaded."""

from __future__ import annotations

from datetime import date

import pytest

from shopguide.pipeline import PipelineError
from shopguide.run import backfill, run_task
from shopguide.steps import TASK_NAMES
from support import make_settings


def test_malformed_date_is_refused_before_any_work(tmp_path):
    with pytest.raises(ValueError):
        run_task("ingest", "2024-02-30", make_settings(tmp_path))
    assert not (tmp_path / "home").exists()


def test_backfill_refuses_an_empty_range(tmp_path):
    with pytest.raises(ValueError, match="empty"):
        backfill(make_settings(tmp_path), "2024-06-02", "2024-06-01")


def test_task_order_matches_the_documented_flow():
    assert TASK_NAMES == (
        "ingest", "validate_raw", "build_models", "export_inputs", "recommend", "forecast",
        "load_outputs", "score_feedback", "build_candidates", "validate_outputs", "publish",
        "report",
    )  # fmt: skip


def test_stale_optional_outputs_are_not_loaded(tmp_path):
    import pandas as pd

    from shopguide.pipeline import _clear_outputs, load_outputs
    from shopguide.schema import PUBLISHED_TABLES
    from shopguide.warehouse import write_parquet
    from spark_jobs.common import output_path

    settings = make_settings(tmp_path)
    day = date(2024, 6, 30)
    for name in ("recommendations", "demand_forecast", "model_metrics"):
        columns = [c for c in PUBLISHED_TABLES[name] if c != "run_date"]
        row = {
            c: ("x" if c in ("customer_id", "article_id", "reason", "model") else 1)
            for c in columns
        }
        if name == "demand_forecast":
            row["forecast_date"] = pd.Timestamp("2024-07-01").date()
        write_parquet(
            pd.DataFrame([row]),
            output_path(settings.lake, day.isoformat(), name) + "/part-0.parquet",
        )
    # An earlier attempt left model_metrics; this attempt ran without the holdout.
    _clear_outputs(settings, day, ("model_metrics",))
    counts = load_outputs(settings, day)
    assert counts["recommendations"] == 1 and counts["model_metrics"] == 0
    with pytest.raises(PipelineError, match="demand_forecast is missing"):
        _clear_outputs(settings, day, ("demand_forecast",))
        load_outputs(settings, day)
