"""The run's log in the warehouse: ``outputs.task_runs`` (a row per task of a run date,
the last attempt's) and the ``published.pipeline_runs`` rows (one per published or failed
run)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime

from shopguide.schema import OUTPUTS_SCHEMA, PIPELINE_RUNS_COLUMNS, PUBLISHED_SCHEMA
from shopguide.settings import Settings
from shopguide.warehouse import open_warehouse, qident, qualified

# The logger of the whole run (shopguide.run, shopguide.pipeline and this module).
log = logging.getLogger("shopguide.pipeline")

TASK_RUNS_TABLE = "task_runs"  # private per-task log, folded into published.pipeline_runs
TASK_RUNS_COLUMNS = {
    "run_date": "DATE",
    "task": "VARCHAR",
    "status": "VARCHAR",
    "started_at": "TIMESTAMP",
    "finished_at": "TIMESTAMP",
    "duration_seconds": "DOUBLE PRECISION",
    "result": "VARCHAR",
}


def one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if "\n" not in text else text.splitlines()[0] + " (…) " + text.splitlines()[-1]


def record_task(settings, run_date: date, task, status, started, seconds, result) -> None:
    import pandas as pd

    wh = open_warehouse(settings)
    row = pd.DataFrame(
        [
            {
                "run_date": run_date,
                "task": task,
                "status": status,
                "started_at": started,
                "finished_at": datetime.now(UTC).replace(tzinfo=None),
                "duration_seconds": round(seconds, 3),
                "result": json.dumps(result, default=str),
            }
        ]
    )
    with wh.transaction() as con:
        wh.ensure_table(con, OUTPUTS_SCHEMA, TASK_RUNS_TABLE, TASK_RUNS_COLUMNS)
        wh.execute_in(
            con,
            f"DELETE FROM {qualified(OUTPUTS_SCHEMA, TASK_RUNS_TABLE)} WHERE run_date = CAST({wh.param} AS DATE) AND {qident('task')} = {wh.param}",
            [run_date, task],
        )
        wh.insert_frame(con, OUTPUTS_SCHEMA, TASK_RUNS_TABLE, row)


def task_runs(wh, run_date: date) -> list[dict]:
    if not wh.table_exists(OUTPUTS_SCHEMA, TASK_RUNS_TABLE):
        return []
    df = wh.query_df(
        f"SELECT * FROM {qualified(OUTPUTS_SCHEMA, TASK_RUNS_TABLE)} WHERE run_date = CAST({wh.param} AS DATE) AND status = 'success'",
        [run_date],
    )
    return df.to_dict("records")


def pipeline_runs_insert(
    wh, run_date, status, source, started, finished, row_counts, durations, message
):
    cols = ", ".join(qident(c) for c in PIPELINE_RUNS_COLUMNS)
    marks = ", ".join(
        f"CAST({wh.param} AS DATE)" if c == "run_date" else wh.param for c in PIPELINE_RUNS_COLUMNS
    )
    params = [
        run_date,
        status,
        source,
        started,
        finished,
        round((finished - started).total_seconds(), 2),
        json.dumps(row_counts, sort_keys=True),
        json.dumps(durations, sort_keys=True),
        message,
    ]
    return (
        f"INSERT INTO {qualified(PUBLISHED_SCHEMA, 'pipeline_runs')} ({cols}) VALUES ({marks})",
        params,
    )


def record_failed_run(settings: Settings, run_date: date, task: str, reason: str) -> None:
    """A failed run leaves the published data alone and says so in pipeline_runs."""
    try:
        wh = open_warehouse(settings)
        now = datetime.now(UTC).replace(tzinfo=None)
        sql, params = pipeline_runs_insert(
            wh, run_date, "failed", settings.source, now, now, {}, {}, f"{task}: {reason}"[:2000]
        )
        with wh.transaction() as con:
            wh.ensure_table(con, PUBLISHED_SCHEMA, "pipeline_runs", PIPELINE_RUNS_COLUMNS)
            wh.execute_in(con, sql, params)
    except Exception as exc:  # the original failure matters more than its bookkeeping
        log.warning("could not record the failed run in pipeline_runs: %s", exc)
