"""The whole DAG, end to end, with `airflow dags test` on SQLite and small generated data."""

from __future__ import annotations

import os
import subprocess
import sys
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
    generate_shop(settings.source_path, customers=300, articles=120, days=60, end_date="2024-03-31", seed=11)
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
        "PATH": f"{BIN}:{os.environ['PATH']}",
    }
    env.pop("SPARK_MASTER", None)
    migrate = subprocess.run([str(BIN / "airflow"), "db", "migrate"], env=env, capture_output=True, text=True)
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
        table: wh.scalar(f"SELECT count(*) FROM published.{table} WHERE run_date = DATE '2024-03-31'")
        for table in ("recommendations", "demand_forecast", "email_campaign_list", "pipeline_runs")
    }
    assert all(n > 0 for n in counts.values()), counts
    assert wh.scalar("SELECT count(*) FROM published.recommendations WHERE run_date <> DATE '2024-03-31'") == 0
    status = wh.query_df("SELECT status, task_durations FROM published.pipeline_runs")
    assert status["status"].tolist() == ["success"]
    assert '"publish"' not in status["task_durations"].iloc[0] and '"recommend"' in status["task_durations"].iloc[0]
