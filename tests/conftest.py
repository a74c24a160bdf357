"""Shared test fixtures."""

from __future__ import annotations

import json
import logging
import os
import sys

import pytest

from support import make_settings


@pytest.fixture(scope="session")
def spark():
    """One small local Spark session for the whole test run (2 cores, 2 shuffle partitions)."""
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYARROW_IGNORE_TIMEZONE", "1")
    # Python workers must run the venv's interpreter (pandas, numpy, statsforecast).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (
        SparkSession.builder.master("local[2]")
        .appName("shopguide-tests")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.driver.memory", "4g")
        .getOrCreate()
    )
    yield session
    session.stop()


# py4j says goodbye at interpreter exit, after pytest closed its log streams; that
# printed "Logging error" tracebacks under the test summary.
logging.getLogger("py4j").setLevel(logging.WARNING)

PG_ADMIN_URL = os.environ.get(
    "SHOPGUIDE_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture
def pg_databases():
    """A factory of fresh PostgreSQL databases (URLs), all dropped after the test."""
    import uuid

    import psycopg

    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    names: list[str] = []

    def create() -> str:
        name = f"shopguide_test_{uuid.uuid4().hex[:8]}"
        admin.execute(f'CREATE DATABASE "{name}"')
        names.append(name)
        return f"{base}/{name}"

    try:
        yield create
    finally:
        for name in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture
def pg_url(pg_databases):
    """A fresh PostgreSQL database for one test, dropped afterwards; its URL."""
    return pg_databases()


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_settings(request, tmp_path):
    """Settings for a DuckDB file, then for a fresh PostgreSQL database."""
    if request.param == "duckdb":
        return make_settings(tmp_path)
    return make_settings(tmp_path, request.getfixturevalue("pg_url"))


# -- the reliability summary (tests/reliability) ----------------------------------------
# It lives here because under pytest-xdist the controller collects nothing, so only this
# conftest is loaded there; workers hand over their ledgers (tests/reliability/conftest.py).
_WORKER_LEDGERS: list[dict] = []


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    data = getattr(node, "workeroutput", {}).get("shopguide_ledger")
    if data:
        _WORKER_LEDGERS.append(json.loads(data))


def pytest_terminal_summary(terminalreporter):
    harness = sys.modules.get("harness")  # loaded when this process ran reliability tests
    if harness is None and not _WORKER_LEDGERS:
        return
    if harness is None:
        sys.path.insert(0, os.path.join(os.path.dirname(__file__), "reliability"))
        import harness
    ledger = harness.Ledger()
    if not hasattr(terminalreporter.config, "workerinput"):
        ledger.merge(json.loads(harness.LEDGER.to_json()))
    for other in _WORKER_LEDGERS:
        ledger.merge(other)
    if ledger.empty():
        return
    write = terminalreporter.write_line
    terminalreporter.section("reliability summary")
    levels: dict[str, int] = {}
    for _, level, _ in ledger.bad_inputs:
        levels[level] = levels.get(level, 0) + 1
    write(
        f"bad input kinds tried: {len(ledger.bad_inputs)} ({', '.join(f'{n} {k}' for k, n in sorted(levels.items()))})"
    )
    for kind, level, outcome in ledger.bad_inputs:
        write(f"  {kind:<44} {level:<11} {outcome}")
    write(f"faults injected (SIGKILL): {len(ledger.faults)}")
    for f in ledger.faults:
        write(
            f"  {f['backend']:<9} killed during {f['point']:<8} published kept previous run: {f['kept']!s:<5} "
            f"rerun equals clean run: {f['equal']!s:<5} rows lost: {f['rows_lost']}"
        )
    lost = sum(int(f["rows_lost"]) for f in ledger.faults)
    write(f"rows lost: {lost}")
    write(f"concurrent reader queries: {ledger.reader_queries}, mixed reads: {ledger.mixed_reads}")
    for what, result in ledger.checks:
        write(f"  {what}: {result}")
