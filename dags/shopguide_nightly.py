"""
### shopguide_nightly

The nightly AI shopping guide. At 02:00 UTC it processes the previous day (the
data interval): **ingest** source files into `raw` → **validate_raw** with Great
Expectations → **dbt_build** staging, intermediate and marts → **spark**: export the
marts to the lake, then recommendations and demand forecasts → **load_outputs** into
the warehouse and build the published tables' candidates (dbt contracts) →
**validate_outputs** → **publish** every table for the run date in one transaction.

Each task calls `shopguide.run.run_task(name, run_date)`: the same functions
`shopguide run` uses. **The run date** is, in this order: the `run_date` param
(`airflow dags trigger shopguide_nightly -c '{"run_date": "2024-06-30"}'` or the
trigger form), the data interval's start (the scheduled run: the previous day), the
logical date; a manual trigger without any of them (Airflow 3's default) processes
the UTC day before it was triggered. A rerun of a date replaces its partitions.

**publish** emits one Asset per published table (`shopguide://warehouse/published/<table>`,
extra `{"run_date": D}`); `shopguide_email_export` is scheduled on the email list's.
The Spark tasks run in the pool `shopguide_spark` (create it: `airflow pools set
shopguide_spark 2 "…"`; docker-compose's init does). A failed or late run posts one
alert to `SHOPGUIDE_ALERT_WEBHOOK` when it ends failed (not on a retry).
Configuration: `SHOPGUIDE_*` and `SPARK_MASTER` environment variables (see the README).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import (
    Asset,
    CronTriggerTimetable,
    Param,
    TaskGroup,
    dag,
    get_current_context,
    task,
)

from shopguide.notifiers import RunFailedNotifier
from shopguide.orchestration import (
    ACCEPT_VOLUME_CHANGE_PARAM,
    ASSET_GROUP,
    RUN_DATE_PARAM,
    SPARK_POOL,
    default_args,
    nightly_cron,
    published_asset_name,
    published_asset_uri,
    run_date_param,
)
from shopguide.schema import PUBLISHED_TABLES

DEFAULT_ARGS = default_args()
NIGHTLY = nightly_cron()  # SHOPGUIDE_NIGHTLY_SCHEDULE, default "0 2 * * *"

# One Asset per published table (and the run log): publish swaps them all in one
# transaction, so it emits them together.
PUBLISHED_ASSETS = [
    Asset(name=published_asset_name(t), uri=published_asset_uri(t), group=ASSET_GROUP)
    for t in [*PUBLISHED_TABLES, "pipeline_runs"]
]


def _run_step(name: str) -> dict:
    """Run one pipeline task for the run's date (imports stay out of parse time)."""
    from shopguide.orchestration import accepts_volume_change, resolve_run_date
    from shopguide.run import run_task
    from shopguide.settings import load_settings

    context = get_current_context()
    run_date = resolve_run_date(context)
    settings = load_settings()
    if name == "publish" and accepts_volume_change(context):
        settings = settings.with_(accept_volume_change=True)  # the gate's override
    # No alert per attempt: the DAG's failure notifier alerts once per failed run.
    result = run_task(name, run_date, settings, alert=False)
    if name == "publish":
        for asset in PUBLISHED_ASSETS:
            context["outlet_events"][asset].extra = {"run_date": run_date.isoformat()}
    return result


def _step(name: str, **options):
    """The Airflow task of one pipeline task; its task id is the pipeline task's name."""

    @task(task_id=name, **options)
    def step() -> dict:
        return _run_step(name)

    return step()


@dag(
    dag_id="shopguide_nightly",
    schedule=(
        CronTriggerTimetable(NIGHTLY, timezone="UTC", interval=timedelta(days=1))
        if NIGHTLY
        else None
    ),
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    params={
        RUN_DATE_PARAM: run_date_param(
            "Day to process (YYYY-MM-DD). Empty: the data interval's day, "
            "else the day before the run was triggered."
        ),
        ACCEPT_VOLUME_CHANGE_PARAM: Param(
            False,
            type="boolean",
            description="Publish although a table shrank beyond SHOPGUIDE_VOLUME_MAX_DROP "
            "against the last good run (the quality gate's override).",
        ),
    },
    # BI and marketing read the tables at 07:00 UTC: a run still going at 06:00 is late.
    # It is stopped (the previous complete run stays published) and the notifier alerts.
    # (Airflow's DeadlineAlert would alert without stopping, but `airflow dags test`
    # fails on DAGs that declare one in Airflow 3.3.)
    dagrun_timeout=timedelta(hours=4),
    on_failure_callback=RunFailedNotifier(),
    default_args=DEFAULT_ARGS,
    tags=["shopguide", "recommendations", "forecasting"],
    doc_md=__doc__,
)
def shopguide_nightly():
    # The same tasks and order as shopguide.steps.TASK_GROUPS (`shopguide run` runs
    # them one after another); tests/dags/test_dag_integrity.py keeps the two equal.
    with TaskGroup("ingest") as ingest:
        _step("ingest")

    with TaskGroup("validate_raw") as validate_raw:
        _step("validate_raw")

    with TaskGroup("dbt_build") as dbt_build:
        _step("build_models")

    with TaskGroup("spark") as spark:
        # Both Spark jobs read the same exported inputs, so they run side by side.
        export_inputs = _step("export_inputs")
        export_inputs >> [
            _step("recommend", pool=SPARK_POOL),
            _step("forecast", pool=SPARK_POOL),
        ]

    with TaskGroup("load_outputs") as load_outputs:
        _step("load_outputs") >> _step("score_feedback") >> _step("build_candidates")

    with TaskGroup("validate_outputs") as validate_outputs:
        _step("validate_outputs")

    with TaskGroup("publish") as publish:
        _step("publish", outlets=PUBLISHED_ASSETS) >> _step("report")

    ingest >> validate_raw >> dbt_build >> spark >> load_outputs >> validate_outputs >> publish


shopguide_nightly()
