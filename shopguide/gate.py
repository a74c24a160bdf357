"""The quality gate before publish: is this run good enough to replace the last?

Called at the start of :func:`shopguide.pipeline.publish`, on the candidate tables the
run built:

1. **Model gate.** When the run's holdout (``outputs.model_metrics``) has the hybrid's
   MAP@K below the best baseline's by more than ``SHOPGUIDE_GATE_MAP_TOLERANCE``, the
   run publishes the best baseline's lists (``outputs.baseline_recommendations``, which
   the recommend job writes for the same customers) instead: they replace the run's
   ``outputs.recommendations`` rows, each row's ``reason`` says which model made it,
   the candidate tables are rebuilt from them (email list included), pipeline_runs'
   message says so and an alert goes to ``SHOPGUIDE_ALERT_WEBHOOK``.
2. **Volume checks.** Against the previous successful run (its ``pipeline_runs`` row
   counts, and the customers with recommendations this gate recorded for it): when a
   published table, the customers with recommendations, the forecast rows or the email
   list shrank by ``SHOPGUIDE_VOLUME_MAX_DROP`` (default half) or more, publication
   stops with a message naming the table, both counts and the override
   (``shopguide run --accept-volume-change``, DAG param ``accept_volume_change`` /
   ``SHOPGUIDE_ACCEPT_VOLUME_CHANGE=1``). A first run has nothing to compare with.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import date

import pandas as pd

from shopguide.run_date import stored_run_date
from shopguide.schema import (
    CANDIDATE_SCHEMA,
    OUTPUTS_SCHEMA,
    PRIVATE_SPARK_OUTPUTS,
    PUBLISHED_SCHEMA,
    PUBLISHED_TABLES,
)
from shopguide.settings import Settings
from shopguide.warehouse import open_warehouse, qident, qualified

log = logging.getLogger("shopguide.gate")

GATE_TASK = "quality_gate"
# What the gate measured for each run it passed: previous runs' customers with lists.
VOLUMES_TABLE = "gate_volumes"
VOLUMES_COLUMNS = {"run_date": "DATE", "measure": "VARCHAR", "value": "BIGINT"}
CUSTOMERS_MEASURE = "customers_with_recommendations"
BASELINE_TABLE = "baseline_recommendations"
OVERRIDE = "shopguide run --accept-volume-change (DAG param accept_volume_change)"


class GateError(RuntimeError):
    """Publication stopped by the quality gate; the message says why and how to override."""


def quality_gate(
    settings: Settings, run_date: date, rebuild: Callable[[], object] | None = None
) -> dict:
    """Check the run before it is published; returns ``{"message", "fallback", "volumes"}``
    (``message`` goes into pipeline_runs). ``rebuild`` rebuilds and revalidates the
    candidate tables after the recommendations were replaced by the baseline's.
    Raises :class:`GateError` when a volume check stops publication."""
    wh = open_warehouse(settings)
    fallback = model_gate(settings, wh, run_date)
    # The volume checks first: a run they stop keeps its own lists untouched (and no
    # fallback alert goes out for a run that is not published). The baseline's lists
    # are for the same customers, so the hybrid's candidates measure the volumes.
    volumes = current_volumes(wh, run_date)
    check_volumes(settings, wh, run_date, volumes)
    if fallback is not None:
        replace_with_baseline(wh, run_date, fallback["model"])
        if rebuild is not None:
            rebuild()
        from shopguide.alerts import send_alert

        send_alert(settings.alert_webhook, run_date.isoformat(), GATE_TASK, fallback["message"])
        log.warning("%s for %s: %s", GATE_TASK, run_date, fallback["message"])
        volumes = current_volumes(wh, run_date)  # what is published
    _record_volumes(wh, run_date, volumes)
    message = "published" if fallback is None else f"published; {fallback['message']}"
    return {"message": message, "fallback": fallback, "volumes": volumes}


# -- 1. the model gate ------------------------------------------------------------------
def model_gate(settings: Settings, wh, run_date: date) -> dict | None:
    """None when the hybrid holds its own (or there is no holdout); else the fallback:
    ``{"model", "message"}`` with the best baseline and the two MAP@K values."""
    if not wh.table_exists(OUTPUTS_SCHEMA, "model_metrics"):
        return None
    metrics = wh.query_df(
        f"SELECT model, k, map_at_k FROM {qualified(OUTPUTS_SCHEMA, 'model_metrics')} "
        f"WHERE run_date = CAST({wh.param} AS DATE)",
        [run_date],
    )
    scores = dict(zip(metrics["model"], metrics["map_at_k"].astype(float), strict=True))
    if "hybrid" not in scores or len(scores) < 2:
        return None
    baselines = {m: v for m, v in scores.items() if m != "hybrid"}
    best = max(sorted(baselines), key=lambda m: baselines[m])
    hybrid, baseline = scores["hybrid"], baselines[best]
    if hybrid >= baseline - settings.gate_map_tolerance:
        return None
    k = int(metrics["k"].iloc[0])
    available = _baseline_models(wh, run_date)
    if not available:
        raise GateError(
            f"the hybrid lost the holdout (MAP@{k} {hybrid:.4f} < {best} {baseline:.4f} - "
            f"tolerance {settings.gate_map_tolerance:g}) but the run has no "
            f"outputs.{BASELINE_TABLE} to publish instead: rerun the recommend task"
        )
    # The lists are one model's, topped up with popularity where it has too few.
    model = next((m for m in sorted(available) if m != "popularity"), "popularity")
    return {
        "model": model,
        "hybrid_map": hybrid,
        "baseline_map": baseline,
        "message": (
            f"quality gate: the hybrid's holdout MAP@{k} {hybrid:.4f} is below the {best} "
            f"baseline's {baseline:.4f} by more than the tolerance "
            f"{settings.gate_map_tolerance:g} (SHOPGUIDE_GATE_MAP_TOLERANCE): published the "
            f"baseline's lists ({model}) instead of the hybrid's"
        ),
    }


def _baseline_models(wh, run_date: date) -> list[str]:
    if not wh.table_exists(OUTPUTS_SCHEMA, BASELINE_TABLE):
        return []
    frame = wh.query_df(
        f"SELECT DISTINCT model FROM {qualified(OUTPUTS_SCHEMA, BASELINE_TABLE)} "
        f"WHERE run_date = CAST({wh.param} AS DATE)",
        [run_date],
    )
    return [str(m) for m in frame["model"]]


def fallback_reason(reason: str, model: str) -> str:
    """A baseline row's reason, marked with the model that made it."""
    return f"{reason} [baseline: {model}]"


