"""The whole DAG, end to end, with `airflow dags test` on SQLite and small generated data."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from shopguide.generate import generate_shop
from shopguide.warehouse import open_warehouse
from support import make_settings

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def test_airflow_dags_test_publishes_the_run_date(tmp_path):
    settings = make_settings(tmp_path, source="generated")
    generate_shop(
        settings.source_path, customers=300, articles=120, days=60, end_date="2024-03-31", seed=11
    )
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "SHOPGUIDE_HOME": str(settings.home),
        "SHOPGUIDE_WAREHOUSE": settings.warehouse_url,
        "SHOPGUIDE_LAKE": settings.lake,
        "SHOPGUIDE_REPORTS": str(settings.reports_dir),
        "SHOPGUIDE_SOURCE": "generated",
        "SHOPGUIDE_SOURCE_PATH": settings.source_path,
        # The DAG's wiring is under test: the baseline recommender stands in for the
        # hybrid model, which runs in-process with its nightly holdout and the forecast
        # backtest in tests/integration/test_pipeline_e2e.py and through spark-submit on a
        # cluster in tests/integration/test_airflow_live.py.
        "SHOPGUIDE_RECOMMENDER": "baseline",
        "SHOPGUIDE_EVALUATE_RECOMMENDATIONS": "0",
        "SHOPGUIDE_FORECAST_BACKTEST_ORIGINS": "0",
        "PATH": f"{BIN}:{os.environ['PATH']}",
    }
    env.pop("SPARK_MASTER", None)
    migrate = subprocess.run(
        [str(BIN / "airflow"), "db", "migrate"], env=env, capture_output=True, text=True
    )
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    # Logical date 2024-04-01: the data interval is the previous day, 2024-03-31.
    run = subprocess.run(
        [str(BIN / "airflow"), "dags", "test", "shopguide_nightly", "2024-04-01"],
        env=env, capture_output=True, text=True, timeout=1500,
    )  # fmt: skip
    log = run.stdout + run.stderr
    assert run.returncode == 0, log[-5000:]
    assert "state=failed" not in log.replace(" ", ""), log[-5000:]

    wh = open_warehouse(settings)
    counts = {
        table: wh.scalar(
            f"SELECT count(*) FROM published.{table} WHERE run_date = DATE '2024-03-31'"
        )
        for table in ("recommendations", "demand_forecast", "email_campaign_list", "pipeline_runs")
    }
    assert all(n > 0 for n in counts.values()), counts
    assert (
        wh.scalar(
            "SELECT count(*) FROM published.recommendations WHERE run_date <> DATE '2024-03-31'"
        )
        == 0
    )
    status = wh.query_df("SELECT status, task_durations FROM published.pipeline_runs")
    assert status["status"].tolist() == ["success"]
    assert (
        '"publish"' not in status["task_durations"].iloc[0]
        and '"recommend"' in status["task_durations"].iloc[0]
    )

    # `airflow backfill create` plans one run per day for a date range, none twice (a
    # dry run: executing it needs a scheduler; `shopguide backfill` runs the same tasks,
    # see tests/reliability/test_faults.py).
    airflow = str(BIN / "airflow")
    reserialize = subprocess.run(
        [airflow, "dags", "reserialize"], env=env, capture_output=True, text=True
    )
    assert reserialize.returncode == 0, reserialize.stderr[-3000:]
    dry = subprocess.run(
        [airflow, "backfill", "create", "--dag-id", "shopguide_nightly", "--from-date", "2024-03-25",
         "--to-date", "2024-03-31", "--dry-run"],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert dry.returncode == 0, (dry.stdout + dry.stderr)[-3000:]
    planned = re.findall(r"\| (\d{4}-\d\d-\d\d) 02:00:00\+00:00", dry.stdout)
    days = [date.fromisoformat(d) for d in planned]
    assert len(days) >= 5 and len(set(days)) == len(days), dry.stdout
    assert all((b - a).days == 1 for a, b in zip(days, days[1:], strict=False)), dry.stdout
