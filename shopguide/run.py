"""Running the nightly tasks of :mod:`shopguide.pipeline`: one task (:func:`run_task`, what
the Airflow DAG and ``shopguide run`` call, logged in ``outputs.task_runs``), every task
for a date (:func:`run_pipeline`) or a range of dates (:func:`backfill`).

These are the entry points: they take the run date as a date or its YYYY-MM-DD text,
check it before any work and hand the tasks a :class:`datetime.date`.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

from shopguide.pipeline import STEP_BY_NAME, STEPS, PipelineError
from shopguide.run_date import as_run_date
from shopguide.run_log import log, one_line, record_failed_run, record_task
from shopguide.settings import Settings, load_settings

__all__ = ["PipelineError", "backfill", "run_pipeline", "run_task"]


def run_task(
    name: str,
    run_date: date | str,
    settings: Settings | None = None,
    *,
    alert: bool = True,
    **kwargs,
) -> dict:
    """Run one task for ``run_date``, log it in ``outputs.task_runs``; raise PipelineError on failure.

    ``run_date``: a date, or its YYYY-MM-DD text (checked before any work).

    ``alert``: post a failure to the webhook here (``shopguide run``: the run stops at the
    first failure, so once). The DAG passes False: a task attempt that fails may be
    retried, so its run alerts once, from the DAG's failure notifier.
    """
    settings = settings or load_settings()
    run_date = as_run_date(run_date)  # a clear error for a malformed date, before any work
    step = STEP_BY_NAME[name]
    started = datetime.now(UTC).replace(tzinfo=None)
    t0 = time.perf_counter()
    log.info("shopguide %s for %s starting", name, run_date)
    progress(settings, f"{run_date} {name} ...")
    try:
        result = step.func(settings, run_date, **kwargs)
    except Exception as exc:
        reason = one_line(exc)
        record_task(
            settings, run_date, name, "failed", started, time.perf_counter() - t0, {"error": reason}
        )
        record_failed_run(settings, run_date, name, reason)
        log.error("shopguide %s for %s failed: %s", name, run_date, reason)
        progress(
            settings, f"{run_date} {name} FAILED after {time.perf_counter() - t0:.1f} s: {reason}"
        )
        if alert:
            notify_failure(settings, run_date, name, reason)
        raise PipelineError(f"{name} failed for {run_date}: {reason}") from exc
    record_task(settings, run_date, name, "success", started, time.perf_counter() - t0, result)
    log.info(
        "shopguide %s for %s done in %.1fs: %s", name, run_date, time.perf_counter() - t0, result
    )
    progress(settings, f"{run_date} {name} done in {time.perf_counter() - t0:.1f} s")
    return result


def progress(settings: Settings, line: str) -> None:
    """Append a task's start/end line to ``$SHOPGUIDE_REPORTS/progress.log`` (``make
    demo`` follows it while Airflow runs the DAG). Bookkeeping only: never raises."""
    try:
        path = settings.reports_dir / "progress.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%H:%M:%S")
        with open(path, "a", encoding="utf-8") as out:
            out.write(f"{stamp} {line}\n")
    except OSError:
        pass


def run_pipeline(settings: Settings, run_date: date | str, data=None) -> dict:
    """Run every task in order for one date (``shopguide run``, tests, benchmarks)."""
    run_date = as_run_date(run_date)
    results = {}
    for step in STEPS:
        extra = {"data": data} if step.name == "ingest" and data is not None else {}
        results[step.name] = run_task(step.name, run_date, settings, **extra)
    return results


def backfill(settings: Settings, first: date | str, last: date | str) -> list[date]:
    """Run the pipeline for every date from ``first`` to ``last``, oldest first.

    Each date's partitions are replaced, so a backfill over dates already published
    produces each partition exactly once.
    """
    done = []
    for day in backfill_days(first, last):
        run_pipeline(settings, day)
        done.append(day)
    return done


def backfill_days(first: date | str, last: date | str) -> list[date]:
    """Every date from ``first`` to ``last``, oldest first (what a backfill runs)."""
    start, end = as_run_date(first), as_run_date(last)
    if end < start:
        raise ValueError(f"backfill range is empty: {start} is after {end}")
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def notify_failure(settings: Settings, run_date: date, task: str, reason: str) -> None:
    """Send a failed task's reason to SHOPGUIDE_ALERT_WEBHOOK (a JSON POST), if set."""
    from shopguide.alerts import send_alert

    send_alert(settings.alert_webhook, run_date.isoformat(), task, reason)
