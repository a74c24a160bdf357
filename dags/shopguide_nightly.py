"""
### shopguide_nightly

The nightly AI shopping guide. At 02:00 UTC it processes the previous day (the
data interval): **ingest** source files into `raw` → **validate_raw** with Great
Expectations → **dbt_build** staging, intermediate and marts → **spark**: export the
marts to the lake, then recommendations and demand forecasts → **load_outputs** into
the warehouse and build the published tables' candidates (dbt contracts) →
**validate_outputs** → **publish** every table for the run date in one transaction.

Each task calls `shopguide.pipeline.run_task(name, run_date)`: the same functions
`shopguide run` uses. The run date is the data interval's start; a rerun of a date
replaces its partitions. Configuration: `SHOPGUIDE_*` and `SPARK_MASTER` environment
variables (see the README).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import CronTriggerTimetable, dag, get_current_context, task, task_group

from shopguide.steps import PARALLEL_TASKS, TASK_GROUPS

DEFAULT_ARGS = {
    "owner": "data-engineering",
    "retries": 1,
    "retry_delay": timedelta(minutes=5),
    "execution_timeout": timedelta(hours=2),
}


def _run_failed(context) -> None:
    """A run that failed or outlived ``dagrun_timeout`` (late) posts its reason to the webhook."""
    from shopguide.alerts import run_failed

    run_failed(context)


def _run_step(name: str) -> dict:
    """Run one pipeline task for the data interval's day (imports stay out of parse time)."""
    from shopguide.pipeline import run_task

    context = get_current_context()
    run_date = context["data_interval_start"].date().isoformat()
    return run_task(name, run_date)


def _make_task(name: str):
    @task(task_id=name)
    def step() -> dict:
        return _run_step(name)

    return step()


@dag(
    dag_id="shopguide_nightly",
    schedule=CronTriggerTimetable("0 2 * * *", timezone="UTC", interval=timedelta(days=1)),
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    # BI and marketing read the tables at 07:00 UTC: a run still going at 06:00 is late.
    # It is stopped (the previous complete run stays published) and the callback alerts.
    # (Airflow's DeadlineAlert would alert without stopping, but `airflow dags test`
    # fails on DAGs that declare one in Airflow 3.3.)
    dagrun_timeout=timedelta(hours=4),
    on_failure_callback=_run_failed,
    default_args=DEFAULT_ARGS,
    tags=["shopguide", "recommendations", "forecasting"],
    doc_md=__doc__,
)
def shopguide_nightly():
    previous = None
    for group_name, names in TASK_GROUPS:

        @task_group(group_id=group_name)
        def group(names=names):
            anchor = None  # the last sequential task; parallel ones fan out from it
            for name in names:
                op = _make_task(name)
                if anchor is not None:
                    anchor >> op
                if name not in PARALLEL_TASKS:
                    anchor = op

        current = group()
        if previous is not None:
            previous >> current
        previous = current


shopguide_nightly()
