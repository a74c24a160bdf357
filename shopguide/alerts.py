"""Alerts: a failed task or a late (timed out) run posts its reason to ``SHOPGUIDE_ALERT_WEBHOOK``.

The webhook gets a JSON body ``{"pipeline", "run_date", "task", "reason"}`` (Slack,
Teams, PagerDuty and e-mail gateways accept such a POST through their incoming-webhook
integrations). Without a webhook the reason goes to the log only. Standard library
only: the DAG's failure callback imports this.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.request

log = logging.getLogger("shopguide.alerts")
PIPELINE = "shopguide_nightly"


def send_alert(webhook: str, run_date: str, task: str, reason: str) -> bool:
    """POST the alert; True when sent. A webhook that fails must not hide the failure."""
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
    """Airflow DAG failure callback: a failed run, or one stopped by ``dagrun_timeout``."""
    reason = str((context or {}).get("reason") or "a task failed")
    if "timed_out" in reason or "timeout" in reason:
        message = (
            "the nightly run is late: it did not finish within its dagrun_timeout and was "
            "stopped; the published tables still hold the previous complete run"
        )
    else:
        message = f"the nightly run failed ({reason}); the published tables still hold the previous complete run"
    log.error("%s for %s: %s", PIPELINE, _run_date(context), message)
    send_alert(
        os.environ.get("SHOPGUIDE_ALERT_WEBHOOK", ""), _run_date(context), "dag_run", message
    )


def _run_date(context) -> str:
    """The run's data date from the callback context (the DAG run as object or dict)."""
    dag_run = (context or {}).get("dag_run") if isinstance(context, dict) else None
    for name in ("data_interval_start", "logical_date"):
        value = dag_run.get(name) if isinstance(dag_run, dict) else getattr(dag_run, name, None)
        if value:
            return str(value)[:10]
    return "unknown"
