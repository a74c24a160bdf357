"""The nightly run's task layout: names, task groups and order. Import-light on purpose:
the DAG file reads it at parse time, so it must not pull in pandas, Spark or dbt."""

from __future__ import annotations

# (task group, tasks in it). Tasks in one tuple after the first run in parallel in
# the DAG (the Spark jobs read the same exported inputs); `shopguide run` runs them
# one after another in this order.
TASK_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ingest", ("ingest",)),
    ("validate_raw", ("validate_raw",)),
    ("dbt_build", ("build_models",)),
    ("spark", ("export_inputs", "recommend", "forecast")),
    ("load_outputs", ("load_outputs", "score_feedback", "build_candidates")),
    ("validate_outputs", ("validate_outputs",)),
    ("publish", ("publish", "report")),
)
PARALLEL_TASKS = frozenset({"recommend", "forecast"})
TASK_NAMES: tuple[str, ...] = tuple(name for _, names in TASK_GROUPS for name in names)
