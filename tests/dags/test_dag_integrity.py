"""The DAG folder imports cleanly and the nightly DAG is wired as documented."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def dagbag(tmp_path_factory):
    os.environ.setdefault("AIRFLOW_HOME", str(tmp_path_factory.mktemp("airflow")))
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags"))


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}, dagbag.import_errors
    assert "shopguide_nightly" in dagbag.dags


def test_schedule_and_run_policy(dagbag):
    dag = dagbag.dags["shopguide_nightly"]
    timetable = dag.timetable
    assert "expression='0 2 * * *'" in repr(timetable) and "timezone='UTC'" in repr(timetable)
    assert "interval=datetime.timedelta(days=1)" in repr(timetable)
    assert dag.catchup is False
    assert dag.max_active_runs == 1
    assert {"shopguide"} <= set(dag.tags)
    assert dag.doc_md and "shopguide_nightly" in dag.doc_md


def test_every_task_has_retries_and_timeout(dagbag):
    for task in dagbag.dags["shopguide_nightly"].tasks:
        assert task.retries >= 1, task.task_id
        assert task.execution_timeout is not None and task.execution_timeout <= timedelta(
            hours=4
        ), task.task_id


def test_task_groups_run_in_the_documented_order(dagbag):
    dag = dagbag.dags["shopguide_nightly"]
    upstream = {t.task_id: set(t.upstream_task_ids) for t in dag.tasks}
    assert upstream["ingest.ingest"] == set()
    assert upstream["validate_raw.validate_raw"] == {"ingest.ingest"}
    assert upstream["dbt_build.build_models"] == {"validate_raw.validate_raw"}
    assert upstream["spark.export_inputs"] == {"dbt_build.build_models"}
    assert upstream["spark.recommend"] == upstream["spark.forecast"] == {"spark.export_inputs"}
    assert upstream["load_outputs.load_outputs"] == {"spark.recommend", "spark.forecast"}
    assert upstream["validate_outputs.validate_outputs"] == {"load_outputs.build_candidates"}
    assert upstream["publish.publish"] == {"validate_outputs.validate_outputs"}


def test_dag_file_does_no_heavy_work_at_import():
    """Parsing the DAG must not import pandas, Spark, dbt or GX (the scheduler parses often)."""
    code = (
        "import sys, runpy; runpy.run_path({!r}); "
        "heavy = [m for m in ('pandas', 'pyspark', 'dbt', 'great_expectations', 'duckdb') if m in sys.modules]; "
        "print('HEAVY=' + ','.join(heavy))"
    ).format(str(REPO / "dags" / "shopguide_nightly.py"))
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "AIRFLOW__CORE__LOAD_EXAMPLES": "False"},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "HEAVY=\n" in out.stdout + "\n", f"heavy modules imported at parse time: {out.stdout}"


def test_a_late_run_is_stopped_and_alerted(dagbag):
    dag = dagbag.dags["shopguide_nightly"]
    assert dag.dagrun_timeout is not None and dag.dagrun_timeout <= timedelta(hours=4)
    callbacks = (
        dag.on_failure_callback
        if isinstance(dag.on_failure_callback, list)
        else [dag.on_failure_callback]
    )
    assert callbacks and all(callable(c) for c in callbacks)
