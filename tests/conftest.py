"""Shared test fixtures."""

from __future__ import annotations

import gc
import json
import logging
import os
import sys

import pytest

from shopguide.spark import LOCAL_CONFS, UI_RETENTION, quick_jit_options
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
        # the worker's JVM runs hundreds of tests' jobs: keep the pipeline's UI retention
        .config(map={**UI_RETENTION, **LOCAL_CONFS})
        # small test data: the quick JIT compiler alone (shopguide.spark.java_options), with
        # a code cache for a whole worker's life (C1's default 48 MB fills within one run)
        .config("spark.driver.extraJavaOptions", quick_jit_options(512))
        .getOrCreate()
    )
    yield session
    session.stop()


@pytest.fixture(autouse=True)
def _release_spark_caches(request):
    """After every test, drop what it left cached in the worker's Spark session (the
    ``spark`` fixture's, or the one an in-process pipeline run started): the JVM lives for
    the whole worker, and a later test's broadcast join twice ran out of driver memory on
    a fresh-clone CI run. ``SHOPGUIDE_TEST_HEAP_LOG=<file>``: also append each test's
    driver heap in use after a full GC (MiB), to see whether anything still grows."""
    yield
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    context = SparkContext._active_spark_context
    session = SparkSession.getActiveSession() or SparkSession._instantiatedSession
    if context is None or session is None:
        return
    gc.collect()  # the test's frames in reference cycles hold their JVM plans
    session.catalog.clearCache()
    log_file = os.environ.get("SHOPGUIDE_TEST_HEAP_LOG")
    if log_file:
        jvm = context._jvm
        jvm.java.lang.System.gc()
        runtime = jvm.java.lang.Runtime.getRuntime()
        used = (runtime.totalMemory() - runtime.freeMemory()) / 2**20
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        with open(log_file, "a") as out:
            out.write(f"{worker}\t{used:.0f}\t{request.node.nodeid}\n")


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


# -- longest modules first (pytest-xdist) -------------------------------------------------
# The suite is CPU-bound on two workers: its wall time is about the total work over two
# plus the tail, the longest test left running alone at the end. Test modules are
# ordered by their measured duration (the sum of their tests' in tests/durations.json,
# longest first; a module's tests stay together, in their order, so its fixtures are set
# up once per worker) and `make test` hands tests out one at a time (--maxschedchunk 1):
# the long ones start first and the short ones fill the gaps.
# `pytest --store-durations` updates the file with the run's tests.
DURATIONS_FILE = os.path.join(os.path.dirname(__file__), "durations.json")


def pytest_addoption(parser):
    parser.addoption(
        "--store-durations",
        action="store_true",
        help=f"update {DURATIONS_FILE} with each test's duration (setup + call + teardown)",
    )


def _known_durations() -> dict[str, float]:
    try:
        with open(DURATIONS_FILE) as f:
            return {k: float(v) for k, v in json.load(f).items()}
    except (OSError, ValueError):
        return {}


def pytest_collection_modifyitems(session, config, items):
    known = _known_durations()
    if not known:
        return
    weight: dict[str, float] = {}
    for item in items:
        module = item.nodeid.split("::", 1)[0]
        weight[module] = weight.get(module, 0.0) + known.get(item.nodeid, 0.0)
    # sort is stable: within a module (and among unmeasured ones) the collected order stays
    items.sort(key=lambda item: -weight[item.nodeid.split("::", 1)[0]])


_MEASURED: dict[str, float] = {}


def pytest_runtest_logreport(report):
    """On the controller (and without xdist) every phase's report arrives here."""
    _MEASURED[report.nodeid] = _MEASURED.get(report.nodeid, 0.0) + float(report.duration)


def pytest_sessionfinish(session, exitstatus):
    if not session.config.getoption("store_durations", False):
        return
    if hasattr(session.config, "workerinput"):
        return  # the controller writes the file
    merged = {**_known_durations(), **_MEASURED}  # a partial run updates its own tests only
    with open(DURATIONS_FILE, "w") as f:
        json.dump({k: round(v, 1) for k, v in sorted(merged.items())}, f, indent=0)
        f.write("\n")


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