def replace_with_baseline(wh, run_date: date, model: str) -> int:
    """The run's outputs.recommendations rows become the baseline's (reason marked)."""
    columns = PUBLISHED_TABLES["recommendations"]
    cols = ", ".join(qident(c) for c in PRIVATE_SPARK_OUTPUTS[BASELINE_TABLE])
    frame = wh.query_df(
        f"SELECT {cols} FROM {qualified(OUTPUTS_SCHEMA, BASELINE_TABLE)} "
        f"WHERE run_date = CAST({wh.param} AS DATE)",
        [run_date],
    )
    frame["reason"] = [
        fallback_reason(r, m) for r, m in zip(frame["reason"], frame["model"], strict=True)
    ]
    return wh.replace_rows(
        OUTPUTS_SCHEMA,
        "recommendations",
        frame.assign(run_date=run_date)[list(columns)],
        columns,
        "run_date",
        [run_date],
    )


# -- 2. the volume checks ------------------------------------------------------------------
def current_volumes(wh, run_date: date) -> dict[str, int]:
    """Row counts of the run's candidate tables and its customers with recommendations."""
    out: dict[str, int] = {}
    for table in PUBLISHED_TABLES:
        if wh.table_exists(CANDIDATE_SCHEMA, table):
            out[table] = _count(wh, qualified(CANDIDATE_SCHEMA, table), run_date)
    if wh.table_exists(CANDIDATE_SCHEMA, "recommendations"):
        out[CUSTOMERS_MEASURE] = _count(
            wh, qualified(CANDIDATE_SCHEMA, "recommendations"), run_date, "DISTINCT customer_id"
        )
    return out


def _count(wh, relation: str, run_date: date, what: str = "*") -> int:
    sql = f"SELECT count({what}) FROM {relation} WHERE run_date = CAST({wh.param} AS DATE)"
    return int(wh.scalar(sql, [run_date]) or 0)


def previous_volumes(wh, run_date: date) -> tuple[date, dict[str, int]] | None:
    """(run date, counts) of the latest successful run before ``run_date``, or None."""
    runs = qualified(PUBLISHED_SCHEMA, "pipeline_runs")
    if not wh.table_exists(PUBLISHED_SCHEMA, "pipeline_runs"):
        return None
    rows = wh.query_df(
        f"SELECT run_date, row_counts FROM {runs} WHERE status = 'success' "
        f"AND run_date < CAST({wh.param} AS DATE) ORDER BY run_date DESC, finished_at DESC",
        [run_date],
    )
    if rows.empty:
        return None
    day = stored_run_date(rows["run_date"].iloc[0])
    counts = {k: int(v) for k, v in json.loads(rows["row_counts"].iloc[0] or "{}").items()}
    if wh.table_exists(OUTPUTS_SCHEMA, VOLUMES_TABLE):
        recorded = wh.query_df(
            f"SELECT measure, value FROM {qualified(OUTPUTS_SCHEMA, VOLUMES_TABLE)} "
            f"WHERE run_date = CAST({wh.param} AS DATE)",
            [day],
        )
        for measure, value in zip(recorded["measure"], recorded["value"], strict=True):
            counts.setdefault(str(measure), int(value))
    return day, counts


def check_volumes(settings: Settings, wh, run_date: date, volumes: dict[str, int]) -> None:
    """Stop publication when a measure shrank by ``volume_max_drop`` or more."""
    share = settings.volume_max_drop
    if share <= 0:  # SHOPGUIDE_VOLUME_MAX_DROP=0 switches the volume checks off
        return
    previous = previous_volumes(wh, run_date)
    if previous is None:
        return
    day, before = previous
    drops = [
        f"{name}: {volumes[name]:,} rows against {before[name]:,} on {day}"
        for name in volumes
        if before.get(name, 0) > 0 and volumes[name] <= before[name] * (1.0 - share)
    ]
    if not drops:
        return
    message = (
        f"volume check: {'; '.join(drops)} (a drop of {share:.0%} or more, "
        f"SHOPGUIDE_VOLUME_MAX_DROP)"
    )
    if settings.accept_volume_change:
        log.warning("%s for %s, accepted: %s", GATE_TASK, run_date, message)
        return
    raise GateError(
        f"{message}. Publication stopped; the published tables keep the previous run. "
        f"If the change is expected, publish with {OVERRIDE}"
    )


def _record_volumes(wh, run_date: date, volumes: dict[str, int]) -> None:
    frame = pd.DataFrame(
        {
            "run_date": run_date,
            "measure": list(volumes),
            "value": [int(v) for v in volumes.values()],
        }
    )
    wh.replace_rows(OUTPUTS_SCHEMA, VOLUMES_TABLE, frame, VOLUMES_COLUMNS, "run_date", [run_date])
