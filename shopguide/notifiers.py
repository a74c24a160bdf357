"""Airflow notifiers of shopguide (imported by the DAG files; light at import)."""

from __future__ import annotations

from airflow.sdk import BaseNotifier


class RunFailedNotifier(BaseNotifier):
    """Posts one alert for a failed (or timed-out) DAG run to ``SHOPGUIDE_ALERT_WEBHOOK``.

    Used as the DAG's ``on_failure_callback``: Airflow calls it once, when the run ends
    failed, i.e. after the failed task's last retry; a retry that succeeds sends nothing.
    """

    template_fields = ()

    def notify(self, context) -> None:
        from shopguide.alerts import run_failed

        run_failed(context)
