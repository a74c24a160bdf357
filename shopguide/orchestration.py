"""What the Airflow DAGs need from shopguide, kept import-light (standard library only).

The DAG files import this at parse time; the scheduler's dag-processor parses often,
so nothing here may pull in pandas, Spark, dbt or GX.

- :func:`resolve_run_date`: the day a run processes, from its Airflow context, and
  :func:`run_date_param`, the DAG param that sets it.
- The Spark pool and the Assets the publish task emits.
- Retry policy read from the environment (a live test shortens the retry delay).
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta

from shopguide.settings import (  # noqa: F401  (NIGHTLY_CRON: the DAG's documented default)
    NIGHTLY_CRON,
    read_export_dir,
    read_nightly_schedule,
    read_task_retries,
)

RUN_DATE_PARAM = "run_date"
# Publish despite a volume drop the quality gate stopped (shopguide/gate.py): the DAG
# param of `shopguide run --accept-volume-change`.
ACCEPT_VOLUME_CHANGE_PARAM = "accept_volume_change"

# Every Spark task runs in this pool, so a backfill (or a manual run next to the
# nightly one) cannot put more Spark applications on the cluster than it has room
# for. Created by `airflow pools set` in docker-compose's airflow-init (and by the
# live test); a task whose pool does not exist is never scheduled.
SPARK_POOL = "shopguide_spark"
SPARK_POOL_SLOTS = 2
SPARK_POOL_DESCRIPTION = "Spark applications of shopguide (recommend, forecast)"
SPARK_TASKS = frozenset({"recommend", "forecast"})

ASSET_GROUP = "shopguide"
EMAIL_EXPORT_DAG = "shopguide_email_export"


def published_asset_uri(table: str) -> str:
    """The Asset URI of one published table (the publish task's outlets)."""
    return f"shopguide://warehouse/published/{table}"


def published_asset_name(table: str) -> str:
    return f"shopguide.published.{table}"


def run_date_param(description: str):
    """The ``run_date`` DAG param: an optional YYYY-MM-DD day (empty: the DAG's default
    day, which its description names). Airflow is imported here, not at module level,
    so the module stays importable without it."""
    from airflow.sdk import Param

    return Param(None, type=["null", "string"], format="date", description=description)


def _field(obj, name: str):
    """A field of the DAG run given as an object (Airflow) or a dict (tests, callbacks)."""
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def _as_date(value) -> date:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return date(value.year, value.month, value.day)
    if isinstance(value, date):
        return date(value.year, value.month, value.day)  # a plain date (not pendulum's)
    text = str(value).strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD)") from exc
    return _as_date(parsed)


def resolve_run_date(context, now: datetime | None = None) -> date:
    """The day a run processes (the run date), in this order:

    1. the ``run_date`` DAG param (``airflow dags trigger -c '{"run_date": "D"}'`` or
       the trigger form), also read from the run's conf;
    2. the data interval's start (the scheduled nightly run: the previous day);
    3. the logical date;
    4. none of them (a manual trigger in Airflow 3 has no logical date and no data
       interval): the UTC day before the run was triggered (``run_after``, else now).
    """
    context = context or {}
    dag_run = context.get("dag_run")
    params = context.get("params") or {}
    value = params.get(RUN_DATE_PARAM) if hasattr(params, "get") else None
    if value in (None, ""):
        conf = _field(dag_run, "conf") or {}
        value = conf.get(RUN_DATE_PARAM) if isinstance(conf, dict) else None
    if value not in (None, ""):
        try:
            return date.fromisoformat(str(value))
        except ValueError as exc:
            raise ValueError(
                f"the {RUN_DATE_PARAM} param {value!r} is not a date in YYYY-MM-DD form"
            ) from exc
    for name in ("data_interval_start", "logical_date"):
        found = context.get(name)
        if found is None:
            found = _field(dag_run, name)
        if found not in (None, ""):
            return _as_date(found)
    base = _field(dag_run, "run_after") or context.get("run_after")
    day = (
        _as_date(base)
        if base not in (None, "")
        else (now or datetime.now(UTC)).astimezone(UTC).date()
    )
    return day - timedelta(days=1)


def nightly_cron() -> str | None:
    """The nightly cron (UTC): ``SHOPGUIDE_NIGHTLY_SCHEDULE``, default 02:00; ``none``
    leaves only manual and API triggers (the live test, which must not get a scheduled
    run of its own when the DAG is unpaused)."""
    return read_nightly_schedule()


def accepts_volume_change(context) -> bool:
    """True when the run's ``accept_volume_change`` param (or conf) is set."""
    context = context or {}
    params = context.get("params") or {}
    value = params.get(ACCEPT_VOLUME_CHANGE_PARAM) if hasattr(params, "get") else None
    if value is None:
        conf = _field(context.get("dag_run"), "conf") or {}
        value = conf.get(ACCEPT_VOLUME_CHANGE_PARAM) if isinstance(conf, dict) else None
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


def default_args() -> dict:
    """Task defaults: one retry five minutes later unless SHOPGUIDE_TASK_RETRIES /
    SHOPGUIDE_RETRY_DELAY_SECONDS say otherwise (read when the DAG file is parsed)."""
    retries, delay = read_task_retries()
    return {
        "owner": "data-engineering",
        "retries": retries,
        "retry_delay": timedelta(seconds=delay),
        "execution_timeout": timedelta(hours=2),
    }


def email_export_path(home, run_date: date | str) -> str:
    """Where ``shopguide_email_export`` writes the day's email list (``run_date``: a run
    date, or the text "latest" while the latest run's date is not known yet)."""
    return os.path.join(read_export_dir(home), f"email_{run_date}.csv")
