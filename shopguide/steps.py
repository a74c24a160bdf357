"""The nightly run's task layout: names, task groups and order. `shopguide run` follows
it; dags/shopguide_nightly.py writes the same graph out, and
tests/dags/test_dag_integrity.py keeps the two equal. Standard library only, so
importing it never pulls in pandas, Spark or dbt."""

from __future__ import annotations

# (task group, tasks in it). In a group each task follows the one before it, except
# PARALLEL_TASKS: the DAG runs them side by side after the group's last other task (the
# Spark jobs read the same exported inputs). `shopguide run` runs every task one after
# another in this order.
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
