"""The run date a DAG run processes, and the run's one failure alert (issue 19)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import SimpleNamespace

import pytest

from shopguide.orchestration import accepts_volume_change, resolve_run_date


def _run(**fields):
    base = {"conf": {}, "data_interval_start": None, "logical_date": None, "run_after": None}
    return SimpleNamespace(**{**base, **fields})


def test_the_param_wins_over_everything():
    context = {
        "params": {"run_date": "2024-06-30"},
        "data_interval_start": datetime(2024, 3, 1, 2, tzinfo=UTC),
        "logical_date": datetime(2024, 3, 2, 2, tzinfo=UTC),
        "dag_run": _run(run_after=datetime(2024, 9, 9, tzinfo=UTC)),
    }
    assert resolve_run_date(context) == date(2024, 6, 30)


def test_the_conf_counts_when_params_were_not_merged():
    context = {"params": {}, "dag_run": _run(conf={"run_date": "2024-05-01"})}
    assert resolve_run_date(context) == date(2024, 5, 1)


def test_the_volume_override_comes_from_the_param_or_the_conf():
    assert accepts_volume_change({"params": {"accept_volume_change": True}})
    assert not accepts_volume_change({"params": {"accept_volume_change": False}})
    assert not accepts_volume_change({"params": {}})
    conf_run = SimpleNamespace(conf={"accept_volume_change": "true"})
    assert accepts_volume_change({"params": {}, "dag_run": conf_run})
    assert not accepts_volume_change({"params": {}, "dag_run": SimpleNamespace(conf={})})
    assert not accepts_volume_change(None)


def test_a_bad_param_is_a_clear_error():
    with pytest.raises(ValueError, match="run_date param '30/06/2024'"):
        resolve_run_date({"params": {"run_date": "30/06/2024"}})


def test_the_data_interval_start_is_the_scheduled_day():
    # The nightly 02:00 run of 2024-04-01 covers 2024-03-31 02:00 .. 2024-04-01 02:00.
    context = {
        "params": {"run_date": None},
        "data_interval_start": datetime(2024, 3, 31, 2, tzinfo=UTC),
        "logical_date": datetime(2024, 4, 1, 2, tzinfo=UTC),
    }
    assert resolve_run_date(context) == date(2024, 3, 31)


def test_the_data_interval_of_the_dag_run_and_a_string_date():
    assert resolve_run_date(
        {"dag_run": {"data_interval_start": "2024-03-30T02:00:00+00:00"}}
    ) == date(2024, 3, 30)


def test_the_logical_date_without_a_data_interval():
    context = {
        "params": {},
        "data_interval_start": None,
        "logical_date": datetime(2024, 2, 29, 23, tzinfo=UTC),
    }
    assert resolve_run_date(context) == date(2024, 2, 29)


def test_a_manual_trigger_with_nothing_takes_the_day_before_it_was_triggered():
    context = {
        "params": {"run_date": None},
        "dag_run": _run(run_after=datetime(2026, 12, 6, 0, 30, tzinfo=UTC)),
    }
    assert resolve_run_date(context) == date(2026, 12, 5)
    # No run_after either: the UTC day before now.
    now = datetime(2026, 1, 1, 0, 5, tzinfo=UTC)
    assert resolve_run_date({"params": {}}, now=now) == date(2025, 12, 31)


def test_utc_days_not_local_ones():
    from datetime import timedelta, timezone

    tz = timezone(timedelta(hours=10))
    assert resolve_run_date({"data_interval_start": datetime(2024, 4, 1, 8, tzinfo=tz)}) == date(
        2024, 3, 31
    )


@pytest.fixture
def webhook():
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/alert", received
    server.shutdown()


def test_a_dag_task_attempt_does_not_alert_but_the_cli_does(tmp_path, webhook):
    """run_task(alert=False) (the DAG's tasks) posts nothing: an attempt may be retried."""
    from shopguide.pipeline import PipelineError
    from shopguide.run import run_task
    from support import make_settings

    url, received = webhook
    settings = make_settings(
        tmp_path, source="hm", source_path=str(tmp_path / "nowhere"), alert_webhook=url
    )
    with pytest.raises(PipelineError):
        run_task("ingest", "2024-06-30", settings, alert=False)
    assert received == []
    with pytest.raises(PipelineError):
        run_task("ingest", "2024-06-30", settings)
    assert [r["task"] for r in received] == ["ingest"]


def test_the_run_failed_notifier_sends_one_alert_naming_the_task_and_its_error(
    tmp_path, webhook, monkeypatch
):
    """The DAG's on_failure_callback: one POST with the failed task and the error
    run_task recorded in the warehouse; the date resolved as the tasks resolve it."""
    from shopguide.notifiers import RunFailedNotifier
    from shopguide.pipeline import PipelineError
    from shopguide.run import run_task
    from support import make_settings

    url, received = webhook
    settings = make_settings(tmp_path, source="hm", source_path=str(tmp_path / "nowhere"))
    with pytest.raises(PipelineError):
        run_task("ingest", "2024-06-30", settings, alert=False)
    for name, value in {
        "SHOPGUIDE_ALERT_WEBHOOK": url,
        "SHOPGUIDE_WAREHOUSE": settings.warehouse_url,
        "SHOPGUIDE_HOME": str(settings.home),
    }.items():
        monkeypatch.setenv(name, value)
    context = {
        "params": {"run_date": None},
        "dag_run": _run(conf={"run_date": "2024-06-30"}),
        "ti": SimpleNamespace(task_id="ingest.ingest"),
        "reason": "task_failure",
    }
    RunFailedNotifier()(context)
    assert len(received) == 1
    alert = received[0]
    assert (alert["run_date"], alert["task"]) == ("2024-06-30", "ingest")
    assert "ingest:" in alert["reason"] and "nowhere" in alert["reason"]


def test_the_nightly_schedule_is_configurable_and_can_be_switched_off(monkeypatch):
    from shopguide.orchestration import NIGHTLY_CRON, nightly_cron

    monkeypatch.delenv("SHOPGUIDE_NIGHTLY_SCHEDULE", raising=False)
    assert nightly_cron() == NIGHTLY_CRON == "0 2 * * *"
    monkeypatch.setenv("SHOPGUIDE_NIGHTLY_SCHEDULE", "30 1 * * *")
    assert nightly_cron() == "30 1 * * *"
    monkeypatch.setenv("SHOPGUIDE_NIGHTLY_SCHEDULE", "none")
    assert nightly_cron() is None


def test_retry_policy_from_the_environment(monkeypatch):
    from datetime import timedelta

    from shopguide.orchestration import default_args

    monkeypatch.delenv("SHOPGUIDE_TASK_RETRIES", raising=False)
    monkeypatch.delenv("SHOPGUIDE_RETRY_DELAY_SECONDS", raising=False)
    args = default_args()
    assert args["retries"] == 1 and args["retry_delay"] == timedelta(minutes=5)
    monkeypatch.setenv("SHOPGUIDE_TASK_RETRIES", "3")
    monkeypatch.setenv("SHOPGUIDE_RETRY_DELAY_SECONDS", "2")
    args = default_args()
    assert args["retries"] == 3 and args["retry_delay"] == timedelta(seconds=2)
