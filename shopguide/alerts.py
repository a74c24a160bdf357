"""Alerts: a failed task or a late (timed out) run posts its reason to ``SHOPGUIDE_ALERT_WEBHOOK``.

The webhook gets a JSON body ``{"pipeline", "run_date", "task", "reason"}`` (Slack,
Teams, PagerDuty and e-mail gateways accept such a POST through their incoming-webhook
integrations). Without a webhook the reason goes to the log only. Standard library and
shopguide.settings only: the DAG's failure callback imports this.
"""

from __future__ import annotations

import json
import logging
import urllib.request

from shopguide.settings import read_alert_webhook

log = logging.getLogger("shopguide.alerts")
PIPELINE = "shopguide_nightly"


def send_alert(webhook: str, run_date: str, task: str, reason: str) -> bool:
    """POST the alert (``run_date`` as YYYY-MM-DD text); True when sent. A webhook that
    fails must not hide the failure."""
    if not webhook:
        return False
    body = json.dumps(
        {"pipeline": PIPELINE, "run_date": run_date, "task": task, "reason": reason}
    ).encode()
    request = urllib.request.Request(
        webhook, data=body, headers={"Content-Type": "application/json"}
    )
    try:
        urllib.request.urlopen(request, timeout=10).close()
        return True
    except Exception as exc:
        log.warning("could not send the alert to %s: %s", webhook, exc)
        return False


def run_failed(context: dict) -> None:
    """Airflow DAG failure callback: a failed run, or one stopped by ``dagrun_timeout``.

    It runs once per failed DAG run (after the last retry of the failed task), never
    on a retry: the DAG's tasks call ``run_task(..., alert=False)``. The alert names
    the task that failed last and, when the warehouse has it, that task's error.
    """
    reason = str((context or {}).get("reason") or "a task failed")
    run_date = _run_date(context)
    task = _failed_task(context)
    if "timed_out" in reason or "timeout" in reason:
        message = (
            "the nightly run is late: it did not finish within its dagrun_timeout and was "
            "stopped; the published tables still hold the previous complete run"
        )
    else:
        detail = _task_error(run_date, task) if task else None
        what = f"{task}: {detail}" if detail else reason
        message = f"the nightly run failed ({what}); the published tables still hold the previous complete run"
    log.error("%s for %s: %s", PIPELINE, run_date, message)
    send_alert(read_alert_webhook(), run_date, task or "dag_run", message)


def _run_date(context) -> str:
    """The run's data date (YYYY-MM-DD, "unknown" when it cannot be told) from the callback
    context, resolved as the tasks resolve it."""
    from shopguide.orchestration import resolve_run_date

    try:
        return resolve_run_date(context if isinstance(context, dict) else {}).isoformat()
    except (ValueError, TypeError):
        return "unknown"


def _failed_task(context) -> str | None:
    """The pipeline task (``group.task`` -> ``task``) the callback context names, if any."""
    ti = (context or {}).get("ti") if isinstance(context, dict) else None
    task_id = ti.get("task_id") if isinstance(ti, dict) else getattr(ti, "task_id", None)
    return str(task_id).rsplit(".", 1)[-1] if task_id else None


def _task_error(run_date: str, task: str) -> str | None:
    """The error ``run_task`` recorded in ``outputs.task_runs``; None when unavailable
    (the alert must go out even when the warehouse is what failed)."""
    try:
        import json as _json

        from shopguide.settings import load_settings
        from shopguide.warehouse import open_warehouse

        wh = open_warehouse(load_settings())
        value = wh.scalar(
            "SELECT result FROM outputs.task_runs WHERE run_date = CAST("
            f"{wh.param} AS DATE) AND \"task\" = {wh.param} AND status = 'failed'",
            [run_date, task],
        )
        return str(_json.loads(value).get("error")) if value else None
    except Exception as exc:  # noqa: BLE001 - bookkeeping must not stop the alert
        log.warning("could not read the failed task's error: %s", exc)
        return None
