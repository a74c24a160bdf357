"""A pipeline Spark job through a real standalone cluster (master + worker on 127.0.0.1).

The cluster is started from the spark-class launcher shipped in the pyspark package;
the job goes through `spark-submit` because SPARK_MASTER is set, exactly as in the
docker-compose stack.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from shopguide.spark import run_spark_job
from shopguide.warehouse import read_parquet, write_parquet
from spark_jobs.common import input_path, output_path
from support import make_settings

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(predicate, seconds: float, what: str) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if predicate():
                return
        except OSError:
            pass
        time.sleep(1)
    raise TimeoutError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def standalone_cluster(tmp_path_factory):
    import pyspark

    spark_home = Path(pyspark.__file__).parent
    spark_class = str(spark_home / "bin" / "spark-class")
    logs = tmp_path_factory.mktemp("spark-cluster")
    port, ui, worker_ui = _free_port(), _free_port(), _free_port()
    env = {
        **os.environ,
        "SPARK_HOME": str(spark_home),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_WORKER_DIR": str(logs / "work"),
        "PYSPARK_PYTHON": sys.executable,
    }
    master = subprocess.Popen(
        [spark_class, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port), "--webui-port", str(ui)],
        stdout=open(logs / "master.log", "w"), stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip
    worker = None
    try:
        _wait(
            lambda: urllib.request.urlopen(f"http://127.0.0.1:{ui}/json/", timeout=2).status == 200,
            90,
            "the Spark master",
        )
        worker = subprocess.Popen(
            [spark_class, "org.apache.spark.deploy.worker.Worker", f"spark://127.0.0.1:{port}", "--host", "127.0.0.1",
             "--cores", "2", "--memory", "2g", "--webui-port", str(worker_ui)],
            stdout=open(logs / "worker.log", "w"), stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip

        def alive_workers() -> int:
            with urllib.request.urlopen(f"http://127.0.0.1:{ui}/json/", timeout=2) as resp:
                return int(json.load(resp).get("aliveworkers", 0))

        _wait(lambda: alive_workers() >= 1, 90, "a Spark worker to register")
        yield f"spark://127.0.0.1:{port}"
    finally:
        for proc in (worker, master):
            if proc is not None:
                proc.terminate()
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()


def _write_forecast_inputs(lake: str, run_date: str) -> None:
    end = date.fromisoformat(run_date)
    days = [end - timedelta(days=i) for i in range(60)]
    articles = pd.DataFrame(
        {
            "article_id": ["0000000001", "0000000002", "0000000003"],
            "prod_name": ["Tee", "Jeans", "Dress"],
            "product_type_name": ["T-shirt", "Trousers", "Dress"],
            "product_group_name": ["Garment Upper body", "Garment Lower body", "Garment Full body"],
            "department_name": ["Jersey", "Denim", "Dresses"],
            "index_group_name": ["Ladieswear"] * 3,
            "first_sale_date": [days[-1]] * 3,
            "last_sale_date": [end] * 3,
            "price": [9.99, 29.99, 39.99],
            "is_sellable": [True, True, True],
            "is_new": [False, False, False],
        }
    )
    rows = []
    for i, day in enumerate(days):
        for article, base in (("0000000001", 5), ("0000000002", 2)):
            units = base + (3 if day.weekday() >= 5 else 0) + (i % 3)
            rows.append(
                {
                    "article_id": article,
                    "sale_date": day,
                    "units": float(units),
                    "revenue": units * 10.0,
                    "customers": units,
                }
            )
    write_parquet(articles, input_path(lake, run_date, "articles"))
    write_parquet(pd.DataFrame(rows), input_path(lake, run_date, "daily_sales"))


def test_forecast_job_runs_on_a_standalone_cluster(standalone_cluster, tmp_path, caplog):
    import logging

    caplog.set_level(logging.INFO, logger="shopguide.spark")
    settings = make_settings(tmp_path, spark_master=standalone_cluster)
    assert settings.spark_is_remote
    run_date = "2024-03-31"
    _write_forecast_inputs(settings.lake, run_date)

    run_spark_job(
        settings, "forecast", ["--lake", settings.lake, "--run-date", run_date, "--horizon", "14"]
    )

    # The driver's log came through the launcher's logger (the Airflow task log), and
    # the application's event log landed where a history server reads it.
    driver_lines = [r.getMessage() for r in caplog.records if r.name == "shopguide.spark"]
    assert any("[spark forecast]" in m and "SparkContext" in m for m in driver_lines), driver_lines[
        -20:
    ]
    events = list((settings.home / "spark-events").iterdir())
    assert len(events) == 1 and "app-" in events[0].name, events  # eventlog_v2_app-…

    forecast = read_parquet(output_path(settings.lake, run_date, "demand_forecast"))
    assert set(forecast["article_id"]) == {"0000000001", "0000000002", "0000000003"}
    assert len(forecast) == 3 * 14
    first = pd.to_datetime(forecast["forecast_date"]).min().date()
    assert first == date(2024, 4, 1)
    assert (forecast["units_p10"] <= forecast["units_p50"] + 1e-9).all()
    assert (forecast["units_p50"] <= forecast["units_p90"] + 1e-9).all()
    # The steady seller forecasts more than the slow one; the new article is not left out.
    mean = forecast.groupby("article_id")["units_p50"].mean()
    assert mean["0000000001"] > mean["0000000002"]
