"""Observability: a failed task is recorded and alerted, and so is a late (timed out) run."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from harness import LEDGER

from shopguide.pipeline import PipelineError
from shopguide.run import run_task
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
    settings = make_settings(
        tmp_path, source="hm", source_path=str(tmp_path / "nowhere"), alert_webhook=url
    )
    with pytest.raises(PipelineError, match=r"^ingest failed for 2024-06-30: .*nowhere"):
        run_task("ingest", "2024-06-30", settings)
    assert received and received[0]["task"] == "ingest" and received[0]["run_date"] == "2024-06-30"
    assert "nowhere" in received[0]["reason"]
    wh = open_warehouse(settings)
    runs = wh.query_df("SELECT status, message FROM published.pipeline_runs")
    assert runs["status"].tolist() == ["failed"] and runs["message"].iloc[0].startswith("ingest: ")
    log = wh.query_df("SELECT task, status FROM outputs.task_runs")
    assert log.values.tolist() == [["ingest", "failed"]]
    LEDGER.checks.append(
        ("failed task", "recorded in task_runs and pipeline_runs, reason POSTed to the webhook")
    )


def test_unreachable_webhook_does_not_hide_the_failure(tmp_path):
    settings = make_settings(
        tmp_path,
        source="hm",
        source_path=str(tmp_path / "nowhere"),
        alert_webhook="http://127.0.0.1:9/x",
    )
    with pytest.raises(PipelineError, match="ingest failed"):
        run_task("ingest", "2024-06-30", settings)


def test_a_late_run_posts_its_alert(webhook, monkeypatch):
    """The DAG's failure callback on a run stopped by dagrun_timeout."""
    from shopguide.alerts import run_failed

    url, received = webhook
    monkeypatch.setenv("SHOPGUIDE_ALERT_WEBHOOK", url)
    context = {
        "dag_run": {"data_interval_start": "2024-03-30T00:00:00+00:00"},
        "reason": "timed_out",
    }
    run_failed(context)
    assert [(r["run_date"], r["task"]) for r in received] == [("2024-03-30", "dag_run")]
    assert "late" in received[0]["reason"] and "dagrun_timeout" in received[0]["reason"]
    run_failed({"dag_run": {"data_interval_start": "2024-03-30"}, "reason": "task_failure"})
    assert "failed (task_failure)" in received[1]["reason"]
    LEDGER.checks.append(
        ("late run (dagrun_timeout, DAG failure callback)", "reason POSTed to the webhook")
    )
