"""Pipeline bookkeeping: failures are recorded, alerted and reported in one line."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from shopguide.pipeline import PipelineError, backfill, run_task
from shopguide.steps import TASK_NAMES
from shopguide.warehouse import open_warehouse
from support import make_settings


@pytest.fixture
def webhook():
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the http.server API
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/alert", received
    server.shutdown()


def test_failed_task_is_recorded_and_alerted(tmp_path, webhook):
    url, received = webhook
    settings = make_settings(tmp_path, source="hm", source_path=str(tmp_path / "nowhere"), alert_webhook=url)
    with pytest.raises(PipelineError, match=r"^ingest failed for 2024-06-30: .*nowhere"):
        run_task("ingest", "2024-06-30", settings)
    assert received and received[0]["task"] == "ingest" and received[0]["run_date"] == "2024-06-30"
    assert "nowhere" in received[0]["reason"]
    wh = open_warehouse(settings)
    runs = wh.query_df("SELECT status, message FROM published.pipeline_runs")
    assert runs["status"].tolist() == ["failed"] and runs["message"].iloc[0].startswith("ingest: ")
    log = wh.query_df("SELECT task, status FROM outputs.task_runs")
    assert log.values.tolist() == [["ingest", "failed"]]


def test_unreachable_webhook_does_not_hide_the_failure(tmp_path):
    settings = make_settings(tmp_path, source="hm", source_path=str(tmp_path / "nowhere"), alert_webhook="http://127.0.0.1:9/x")
    with pytest.raises(PipelineError, match="ingest failed"):
        run_task("ingest", "2024-06-30", settings)


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
        "load_outputs", "build_candidates", "validate_outputs", "publish",
    )  # fmt: skip


def test_stale_optional_outputs_are_not_loaded(tmp_path):
    import pandas as pd

    from shopguide.pipeline import _clear_outputs, load_outputs
    from shopguide.schema import PUBLISHED_TABLES
    from shopguide.warehouse import write_parquet
    from spark_jobs.common import output_path

    settings = make_settings(tmp_path)
    day = "2024-06-30"
    for name in ("recommendations", "demand_forecast", "model_metrics"):
        columns = [c for c in PUBLISHED_TABLES[name] if c != "run_date"]
        row = {c: ("x" if c in ("customer_id", "article_id", "reason", "model") else 1) for c in columns}
        if name == "demand_forecast":
            row["forecast_date"] = pd.Timestamp("2024-07-01").date()
        write_parquet(pd.DataFrame([row]), output_path(settings.lake, day, name) + "/part-0.parquet")
    # An earlier attempt left model_metrics; this attempt ran without the holdout.
    _clear_outputs(settings, day, ("model_metrics",))
    counts = load_outputs(settings, day)
    assert counts["recommendations"] == 1 and counts["model_metrics"] == 0
    with pytest.raises(PipelineError, match="demand_forecast is missing"):
        _clear_outputs(settings, day, ("demand_forecast",))
        load_outputs(settings, day)


def test_a_late_run_posts_its_deadline_alert(webhook, monkeypatch):
    import asyncio

    from shopguide.alerts import run_is_late

    url, received = webhook
    monkeypatch.setenv("SHOPGUIDE_ALERT_WEBHOOK", url)
    context = {"dag_run": {"data_interval_start": "2024-03-30T00:00:00+00:00"}}
    asyncio.run(run_is_late(context, deadline="4 hours after it was queued"))
    assert received == [
        {
            "pipeline": "shopguide_nightly",
            "run_date": "2024-03-30",
            "task": "deadline",
            "reason": received[0]["reason"],
        }
    ]
    assert "late" in received[0]["reason"] and "4 hours" in received[0]["reason"]
