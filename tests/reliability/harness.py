"""What the reliability tests share: a tiny shop, real `shopguide` processes to kill,
snapshots of the published tables, and the ledger behind the suite's summary table."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from shopguide.faults import MARKER
from shopguide.schema import PUBLISHED_KEYS, PUBLISHED_TABLES
from shopguide.settings import REPO_ROOT

SHOPGUIDE = str(Path(sys.executable).parent / "shopguide")
# Sort keys that make a published partition comparable row by row: the natural keys.
ORDER = {table: [c for c in key if c != "run_date"] for table, key in PUBLISHED_KEYS.items()}


# -- the ledger printed under the test session (see conftest.py) -------------------------
@dataclass
class Ledger:
    bad_inputs: list[tuple[str, str, str]] = field(default_factory=list)  # kind, level, outcome
    faults: list[dict] = field(default_factory=list)
    reader_queries: int = 0
    mixed_reads: int = 0
    checks: list[tuple[str, str]] = field(default_factory=list)  # what, result

    def empty(self) -> bool:
        return not (self.bad_inputs or self.faults or self.checks)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    def merge(self, other: dict) -> None:
        """Add another process's ledger (``to_json`` output, parsed)."""
        self.bad_inputs += [tuple(row) for row in other["bad_inputs"]]
        self.faults += other["faults"]
        self.reader_queries += other["reader_queries"]
        self.mixed_reads += other["mixed_reads"]
        self.checks += [tuple(row) for row in other["checks"]]


LEDGER = Ledger()


# -- a pipeline process ----------------------------------------------------------------
def pipeline_env(home: Path, warehouse_url: str, source_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a small, fast nightly run (baseline recommender, no holdout)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPGUIDE_")}
    env.update(
        SHOPGUIDE_HOME=str(home),
        SHOPGUIDE_WAREHOUSE=warehouse_url,
        SHOPGUIDE_SOURCE="generated",
        SHOPGUIDE_SOURCE_PATH=str(source_path),
        SHOPGUIDE_RECOMMENDER="baseline",
        SHOPGUIDE_EVALUATE_RECOMMENDATIONS="0",
        SHOPGUIDE_FORECAST_BACKTEST_ORIGINS="0",
        SHOPGUIDE_SPARK_DRIVER_MEMORY="1g",
        SHOPGUIDE_SHUFFLE_PARTITIONS="2",
        SPARK_MASTER="local[2]",
        PYSPARK_PYTHON=sys.executable,
        PYTHONPATH=str(REPO_ROOT),
    )
    env.update(extra)
    return env


@dataclass
class Outcome:
    returncode: int
    stderr: str
    killed_at: str | None
    seconds: float


def shopguide(
    env: dict[str, str], *args: str, failpoint: str | None = None, timeout: float = 900
) -> Outcome:
    """Run ``shopguide ARGS`` as its own process group; with ``failpoint``, SIGKILL the whole
    group (CLI, Spark JVM, Python workers) the moment the run reaches that point."""
    env = dict(env)
    if failpoint:
        env["SHOPGUIDE_FAILPOINT"] = failpoint
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [SHOPGUIDE, *args],
        env=env,
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    killed: list[str] = []

    def watch() -> None:
        for line in proc.stderr:
            lines.append(line)
            if failpoint and line.startswith(MARKER) and not killed:
                killed.append(failpoint)
                os.killpg(proc.pid, signal.SIGKILL)

    reader = threading.Thread(target=watch, daemon=True)
    reader.start()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise
    finally:
        reader.join(timeout=10)
        _kill_group(proc.pid)  # a JVM that outlived its parent
    return Outcome(
        proc.returncode, "".join(lines), killed[0] if killed else None, time.perf_counter() - t0
    )


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def with_late_file(shop, dest, day: str, rows: int = 150, seed: int = 11):
    """A copy of ``shop`` plus ``transactions_late.parquet``: ``rows`` sales dated ``day``
    that arrived after that day's run (popular articles, existing customers)."""
    shutil.copytree(shop, dest)
    tx = pd.read_parquet(shop / "transactions.parquet")
    late = tx.sample(n=rows, replace=True, random_state=seed).assign(t_dat=pd.Timestamp(day))
    late.to_parquet(dest / "transactions_late.parquet", index=False)
    return dest


# -- what BI sees ----------------------------------------------------------------------
def published(wh, run_date: str) -> dict[str, pd.DataFrame]:
    """Every published table's partition for ``run_date``, sorted, plus the success rows."""
    out = {}
    for table in PUBLISHED_TABLES:
        if not wh.table_exists("published", table):
            out[table] = pd.DataFrame()
            continue
        df = wh.query_df(
            f"SELECT * FROM published.{table} WHERE run_date = CAST({wh.param} AS DATE)", [run_date]
        )
        out[table] = df.sort_values(ORDER[table]).reset_index(drop=True)
    runs = 0
    if wh.table_exists("published", "pipeline_runs"):
        runs = wh.scalar(
            "SELECT count(*) FROM published.pipeline_runs WHERE status = 'success' "
            f"AND run_date = CAST({wh.param} AS DATE)",
            [run_date],
        )
    out["_successful_runs"] = pd.DataFrame({"n": [int(runs or 0)]})
    return out


def differences(
    a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame], skip=("_successful_runs",)
) -> list[str]:
    """Tables whose rows differ between two snapshots (floats to 1e-9)."""
    bad = []
    for table in a:
        if table in skip:
            continue
        x, y = a[table], b[table]
        if x.shape != y.shape:
            bad.append(f"{table}: {x.shape} vs {y.shape}")
            continue
        try:
            pd.testing.assert_frame_equal(x, y, check_exact=False, rtol=1e-9, check_dtype=False)
        except AssertionError as exc:
            bad.append(f"{table}: {str(exc).splitlines()[0]}")
    return bad


def fingerprint_sql(run_date: str) -> str:
    """One PostgreSQL statement (one snapshot) that hashes every published partition."""
    parts = [
        f"(SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
        f"FROM published.{table} t WHERE run_date = DATE '{run_date}') AS {table}"
        for table in PUBLISHED_TABLES
    ]
    return "SELECT " + ", ".join(parts)


class Reader(threading.Thread):
    """A BI client that reads the published partition in a loop, one snapshot per query."""

    def __init__(self, url: str, run_date: str):
        super().__init__(daemon=True)
        self.url, self.sql = url, fingerprint_sql(run_date)
        self.seen: list[tuple] = []
        self.errors: list[str] = []
        self._halt = threading.Event()

    def run(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as con:
            while not self._halt.is_set():
                try:
                    self.seen.append(tuple(con.execute(self.sql).fetchone()))
                except psycopg.errors.UndefinedTable:
                    pass  # before the first publication
                except psycopg.Error as exc:
                    self.errors.append(str(exc).splitlines()[0])
                # Each query hashes every published partition (tens of ms of server CPU on
                # two shared cores): about five a second, over a thousand across the kills.
                time.sleep(0.2)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=30)
