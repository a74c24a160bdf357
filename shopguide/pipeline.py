"""The nightly run's tasks: one ordered list of task functions (:data:`STEPS`).

Each task is ``task(settings, run_date) -> dict`` (``run_date`` a :class:`datetime.date`)
and is a transaction: it reads and writes the run date's partition only, and a rerun
replaces what it wrote. :func:`shopguide.run.run_task` runs one and logs it (the Airflow
DAG, ``shopguide run`` and the tests all call it). The date becomes YYYY-MM-DD text only
for the Spark side: lake paths and job arguments.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from shopguide.faults import failpoint
from shopguide.run_date import as_run_date
from shopguide.run_log import log, one_line, pipeline_runs_insert, task_runs
from shopguide.schema import (
    CANDIDATE_SCHEMA,
    OUTPUTS_SCHEMA,
    PIPELINE_RUNS_COLUMNS,
    PRIVATE_SPARK_OUTPUTS,
    PUBLISHED_SCHEMA,
    PUBLISHED_TABLES,
    SPARK_OUTPUTS,
)
from shopguide.settings import Settings
from shopguide.steps import TASK_GROUPS
from shopguide.warehouse import delete_path, open_warehouse, qident, qualified, read_parquet

# Outputs every run must produce; the others (metrics, article lists) may be absent.
REQUIRED_SPARK_OUTPUTS = ("recommendations", "demand_forecast")

# Marts exported for the Spark jobs: lake input name -> relation.
SPARK_INPUT_RELATIONS = {
    "customers": ("marts", "customer_profiles"),
    "articles": ("marts", "article_features"),
    "interactions": ("intermediate", "int_interactions_weighted"),
    "transactions": ("staging", "stg_shop__transactions"),
    "daily_sales": ("marts", "daily_sales"),
}


class PipelineError(RuntimeError):
    """A task failed; the message is one line saying which task and why."""


# -- the tasks ------------------------------------------------------------------------
def ingest(settings: Settings, run_date: date, data=None) -> dict:
    from shopguide.consent import refresh_consent
    from shopguide.ingest import ingest as load_raw

    result = load_raw(settings, run_date, data)
    # Suppressions file(s) and everyone's opt-in now, for published.email_audience.
    result["consent"] = refresh_consent(settings, run_date)
    return result


def validate_raw(settings: Settings, run_date: date) -> dict:
    from shopguide.validation import validate_raw as check

    return _summary(check(settings, run_date))


def build_models(settings: Settings, run_date: date) -> dict:
    from shopguide.dbt_runner import build_models as dbt_build

    results = dbt_build(settings, run_date)
    return {"dbt_nodes": len(results or [])}


def export_inputs(settings: Settings, run_date: date) -> dict:
    """Write the marts the Spark jobs read to ``lake/run_date=D/inputs/*.parquet``."""
    from spark_jobs.common import input_path

    wh = open_warehouse(settings)
    counts = {}
    for name, (schema, relation) in SPARK_INPUT_RELATIONS.items():
        counts[name] = wh.export_parquet(
            ordered_select(wh, qualified(schema, relation)),
            input_path(settings.lake, run_date.isoformat(), name),
        )
    return counts


def ordered_select(wh, relation: str) -> str:
    """``SELECT *`` sorted by every column: a warehouse scans in parallel, so an unsorted
    export can hand Spark the same rows in another order on a rerun, and the row order
    decides how Spark partitions them, which negatives a seeded sample draws and the
    order of float sums. Sorted, a rerun of a date hands its jobs the same rows in the
    same order."""
    columns = wh.query_df(f"SELECT * FROM {relation} LIMIT 0").columns
    return f"SELECT * FROM {relation} ORDER BY {', '.join(qident(c) for c in columns)}"


def recommend(settings: Settings, run_date: date) -> dict:
    from shopguide.spark import run_spark_job

    args = [
        "--lake",
        settings.lake,
        "--run-date",
        run_date.isoformat(),
        "--top-k",
        str(settings.top_k),
        "--model",
        settings.recommender,
    ]
    evaluate = settings.evaluate_recommendations and settings.recommender == "hybrid"
    if evaluate:
        args.append("--evaluate")
    _clear_outputs(
        settings,
        run_date,
        ("similar_articles", "outfit_complements", "model_metrics", "baseline_recommendations"),
    )
    run_spark_job(settings, "recommend", args)
    return {"job": "recommend", "model": settings.recommender, "evaluate": evaluate}


def forecast(settings: Settings, run_date: date) -> dict:
    from shopguide.spark import run_spark_job

    args = [
        "--lake",
        settings.lake,
        "--run-date",
        run_date.isoformat(),
        "--horizon",
        str(settings.forecast_horizon),
    ]
    if settings.forecast_backtest_origins:
        args += ["--backtest", str(settings.forecast_backtest_origins)]
    _clear_outputs(settings, run_date, ("forecast_metrics",))
    run_spark_job(settings, "forecast", args)
    return {"job": "forecast", "backtest_origins": settings.forecast_backtest_origins}


def _clear_outputs(settings: Settings, run_date: date, names: tuple[str, ...]) -> None:
    """Remove a job's optional outputs of an earlier attempt of this date, so a run that
    does not write them (no holdout, no backtest) never publishes stale ones."""
    from spark_jobs.common import output_path

    for name in names:
        delete_path(output_path(settings.lake, run_date.isoformat(), name))


def load_outputs(settings: Settings, run_date: date) -> dict:
    """Load the run's Spark outputs into ``outputs.*``, replacing the run date's rows.

    Recommendations and forecasts must be there; the metrics and article lists a job
    writes only when asked (holdout, backtest) load as an empty partition otherwise.
    """
    import pandas as pd

    from spark_jobs.common import output_path

    wh = open_warehouse(settings)
    counts = {}
    with wh.transaction() as con:
        for name in (*SPARK_OUTPUTS, *PRIVATE_SPARK_OUTPUTS):
            columns = PUBLISHED_TABLES.get(name) or PRIVATE_SPARK_OUTPUTS[name]
            path = output_path(settings.lake, run_date.isoformat(), name)
            try:
                frame = read_parquet(path)
            except (FileNotFoundError, OSError) as exc:
                if name in REQUIRED_SPARK_OUTPUTS:
                    raise PipelineError(
                        f"Spark output {name} is missing at {path}: rerun the spark task group"
                    ) from exc
                frame = pd.DataFrame(columns=[c for c in columns if c != "run_date"])
            frame = frame.assign(run_date=run_date)
            missing = [c for c in columns if c not in frame.columns]
            if missing:
                raise PipelineError(f"Spark output {name} at {path} lacks columns {missing}")
            counts[name] = wh.replace_rows(
                OUTPUTS_SCHEMA, name, frame, columns, "run_date", [run_date], con
            )
            failpoint("load")
    return counts


def build_candidates(settings: Settings, run_date: date) -> dict:
    from shopguide.dbt_runner import build_published

    results = build_published(settings, run_date, {"email_top_n": settings.email_top_n})
    return {"dbt_nodes": len(results or [])}


def score_feedback(settings: Settings, run_date: date) -> dict:
    """Score earlier runs' lists and email campaigns whose windows closed."""
    from shopguide.feedback import score_feedback as score

    return score(settings, run_date)


def feedback_statements(wh, run_date: date) -> list:
    """The publish transaction's statements replacing the rescored run dates' rows."""
    from shopguide.feedback import publish_statements

    return publish_statements(wh, run_date)


def report(settings: Settings, run_date: date) -> dict:
    """Write the run's HTML report; never fails the published run."""
    from shopguide.report import report_task

    return report_task(settings, run_date)


def validate_outputs(settings: Settings, run_date: date) -> dict:
    from shopguide.validation import validate_outputs as check

    return _summary(check(settings, run_date))


def publish(settings: Settings, run_date: date) -> dict:
    """Swap every published table to this run in one transaction, with its pipeline_runs row."""
    gate = quality_gate(settings, run_date)  # baseline fallback, volume checks
    ensure_published_tables(settings)
    wh = open_warehouse(settings)
    runs = task_runs(wh, run_date)
    finished = datetime.now(UTC).replace(tzinfo=None)
    started = min((r["started_at"] for r in runs), default=finished)
    row_counts = {
        table: int(
            wh.scalar(
                f"SELECT count(*) FROM {qualified(CANDIDATE_SCHEMA, table)} WHERE run_date = CAST({wh.param} AS DATE)",
                [run_date],
            )
            or 0
        )
        for table in PUBLISHED_TABLES
    }
    durations = {r["task"]: round(float(r["duration_seconds"]), 2) for r in runs}
    extra = [
        pipeline_runs_insert(
            wh,
            run_date,
            "success",
            settings.source,
            started,
            finished,
            row_counts,
            durations,
            gate["message"],
        )
    ]
    # The rescored earlier run dates, in the same transaction.
    extra += feedback_statements(wh, run_date)
    published, layer = _publish_layer(settings, wh, run_date, extra)
    return {"published": published, **layer}


def quality_gate(settings: Settings, run_date: date) -> dict:
    """The quality gate (shopguide/gate.py): publish the best baseline's lists when the hybrid
    lost the holdout (the candidates are rebuilt and revalidated from them), and stop
    when a table shrank too much against the last good run."""
    from shopguide.gate import quality_gate as check

    def rebuild() -> None:
        build_candidates(settings, run_date)
        validate_outputs(settings, run_date)

    return check(settings, run_date, rebuild)


def _publish_layer(settings: Settings, wh, run_date: date, extra: list) -> tuple[dict, dict]:
    """The roles exist before the transaction; retention, keys, views, comments
    and grants happen inside it (shopguide/published.py); the BI file is written after."""
    from shopguide.access import ensure_roles
    from shopguide.consent import record_listings_sql
    from shopguide.published import finish_publish, write_bi_copy

    ensure_roles(settings)  # PostgreSQL: BI and marketing see only what they may
    extra = [*extra, *record_listings_sql(wh, run_date, CANDIDATE_SCHEMA)]
    layer: dict = {}

    def finish(con) -> None:
        layer.update(finish_publish(settings, wh, con, run_date))

    # The realized-performance tables are keyed on the scored run date, not this one:
    # the feedback statements in ``extra`` write them, the per-run swap must not.
    per_run = {t: c for t, c in PUBLISHED_TABLES.items() if "scored_on" not in c}
    published = wh.publish(run_date, per_run, CANDIDATE_SCHEMA, PUBLISHED_SCHEMA, extra, finish)
    try:  # after the commit: a failed copy must not fail a published run
        layer.update(write_bi_copy(settings))
    except Exception as exc:
        log.warning("the BI file for %s was not written: %s", run_date, one_line(exc))
        layer["bi_file_error"] = one_line(exc)
    layer.update(_dbt_docs(settings, run_date))
    return published, layer


def _dbt_docs(settings: Settings, run_date: date) -> dict:
    """dbt docs for the run (lineage to the published tables, exposures): a report, so a
    failure to write it is logged and returned, not raised after a good publication."""
    from shopguide.dbt_runner import DbtError, generate_docs

    try:
        return {"dbt_docs": str(generate_docs(settings, run_date))}
    except (DbtError, OSError) as exc:
        log.warning("dbt docs for %s not written: %s", run_date, one_line(exc))
        return {"dbt_docs_error": one_line(exc)}


# -- the order ------------------------------------------------------------------------
@dataclass(frozen=True)
class Step:
    name: str
    group: str  # the DAG's task group
    func: Callable[..., dict]


_FUNCS: dict[str, Callable[..., dict]] = {
    "ingest": ingest,
    "validate_raw": validate_raw,
    "build_models": build_models,
    "export_inputs": export_inputs,
    "recommend": recommend,
    "forecast": forecast,
    "load_outputs": load_outputs,
    "score_feedback": score_feedback,
    "build_candidates": build_candidates,
    "validate_outputs": validate_outputs,
    "publish": publish,
    "report": report,
}
STEPS: tuple[Step, ...] = tuple(
    Step(name, group, _FUNCS[name]) for group, names in TASK_GROUPS for name in names
)
STEP_BY_NAME = {step.name: step for step in STEPS}


def prepare_inputs(settings: Settings, run_date: date | str, data) -> dict:
    """Ingest ``data``, build the marts and export the Spark inputs (used by evaluation)."""
    run_date = as_run_date(run_date)
    return {
        "ingest": ingest(settings, run_date, data),
        "build_models": build_models(settings, run_date),
        "export_inputs": export_inputs(settings, run_date),
    }


def _summary(result: dict) -> dict:
    """Keep the JSON-able parts of a validation result for XCom and the task log."""
    return json.loads(json.dumps(result, default=str))


def ensure_published_tables(settings: Settings) -> None:
    """Create the published tables empty, so BI tools can connect before the first run."""
    wh = open_warehouse(settings)
    with wh.transaction() as con:
        for table, columns in {**PUBLISHED_TABLES, "pipeline_runs": PIPELINE_RUNS_COLUMNS}.items():
            wh.ensure_table(con, PUBLISHED_SCHEMA, table, columns)
        from shopguide.published import add_missing_columns

        add_missing_columns(wh, con)  # columns added to a contract since
