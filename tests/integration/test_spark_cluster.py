"""A pipeline Spark job through a real standalone cluster (master + worker on 127.0.0.1).

The cluster is started from the spark-class launcher shipped in the pyspark package;
the job goes through `spark-submit` because SPARK_MASTER is set, exactly as in the
docker-compose stack.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from shopguide.spark import run_spark_job
from shopguide.standalone import standalone_cluster as standalone_cluster_on
from shopguide.warehouse import read_parquet, write_parquet
from spark_jobs.common import input_path, output_path
from support import make_settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def standalone_cluster(tmp_path_factory):
    with standalone_cluster_on(tmp_path_factory.mktemp("spark-cluster")) as url:
        yield url


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
