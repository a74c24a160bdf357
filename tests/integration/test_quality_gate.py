"""The quality gate before publish (issue 16), through the real pipeline on a small shop.

1. A degraded hybrid (its ranker lists the candidates it believes least in) loses the
   holdout: the run publishes the best baseline's lists, says so in the rows' reason and
   in pipeline_runs, and alerts.
2. The next run's source has half the customers: publication stops at the volume check
   with a message naming the table, both counts and the override; the override publishes.
"""

from __future__ import annotations

import pandas as pd
import pytest

import shopguide.alerts
from shopguide.generate import generate_shop
from shopguide.pipeline import PipelineError
from shopguide.run import run_pipeline, run_task
from shopguide.warehouse import open_warehouse
from spark_jobs.recommend.job import DEGRADE_ENV
from support import make_settings

pytestmark = pytest.mark.slow
FIRST, SECOND = "2024-06-29", "2024-06-30"


def _published(wh, table: str, run_date: str) -> pd.DataFrame:
    return wh.query_df(
        f"SELECT * FROM published.{table} WHERE run_date = CAST({wh.param} AS DATE)", [run_date]
    )


def test_gate_publishes_the_baseline_for_a_broken_hybrid_and_stops_on_a_volume_drop(
    tmp_path, monkeypatch
):
    shop = tmp_path / "shop"
    generate_shop(shop, customers=150, articles=60, days=56, end_date=SECOND, seed=5)
    alerts: list[tuple[str, str]] = []
    monkeypatch.setattr(
        shopguide.alerts,
        "send_alert",
        lambda webhook, run_date, task, reason: alerts.append((task, reason)) or True,
    )
    settings = make_settings(
        tmp_path,
        source="generated",
        source_path=str(shop),
        forecast_backtest_origins=0,
        alert_webhook="http://alerts.invalid/hook",
    )

    # 1. the degraded hybrid
    monkeypatch.setenv(DEGRADE_ENV, "1")
    run_pipeline(settings, FIRST)
    monkeypatch.delenv(DEGRADE_ENV)
    wh = open_warehouse(settings)
    metrics = _published(wh, "model_metrics", FIRST).set_index("model")["map_at_k"]
    assert metrics["hybrid"] < metrics.drop("hybrid").max()
    recs = _published(wh, "recommendations", FIRST)
    assert recs["reason"].str.contains(r"\[baseline: ").all()
    customers = wh.scalar("SELECT count(*) FROM marts.customer_profiles")
    assert recs["customer_id"].nunique() == customers
    run = wh.query_df(
        "SELECT status, message FROM published.pipeline_runs "
        f"WHERE run_date = CAST({wh.param} AS DATE)",
        [FIRST],
    )
    assert run["status"].tolist() == ["success"]
    assert "published the baseline's lists" in run["message"].iloc[0]
    assert [task for task, _ in alerts] == ["quality_gate"]
    assert "below the" in alerts[0][1]
    email = _published(wh, "email_campaign_list", FIRST)
    assert len(email) and email["reason"].str.contains(r"\[baseline: ").all()

    # 2. half the customers: raw is cumulative, so the re-export starts from empty raw tables
    half = tmp_path / "half"
    half.mkdir()
    customers_file = pd.read_parquet(shop / "customers.parquet")
    kept = customers_file.iloc[: len(customers_file) // 2]
    kept.to_parquet(half / "customers.parquet", index=False)
    pd.read_parquet(shop / "articles.parquet").to_parquet(half / "articles.parquet", index=False)
    tx = pd.read_parquet(shop / "transactions.parquet")
    tx[tx["customer_id"].isin(kept["customer_id"])].to_parquet(
        half / "transactions.parquet", index=False
    )
    for table in ("customers", "articles", "transactions"):
        wh.execute(f"DROP TABLE raw.{table}")
    halved = settings.with_(source_path=str(half), recommender="baseline")
    with pytest.raises(PipelineError) as stopped:
        run_pipeline(halved, SECOND)
    message = str(stopped.value)
    assert message.startswith("publish failed")
    assert "customers_with_recommendations" in message and "--accept-volume-change" in message
    before, after = recs["customer_id"].nunique(), len(kept)
    assert f"{after:,} rows against {before:,} on {FIRST}" in message
    assert _published(wh, "recommendations", SECOND).empty  # the previous run stays
    run_task("publish", SECOND, halved.with_(accept_volume_change=True))
    assert _published(wh, "recommendations", SECOND)["customer_id"].nunique() == after
