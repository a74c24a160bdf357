"""The whole nightly pipeline on small generated data: publish, rerun, bad input.

These run the same task functions the DAG runs (`shopguide.pipeline.run_pipeline`),
on DuckDB and on the real PostgreSQL server.
"""

from __future__ import annotations

import pandas as pd
import pytest

from shopguide.export import export_email_list
from shopguide.generate import generate_shop
from shopguide.pipeline import PipelineError, run_pipeline
from shopguide.schema import PUBLISHED_TABLES
from shopguide.warehouse import open_warehouse
from support import make_settings

pytestmark = pytest.mark.slow
RUN_DATE = "2024-03-31"


@pytest.fixture(scope="module")
def shop_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("shop")
    generate_shop(out, customers=400, articles=150, days=90, end_date=RUN_DATE, seed=7)
    return out


def published(wh, table: str, run_date: str = RUN_DATE) -> pd.DataFrame:
    order = {
        "recommendations": "customer_id, rank",
        "demand_forecast": "article_id, forecast_date",
        "email_campaign_list": "customer_id, rank",
        "similar_articles": "article_id, rank",
        "outfit_complements": "article_id, rank",
        "model_metrics": "model, k",
        "forecast_metrics": "level, model, horizon",
    }[table]
    df = wh.query_df(
        f"SELECT * FROM published.{table} WHERE run_date = CAST({wh.param} AS DATE) ORDER BY {order}",
        [run_date],
    )
    return df.reset_index(drop=True)


def check_published_run(settings) -> dict[str, pd.DataFrame]:
    wh = open_warehouse(settings)
    tables = {t: published(wh, t) for t in PUBLISHED_TABLES}
    recs, forecast, email = (
        tables["recommendations"],
        tables["demand_forecast"],
        tables["email_campaign_list"],
    )
    customers = wh.query_df("SELECT customer_id, is_opted_in FROM marts.customer_profiles")
    # Every customer gets a full list of distinct, sellable articles.
    assert recs["customer_id"].nunique() == len(customers)
    assert recs.groupby("customer_id")["rank"].max().eq(settings.top_k).all()
    assert not recs.duplicated(["customer_id", "article_id"]).any()
    assert recs["reason"].str.len().gt(0).all()
    sellable = set(
        wh.query_df("SELECT article_id FROM marts.article_features WHERE is_sellable")["article_id"]
    )
    assert set(recs["article_id"]) <= sellable
    # 28 days ahead for the sellable articles, with ordered intervals.
    assert (
        forecast.groupby("article_id")["forecast_date"]
        .nunique()
        .eq(settings.forecast_horizon)
        .all()
    )
    assert (forecast["units_p10"] <= forecast["units_p50"]).all() and (
        forecast["units_p50"] <= forecast["units_p90"]
    ).all()
    # Privacy: only opted-in customers are in the marketing list.
    opted_in = set(customers.loc[customers["is_opted_in"].astype(bool), "customer_id"])
    assert len(email) > 0 and set(email["customer_id"]) <= opted_in
    assert email.groupby("customer_id")["rank"].max().le(settings.email_top_n).all()
    # The nightly holdout scores the model and the baselines; the backtest the forecaster.
    assert {"hybrid", "popularity", "repurchase"} <= set(tables["model_metrics"]["model"])
    assert len(tables["forecast_metrics"]) > 0 and len(tables["similar_articles"]) > 0
    runs = wh.query_df("SELECT * FROM published.pipeline_runs WHERE status = 'success'")
    assert len(runs) >= 1 and '"recommendations"' in runs["row_counts"].iloc[-1]
    return tables


def test_nightly_run_rerun_and_bad_input_on_duckdb(shop_dir, tmp_path):
    settings = make_settings(tmp_path, source="generated", source_path=str(shop_dir))
    run_pipeline(settings, RUN_DATE)
    first = check_published_run(settings)

    # A rerun of the same date replaces its partitions: identical published rows.
    run_pipeline(settings, RUN_DATE)
    second = check_published_run(settings)
    for table in PUBLISHED_TABLES:
        pd.testing.assert_frame_equal(first[table], second[table], check_exact=False, rtol=1e-9)

    # The email tool's CSV: the published list, opted-in customers only.
    rows, run_date = export_email_list(settings, None, str(tmp_path / "email.csv"))
    exported = pd.read_csv(tmp_path / "email.csv", dtype={"customer_id": str, "article_id": str})
    assert run_date == RUN_DATE and rows == len(second["email_campaign_list"]) == len(exported)
    assert list(exported.columns) == list(PUBLISHED_TABLES["email_campaign_list"])

    # The next delivery's transactions file lost its price column: the run stops at
    # ingest, naming the file and column, and the published run stays as it was.
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("articles", "customers"):
        (broken / f"{name}.parquet").write_bytes((shop_dir / f"{name}.parquet").read_bytes())
    pd.read_parquet(shop_dir / "transactions.parquet").drop(columns=["price"]).to_parquet(
        broken / "transactions.parquet"
    )
    with pytest.raises(PipelineError, match=r"ingest failed .*transactions.parquet.*price"):
        run_pipeline(settings.with_(source_path=str(broken)), RUN_DATE)
    wh = open_warehouse(settings)
    for table in PUBLISHED_TABLES:
        pd.testing.assert_frame_equal(second[table], published(wh, table))
    failed = wh.query_df("SELECT message FROM published.pipeline_runs WHERE status = 'failed'")
    assert len(failed) == 1 and failed["message"].iloc[0].startswith("ingest:")


@pytest.mark.postgres
def test_nightly_run_on_postgres(shop_dir, tmp_path, pg_url):
    settings = make_settings(tmp_path, pg_url, source="generated", source_path=str(shop_dir))
    run_pipeline(settings, RUN_DATE)
    check_published_run(settings)
