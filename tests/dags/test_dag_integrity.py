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
    assert {"shopguide_nightly", "shopguide_email_export"} <= set(dagbag.dags)


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


def _graph_from_steps() -> dict[str, set[str]]:
    """The nightly graph shopguide.steps describes, as task id -> upstream task ids: the
    groups run in order; in a group each task follows the last non-parallel one before
    it; a group's first tasks follow the previous group's last ones."""
    from shopguide.steps import PARALLEL_TASKS, TASK_GROUPS

    upstream: dict[str, set[str]] = {}
    previous_leaves: set[str] = set()
    for group, names in TASK_GROUPS:
        ids = [f"{group}.{name}" for name in names]
        inner: dict[str, set[str]] = {}
        anchor = None
        for name, task_id in zip(names, ids, strict=True):
            inner[task_id] = {anchor} if anchor else set()
            if name not in PARALLEL_TASKS:
                anchor = task_id
        has_downstream = set().union(*inner.values())
        for task_id in ids:
            upstream[task_id] = inner[task_id] or set(previous_leaves)
        previous_leaves = {task_id for task_id in ids if task_id not in has_downstream}
    return upstream


def test_the_dag_file_and_steps_describe_the_same_graph(dagbag):
    """The DAG file writes its graph out; `shopguide run` follows shopguide.steps. The two
    must not drift: same task ids, groups in the same order, same edges, and the Spark
    pool on exactly the Spark tasks."""
    from shopguide.orchestration import SPARK_POOL, SPARK_TASKS
    from shopguide.steps import TASK_GROUPS

    dag = dagbag.dags["shopguide_nightly"]
    expected = _graph_from_steps()
    tasks = {t.task_id: t for t in dag.tasks}
    assert set(tasks) == set(expected)
    assert list(dag.task_group.children) == [group for group, _ in TASK_GROUPS]
    for group, names in TASK_GROUPS:
        assert list(dag.task_group.children[group].children) == [
            f"{group}.{name}" for name in names
        ]
    assert {task_id: set(t.upstream_task_ids) for task_id, t in tasks.items()} == expected
    downstream = {task_id: set() for task_id in expected}
    for task_id, ups in expected.items():
        for up in ups:
            downstream[up].add(task_id)
    assert {task_id: set(t.downstream_task_ids) for task_id, t in tasks.items()} == downstream
    in_pool = {task_id.split(".", 1)[1] for task_id, t in tasks.items() if t.pool == SPARK_POOL}
    assert in_pool == SPARK_TASKS


@pytest.mark.parametrize("dag_file", ["shopguide_nightly.py", "shopguide_email_export.py"])
def test_dag_file_does_no_heavy_work_at_import(dag_file):
    """Parsing the DAG must not import pandas, Spark, dbt or GX (the scheduler parses often)."""
    code = (
        "import sys, runpy; runpy.run_path({!r}); "
        "heavy = [m for m in ('pandas', 'pyspark', 'dbt', 'great_expectations', 'duckdb') if m in sys.modules]; "
        "print('HEAVY=' + ','.join(heavy))"
    ).format(str(REPO / "dags" / dag_file))
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


def test_run_date_param_and_a_manual_trigger_without_one(dagbag):
    dag = dagbag.dags["shopguide_nightly"]
    assert "run_date" in dag.params
    assert dag.params["run_date"] is None  # empty: data interval, else the previous day
    assert dag.params["accept_volume_change"] is False  # the quality gate's override


def test_spark_tasks_share_a_pool_and_publish_emits_the_assets(dagbag):
    from shopguide.orchestration import SPARK_POOL, published_asset_uri
    from shopguide.schema import PUBLISHED_TABLES

    tasks = {t.task_id: t for t in dagbag.dags["shopguide_nightly"].tasks}
    assert tasks["spark.recommend"].pool == tasks["spark.forecast"].pool == SPARK_POOL
    assert tasks["ingest.ingest"].pool != SPARK_POOL
    uris = {a.uri for a in tasks["publish.publish"].outlets}
    assert {published_asset_uri(t) for t in PUBLISHED_TABLES} <= uris
    assert all(not t.outlets for name, t in tasks.items() if name != "publish.publish")


def test_the_email_export_is_scheduled_on_the_published_email_list(dagbag):
    from shopguide.orchestration import published_asset_uri

    dag = dagbag.dags["shopguide_email_export"]
    assets = list(dag.timetable.asset_condition.objects)
    assert [a.uri for a in assets] == [published_asset_uri("email_campaign_list")]
    assert [t.task_id for t in dag.tasks] == ["export_email"]


def test_one_alert_per_failed_run_none_per_attempt(dagbag):
    """Only the DAG's failure notifier alerts (once per failed run); no task-level
    failure or retry callback could add a second alert or alert on a retry."""
    from shopguide.notifiers import RunFailedNotifier

    dag = dagbag.dags["shopguide_nightly"]
    callbacks = dag.on_failure_callback
    callbacks = callbacks if isinstance(callbacks, list) else [callbacks]
    assert any(isinstance(c, RunFailedNotifier) for c in callbacks)
    for task in dag.tasks:
        assert not task.on_failure_callback and not task.on_retry_callback, task.task_id
    source = (REPO / "dags" / "shopguide_nightly.py").read_text()
    assert "alert=False" in source


def test_the_email_export_takes_every_triggering_run_date():
    import importlib.util
    from pathlib import Path
    from types import SimpleNamespace

    path = Path(__file__).resolve().parents[2] / "dags" / "shopguide_email_export.py"
    spec = importlib.util.spec_from_file_location("shopguide_email_export_module", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    events = {
        "email_campaign_list": [
            SimpleNamespace(extra={"run_date": "2024-06-02"}),
            SimpleNamespace(extra={"run_date": "2024-06-01"}),  # a backfill's, queued
        ],
        "other": [SimpleNamespace(extra={"run_date": "2024-06-02"}), SimpleNamespace(extra=None)],
    }
    assert module._event_run_dates({"triggering_asset_events": events}) == [
        "2024-06-01",
        "2024-06-02",
    ]
    assert module._event_run_dates({}) == []
