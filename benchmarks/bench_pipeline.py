"""The nightly run's wall time per task and its peak memory, medians of several runs,
at several shop sizes, and the largest size once more on a standalone Spark cluster.

Each run is what a scheduler starts every night: a fresh `shopguide run --date D`
process (its own Spark JVM, dbt, Great Expectations) on an empty DuckDB warehouse,
with every task on (hybrid recommender, its nightly holdout, the forecast backtest).
Each fresh run is followed by a rerun of the date on the warehouse it left, which
reuses the ranker the first run kept in the lake, as the nights of the following week
do. The shop is generated once per size; the runs of one size read the same files.
Peak memory is the largest resident set of the whole process tree (CLI, Spark JVM,
Python workers), sampled every 0.5 s. The recommender's step log (`[recommend] ...`
lines) says where the recommend task's time goes.

With ``--cluster``, the largest size runs once more with ``SPARK_MASTER`` on a standalone
cluster started here (a master and two 1-core workers, :mod:`shopguide.standalone`):
every Spark job goes through spark-submit, and its published rows are compared with the
last local run's, table by table.

Every size's measurements are kept in ``benchmarks/pipeline_runs.json`` (a run of some
sizes replaces those sizes only); the results.md section, its table of targets and the
capacity plan's figures in ``docs/CAPACITY.md`` are computed from that file.

    python benchmarks/bench_pipeline.py [--runs 3] [--sizes demo,25k,100k] [--cluster]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results_file import RESULTS, write_section  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SIZES = {  # name: (customers, articles, days); demo = `make demo`'s shop
    "demo": (4000, 1500, 365),
    "large": (20000, 5000, 365),
    "25k": (25000, 10000, 180),
    "100k": (100000, 20000, 180),
}
GROWTH = ("25k", "100k")  # the growth figure: 4x customers and purchases, 2x articles
RAW = Path(__file__).resolve().parent / "pipeline_runs.json"
PEERS = Path(__file__).resolve().parent / "als_peers_runs.json"  # bench_als_peers' figures
CAPACITY = REPO / "docs" / "CAPACITY.md"
CLUSTER = {"workers": 2, "cores": 1, "memory": "6g", "executor_memory": "5g"}
RUN_DATE = "2024-06-30"
# The record's key of each stage's step log (recommend's predates the forecast's).
STEP_KEYS = {"recommend": "steps", "forecast": "forecast_steps"}
# The Spark jobs' step logs (spark_jobs.timing.StepLog): "[recommend] <step>: 1.2 s".
STEP_LINE = re.compile(
    rf"^\[(?P<stage>{'|'.join(STEP_KEYS)})\] (?P<step>.+): (?P<seconds>[0-9.]+) s$"
)


def step_logs(stderr: str) -> dict[str, list[tuple[str, float]]]:
    """Each stage's step log from a run's stderr, under its record key (STEP_KEYS)."""
    out: dict[str, list[tuple[str, float]]] = {key: [] for key in STEP_KEYS.values()}
    for m in (STEP_LINE.match(line.strip()) for line in stderr.splitlines()):
        if m:
            out[STEP_KEYS[m["stage"]]].append((m["step"], float(m["seconds"])))
    return out


def step_table(stage: str, name: str, runs_: list[dict]) -> list[str]:
    """Where ``stage`` goes: its step log, the median of the runs per step; nothing when
    a run did not record it (records before the forecast logged steps) or the runs
    logged different steps."""
    logs = [r.get(STEP_KEYS[stage]) or [] for r in runs_]
    steps = [s for s, _ in logs[0]]
    if not steps or any([s for s, _ in log] != steps for log in logs):
        return []
    lines = [
        f"Where `{stage}` goes ({name} shop, its step log, median of the runs):",
        "",
        "| step | seconds |",
        "|---|---:|",
    ]
    for i, step in enumerate(steps):
        lines.append(f"| {step} | {_median(log[i][1] for log in logs):.1f} |")
    return [*lines, ""]


def _status(pid: int) -> dict[str, str]:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    return dict(line.split(":", 1) for line in lines if ":" in line)


def _rss_kib(pid: int) -> int:
    return _kib(_status(pid).get("VmRSS"))


# How close a child's resident set may be to its parent's and still be the parent's own.
SAME_MEMORY_TOLERANCE = 0.02


def shares_parent_memory(pid: int) -> bool:
    """True for a child whose resident set is its parent's: the JVM starts a subprocess (a
    Python worker daemon, a shell command) through vfork/posix_spawn, and until the exec
    the child's status repeats the parent's whole resident set; a forked child (a Python
    worker) starts with its parent's pages, shared until written. Counting either doubles
    the parent for that instant (seen on 100k runs: one sample of 11.8 GiB with two "java"
    processes of 4.78 GiB each; at 1642fd0 one of 11.47 GiB whose "other" child held
    4.57 GiB beside the JVM's 4.55, its command line read after the exec and its sizes
    before). So the test is the sizes alone, within a tolerance: the parent's threads keep
    allocating between the two reads of /proc. A child that has grown its own memory
    (a worker after its first task) differs from its parent and is counted."""
    status = _status(pid)
    ppid = int(status.get("PPid", "0").strip() or 0)
    if ppid <= 1:
        return False
    child_kib, parent_kib = _kib(status.get("VmRSS")), _kib(_status(ppid).get("VmRSS"))
    if not child_kib or not parent_kib:
        return False
    return abs(child_kib - parent_kib) <= SAME_MEMORY_TOLERANCE * parent_kib


def _kib(value: str | None) -> int:
    return int(value.split()[0]) if value else 0


def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                todo += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                pass
    return pids


def process_kind(pid: int, root: int) -> str:
    """What a process of the run's tree is, from its command line: the CLI (``root``),
    the Spark JVM, PySpark's Python workers, or another child (dbt, a spark-submit job's
    Python driver)."""
    if pid == root:
        return "shopguide CLI (Python driver)"
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "other"
    exe = Path(argv[0].decode(errors="replace")).name if argv and argv[0] else ""
    text = b" ".join(argv).decode(errors="replace")
    if exe == "java":
        return "Spark JVM"
    if "pyspark.daemon" in text or "pyspark.worker" in text:
        return "PySpark Python workers"
    return "other children (dbt, spark-submit drivers)"


class PeakMemory:
    """Samples the summed RSS of process ``pid`` and its descendants every 0.5 s (a child
    that still shares its parent's memory is not counted twice:
    :func:`shares_parent_memory`), and at the largest sample what each kind of process
    held (:func:`process_kind`)."""

    def __init__(self, pid: int, progress: Path | None = None) -> None:
        self.pid = pid
        self.progress = progress  # the run's progress log: which task held the peak
        self.peak_kib = 0
        self.peak_by_kind: dict[str, int] = {}
        self.peak_task = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            sizes = {  # the run's own process is counted whatever its parent holds
                p: _rss_kib(p)
                for p in _tree(self.pid)
                if p == self.pid or not shares_parent_memory(p)
            }
            total = sum(sizes.values())
            if total > self.peak_kib:
                self.peak_kib = total
                kinds: dict[str, int] = {}
                for p, kib in sizes.items():
                    kind = process_kind(p, self.pid)
                    kinds[kind] = kinds.get(kind, 0) + kib
                self.peak_by_kind = kinds
                self.peak_task = self._running_task()
            time.sleep(0.5)

    def _running_task(self) -> str:
        """The task the run's progress log names last ("<date> <task> ..." when it starts,
        "... done in" when it ends)."""
        try:
            lines = self.progress.read_text().splitlines() if self.progress else []
        except OSError:
            return ""
        if not lines:
            return ""
        words = lines[-1].split()  # HH:MM:SS date task ... | done in ...
        task = words[2] if len(words) > 2 else ""
        return task if words[3:4] == ["..."] else f"after {task}"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def _load_average() -> float:
    return os.getloadavg()[0]


def one_run(
    source: Path, workdir: Path, fresh: bool = True, home_name: str = "home", env_extra=None
) -> dict:
    """A `shopguide run` process, on an empty warehouse (``fresh``) or again on the one the
    previous run left (a rerun: the ranker it kept in the lake is reused); its task
    times, steps, memory. ``env_extra``: more environment (``SPARK_MASTER`` for a cluster)."""
    home = workdir / home_name
    if fresh:
        shutil.rmtree(home, ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPGUIDE_")}
    env.update(
        SHOPGUIDE_HOME=str(home),
        SHOPGUIDE_WAREHOUSE=f"duckdb://{home / 'warehouse.duckdb'}",
        SHOPGUIDE_SOURCE="generated",
        SHOPGUIDE_SOURCE_PATH=str(source),
        PYTHONPATH=str(REPO),
    )
    env.pop("SPARK_MASTER", None)
    env.update(env_extra or {})
    shopguide = str(Path(sys.executable).parent / "shopguide")
    load_before = _load_average()
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [shopguide, "run", "--date", RUN_DATE],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
    )
    with PeakMemory(proc.pid, home / "reports" / "progress.log") as memory:
        stderr = proc.stderr.read()
        proc.wait()
    total = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"shopguide run failed (exit {proc.returncode}):\n{stderr[-4000:]}")
    from shopguide.settings import load_settings
    from shopguide.warehouse import open_warehouse

    wh = open_warehouse(load_settings(warehouse_url=env["SHOPGUIDE_WAREHOUSE"]))
    row = wh.query_df(
        "SELECT task_durations, row_counts FROM published.pipeline_runs WHERE status = 'success'"
    ).iloc[-1]
    steps = step_logs(stderr)
    return {
        "total_s": total,
        "tasks": json.loads(row["task_durations"]),
        "rows": json.loads(row["row_counts"]),
        "transactions": int(wh.scalar("SELECT count(*) FROM raw.transactions")),
        **steps,
        "peak_gib": memory.peak_kib / 1024 / 1024,
        "peak_by_kind_gib": {k: v / 1024 / 1024 for k, v in memory.peak_by_kind.items()},
        "peak_task": memory.peak_task,
        "load": (load_before, _load_average()),
        "warehouse": env["SHOPGUIDE_WAREHOUSE"],
    }


def _stat(values: list[float], unit: str = "s", digits: int = 1) -> str:
    med = statistics.median(values)
    return f"{med:.{digits}f} {unit} ({min(values):.{digits}f}–{max(values):.{digits}f})"


def cpu_model() -> str:
    """The CPU the runs ran on (/proc/cpuinfo's model name and clock): a figure measured
    on another host of the same size is not comparable one to one."""
    try:
        info = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor() or "unknown"
    fields = {}
    for line in info:
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    mhz = fields.get("cpu MHz")
    return fields.get("model name", "unknown") + (f" at {float(mhz):.0f} MHz" if mhz else "")


def _commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True).stdout

    # "+" marks code that differs from the commit; the files this benchmark writes itself
    # (after each size) do not count, or every size after the first would carry it.
    own = {str(p.relative_to(REPO)) for p in (RAW, RESULTS, CAPACITY)}
    changed = [line[3:] for line in git("status", "--porcelain").splitlines()]
    dirty = [path for path in changed if path not in own]
    return git("rev-parse", "--short", "HEAD").strip() + ("+" if dirty else "")


def compare_published(url_a: str, url_b: str, run_date: str) -> dict[str, dict]:
    """Table by table, the published rows of ``run_date`` in two warehouses, matched on
    the table's key: rows on one side only, rows whose text/integer/date columns differ,
    and the largest absolute difference of a floating-point column."""
    import pandas as pd

    from shopguide.schema import PUBLISHED_KEYS, PUBLISHED_TABLES
    from shopguide.settings import load_settings
    from shopguide.warehouse import open_warehouse

    whs = [open_warehouse(load_settings(warehouse_url=url)) for url in (url_a, url_b)]
    out = {}
    for table, columns in PUBLISHED_TABLES.items():
        if table not in PUBLISHED_KEYS or not all(
            wh.table_exists("published", table) for wh in whs
        ):
            continue
        key = list(PUBLISHED_KEYS[table])
        frames = [
            wh.query_df(
                f"SELECT * FROM published.{table} WHERE run_date = CAST({wh.param} AS DATE)",
                [run_date],
            )
            for wh in whs
        ]
        merged = pd.merge(*frames, on=key, how="outer", suffixes=("_a", "_b"), indicator=True)
        both = merged[merged["_merge"] == "both"]
        floats = [c for c, kind in columns.items() if kind == "DOUBLE PRECISION" and c not in key]
        exact = [c for c in columns if c not in key and c not in floats]
        differ = pd.Series(False, index=both.index)
        columns_differing = {}
        for c in exact:
            a, b = both[f"{c}_a"].astype("string"), both[f"{c}_b"].astype("string")
            unequal = (a.fillna("<NULL>") != b.fillna("<NULL>")).to_numpy()
            if unequal.any():
                columns_differing[c] = int(unequal.sum())
            differ |= unequal
        max_diff = 0.0
        for c in floats:
            a = pd.to_numeric(both[f"{c}_a"], errors="coerce").to_numpy(dtype=float)
            b = pd.to_numeric(both[f"{c}_b"], errors="coerce").to_numpy(dtype=float)
            nan_mismatch = pd.isna(a) != pd.isna(b)
            differ |= nan_mismatch
            gap = abs(a - b)
            gap = gap[~pd.isna(gap)]
            if len(gap):
                max_diff = max(max_diff, float(gap.max()))
        out[table] = {
            "rows": [len(frames[0]), len(frames[1])],
            "one_side_only": int((merged["_merge"] != "both").sum()),
            "differing_rows": int(differ.sum()),
            "differing_columns": columns_differing,
            "max_float_diff": max_diff,
        }
    return out


def bench_size(name: str, runs: int, reruns: bool, cluster: bool) -> dict:
    from shopguide.generate import generate_shop

    customers, articles, days = SIZES[name]
    workdir = Path(tempfile.mkdtemp(prefix=f"shopguide-bench-{name}-"))
    source = workdir / "data"
    generate_shop(
        source, customers=customers, articles=articles, days=days, end_date=RUN_DATE, seed=42
    )
    results, again = [], []
    for i in range(runs):
        for fresh in (True, False) if reruns else (True,):
            result = one_run(source, workdir, fresh)
            print(
                f"{name} run {i + 1}/{runs}{'' if fresh else ' (rerun)'}: "
                f"{result['total_s']:.0f} s, recommend "
                f"{result['tasks'].get('recommend', 0):.1f} s, peak {result['peak_gib']:.2f} GiB",
                flush=True,
            )
            (results if fresh else again).append(result)
    record = {
        "customers": customers,
        "articles": articles,
        "days": days,
        "purchases": results[0]["transactions"],
        "measured": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": _commit(),
        "cpu": cpu_model(),
        "runs": results,
        "reruns": again,
    }
    if cluster:
        # the local figures are kept even if the cluster run fails
        save(name, record)
        try:
            record["cluster"] = cluster_run(source, workdir, results[-1]["warehouse"])
        except Exception as error:  # reported, not hidden: the section says it failed
            record["cluster_error"] = f"{type(error).__name__}: {str(error)[-2000:]}"
            print(f"cluster run failed: {record['cluster_error']}", flush=True)
    shutil.rmtree(workdir, ignore_errors=True)
    return record


def save(name: str, record: dict) -> None:
    raw = load_raw()
    raw[name] = record
    RAW.write_text(json.dumps(raw, indent=1, sort_keys=True) + "\n")


def cluster_run(source: Path, workdir: Path, local_warehouse: str) -> dict:
    """The same shop and date once on a standalone cluster; its published rows against
    the local run's (``local_warehouse``)."""
    from shopguide.standalone import standalone_cluster

    with standalone_cluster(
        workdir / "cluster-logs",
        workers=CLUSTER["workers"],
        cores=CLUSTER["cores"],
        memory=CLUSTER["memory"],
    ) as master:
        result = one_run(
            source,
            workdir,
            fresh=True,
            home_name="home-cluster",
            env_extra={
                "SPARK_MASTER": master,
                "SHOPGUIDE_SPARK_EXECUTOR_MEMORY": CLUSTER["executor_memory"],
            },
        )
    result["compare"] = compare_published(local_warehouse, result["warehouse"], RUN_DATE)
    result["setup"] = CLUSTER
    print(f"cluster run: {result['total_s']:.0f} s; {result['compare']}", flush=True)
    return result


def _median(values) -> float:
    return statistics.median(list(values))


def _stage(size: dict, *tasks: str) -> float:
    """Median over the runs of the summed time of ``tasks``."""
    return _median(sum(r["tasks"].get(t, 0.0) for t in tasks) for r in size["runs"])


def growth(raw: dict) -> dict | None:
    """recommend + forecast at the bigger size over the smaller (GROWTH)."""
    small, big = (raw.get(n) for n in GROWTH)
    if not small or not big:
        return None
    stage_small, stage_big = (
        _stage(small, "recommend", "forecast"),
        _stage(big, "recommend", "forecast"),
    )
    return {
        "small": stage_small,
        "big": stage_big,
        "ratio": stage_big / stage_small,
        "recommend_ratio": _stage(big, "recommend") / _stage(small, "recommend"),
        "forecast_ratio": _stage(big, "forecast") / _stage(small, "forecast"),
        "purchases_ratio": big["purchases"] / small["purchases"],
    }


def _cluster_same(compare: dict) -> bool:
    """The same rows: every key on both sides, every text, integer and date value equal.
    Floating-point values are reported (their largest difference), not judged: Spark sums
    in another order on another layout of partitions."""
    return all(c["one_side_only"] == 0 and c["differing_rows"] == 0 for c in compare.values())


NIGHTS = (
    ("runs", "night that trains the ranker (1 of 7)"),
    ("reruns", "night that reuses the kept ranker (6 of 7)"),
)


def _nights(size: dict) -> list[tuple[str, list[dict]]]:
    """(label, runs) of each kind of night measured at a size: the fresh runs train the
    ranker, the reruns reuse the one the fresh run kept in the lake."""
    return [(label, size[key]) for key, label in NIGHTS if size.get(key)]


def targets(raw: dict) -> list[tuple[str, str, str, str]]:
    """(figure, target, measured, verdict) for what is measured so far."""
    rows = []

    def verdict(ok: bool) -> str:
        return "met" if ok else "**not met**"

    if "demo" in raw:
        demo = raw["demo"]
        for label, runs_ in _nights(demo):
            total = _median(r["total_s"] for r in runs_)
            rec = _median(r["tasks"].get("recommend", 0.0) for r in runs_)
            rows.append(
                (
                    f"demo shop, {label}: whole nightly run; `recommend`",
                    "≤ 90 s; ≤ 45 s",
                    f"{total:.1f} s; {rec:.1f} s",
                    verdict(total <= 90 and rec <= 45),
                )
            )
    if "100k" in raw:
        for label, runs_ in _nights(raw["100k"]):
            total = _median(r["total_s"] for r in runs_)
            peak = _median(r["peak_gib"] for r in runs_)
            rows.append(
                (
                    f"100k shop, {label}: whole nightly run",
                    "≤ 10 min",
                    f"{total / 60:.1f} min",
                    verdict(total <= 600),
                )
            )
            rows.append(
                (
                    f"100k shop, {label}: peak memory, all processes",
                    "≤ 8 GiB",
                    f"{peak:.2f} GiB"
                    + ("; see the 100k notes" if raw["100k"].get("notes") else ""),
                    verdict(peak <= 8),
                )
            )
    g = growth(raw)
    if g:
        rows.append(
            (
                f"growth {GROWTH[0]} → {GROWTH[1]}: `recommend` + `forecast` time ratio",
                "≤ 4.4",
                f"{g['ratio']:.2f} ({g['small']:.0f} s → {g['big']:.0f} s; purchases "
                f"×{g['purchases_ratio']:.2f})",
                verdict(g["ratio"] <= 4.4),
            )
        )
    rows += peer_rows()
    for name, size in raw.items():
        if "cluster_error" in size:
            rows.append(
                (
                    f"{name} shop on a standalone cluster",
                    "same as local mode; time reported",
                    "the run failed: " + size["cluster_error"].splitlines()[0][:200],
                    "**not met**",
                )
            )
        if "cluster" in size:
            c = size["cluster"]
            same = _cluster_same(c["compare"])
            rows.append(
                (
                    f"{name} shop on a standalone cluster ({c['setup']['workers']} workers × "
                    f"{c['setup']['cores']} core): published rows",
                    "same as local mode; time reported",
                    f"{'same' if same else 'differ'} (largest float difference "
                    f"{max(x['max_float_diff'] for x in c['compare'].values()):.2g}); "
                    f"{c['total_s'] / 60:.1f} min",
                    verdict(same),
                )
            )
    return rows


def peer_rows() -> list[tuple[str, str, str, str]]:
    """The ALS fit and top-K rows of the table, from bench_als_peers' raw figures."""
    if not PEERS.exists():
        return []
    from bench_als_peers import TARGET_FIT_RATIO, TARGET_TOPK_RATIO, ratios

    result = json.loads(PEERS.read_text())
    r = ratios(result)
    return [
        (
            "Spark ALS fit against `implicit`'s CPU fit (CG), same matrix, rank, iterations",
            f"≤ {TARGET_FIT_RATIO:g}×",
            f"{r['fit_ratio']:.1f}× ({statistics.median(result['spark_fit_s']):.1f} s against "
            f"{statistics.median(result['implicit_cg_s']):.1f} s; measured {result['measured']})",
            "met" if r["fit_met"] else "**not met**",
        ),
        (
            "blocked top-K against `implicit`'s compiled top-K, customers/s",
            f"≥ {TARGET_TOPK_RATIO:g}×",
            f"{r['topk_ratio']:.2f}× ({statistics.median(r['blocked']):,.0f} against "
            f"{statistics.median(r['compiled']):,.0f})",
            "met" if r["topk_met"] else "**not met**",
        ),
    ]


def size_lines(name: str, size: dict) -> list[str]:
    runs_ = size["runs"]
    tasks = sorted(runs_[0]["tasks"])
    lines = [
        f"### {name} shop: {size['customers']:,} customers, {size['articles']:,} articles, "
        f"{size['purchases']:,} purchases over {size['days']} days",
        "",
        f"Measured {size['measured']} at {size['commit']}"
        + (f" on {size['cpu']}" if size.get("cpu") else "")
        + f"; median of {len(runs_)} run(s).",
        "",
        "| figure | median (min–max) |",
        "|---|---|",
        f"| whole nightly run (process start to exit) | {_stat([r['total_s'] for r in runs_])} |",
    ]
    for task in tasks:
        lines.append(f"| task `{task}` | {_stat([r['tasks'].get(task, 0.0) for r in runs_])} |")
    lines.append(
        f"| peak memory, all processes | {_stat([r['peak_gib'] for r in runs_], 'GiB', 2)} |"
    )
    again = size.get("reruns") or []
    if again:
        lines += [
            "| rerun of the date on the same warehouse (the ranker the first run kept "
            f"in the lake is reused): whole run | {_stat([r['total_s'] for r in again])} |",
            "| rerun: task `recommend` | "
            f"{_stat([r['tasks'].get('recommend', 0.0) for r in again])} |",
            "| rerun: task `forecast` | "
            f"{_stat([r['tasks'].get('forecast', 0.0) for r in again])} |",
            "| rerun: peak memory, all processes | "
            f"{_stat([r['peak_gib'] for r in again], 'GiB', 2)} |",
        ]
    loads = ", ".join(f"{a:.1f}→{b:.1f}" for a, b in (r["load"] for r in runs_ + again))
    lines += [
        f"| load average (before→after each run{', reruns after' if again else ''}) | {loads} |",
        "",
    ]
    lines += peak_lines(runs_ + again)
    for stage in STEP_KEYS:
        lines += step_table(stage, name, runs_)
    # Notes written into pipeline_runs.json after a measurement: what a figure does not
    # show by itself (e.g. a sampling artifact found afterwards), never a number.
    for note in size.get("notes", []):
        lines += [f"Note: {note}", ""]
    rows = runs_[-1]["rows"]
    lines += ["Published rows: " + ", ".join(f"{k} {v:,}" for k, v in rows.items()), ""]
    if "cluster" in size:
        c = size["cluster"]
        lines += [
            f"On a standalone cluster (master and {c['setup']['workers']} workers of "
            f"{c['setup']['cores']} core and {c['setup']['memory']} each on this machine, "
            f"executors of {c['setup']['executor_memory']}, every Spark job through "
            f"spark-submit), one run: whole run {c['total_s']:.1f} s, `recommend` "
            f"{c['tasks'].get('recommend', 0):.1f} s, `forecast` {c['tasks'].get('forecast', 0):.1f} s. "
            "Its published rows against the last local run's, matched on each table's key:",
            "",
            "| table | rows local / cluster | on one side only | rows differing | largest float difference |",
            "|---|---|---:|---:|---:|",
        ]
        for table, cmp in c["compare"].items():
            lines.append(
                f"| {table} | {cmp['rows'][0]:,} / {cmp['rows'][1]:,} | {cmp['one_side_only']} | "
                f"{cmp['differing_rows']}"
                + "".join(f", {c} {n}" for c, n in cmp.get("differing_columns", {}).items())
                + f" | {cmp['max_float_diff']:.3g} |"
            )
        lines.append("")
    return lines


def peak_lines(runs_: list[dict]) -> list[str]:
    """Which processes held the memory at each run's largest sample."""
    kinds = sorted({k for r in runs_ for k in r.get("peak_by_kind_gib", {})})
    if not kinds:
        return []
    lines = [
        "At each run's largest memory sample, by process (GiB; the runs, then the reruns):",
        "",
        "| process | " + " | ".join(f"run {i + 1}" for i in range(len(runs_))) + " |",
        "|---|" + "---:|" * len(runs_),
    ]
    for kind in kinds:
        values = [r.get("peak_by_kind_gib", {}).get(kind) for r in runs_]
        lines.append(
            f"| {kind} | " + " | ".join("–" if v is None else f"{v:.2f}" for v in values) + " |"
        )
    if any(r.get("peak_task") for r in runs_):
        lines.append(
            "| task running then | "
            + " | ".join(f"`{r['peak_task']}`" if r.get("peak_task") else "–" for r in runs_)
            + " |"
        )
    return lines + [""]


def provenance(raw: dict, names: list[str]) -> str:
    """Whether the sizes ``names`` were measured at one commit on one kind of host: one
    sentence, so a table that mixes commits or hosts says so where it is read."""
    sizes = [raw[n] for n in names if n in raw]
    commits = {s.get("commit", "?") for s in sizes}
    cpus = {s.get("cpu") or "a host it did not record" for s in sizes}
    if len(commits) == 1 and len(cpus) == 1:
        first = min(s["measured"] for s in sizes)
        last = max(s["measured"] for s in sizes)
        when = first if first == last else f"{first} to {last}"
        return (
            f"Every size here was measured at commit {commits.pop()} on {cpus.pop()} "
            f"({when}), so the sizes compare on one footing."
        )
    each = "; ".join(
        f"{n} at {raw[n].get('commit', '?')} on {raw[n].get('cpu') or 'a host it did not record'}"
        f" ({raw[n]['measured']})"
        for n in names
        if n in raw
    )
    return (
        f"The sizes were measured at different commits or on different hosts ({each}): "
        "figures that compare sizes carry that difference too."
    )


def section(raw: dict) -> str:
    measured = [n for n in SIZES if n in raw]
    lines = [
        "## Nightly pipeline: wall time and memory (issue 20)",
        "",
        "`python benchmarks/bench_pipeline.py` (`--sizes` to measure some sizes only; each",
        f"size's date and commit below; {platform.machine()}, {os.cpu_count()} cores): each run a fresh",
        "`shopguide run --date 2024-06-30` process on an empty DuckDB warehouse, Spark local[*],",
        "every task on (hybrid recommender with its nightly holdout, forecast backtest).",
        "The fresh run trains the ranker and keeps it in the lake, as one night a week does;",
        "where a size lists reruns, each fresh run was followed by a rerun of the date on",
        "the warehouse it left, which reuses that ranker as the other six nights do.",
        "Medians, (min–max) in brackets; the 1-minute load average before and after each run",
        "is listed so a shared machine shows. Raw figures: `benchmarks/pipeline_runs.json`.",
        provenance(raw, measured),
        "",
        "| figure | target | measured | |",
        "|---|---|---|---|",
    ]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in targets(raw)]
    lines += [
        "",
        "The ALS fit and top-K rows come from `benchmarks/als_peers_runs.json`, written by",
        "`bench_als_peers.py` (its own section below has the details)."
        if PEERS.exists()
        else "The ALS fit and top-K rows join this table once `bench_als_peers.py` has written "
        "`benchmarks/als_peers_runs.json`; until then its own section below has the figures "
        "of its last run.",
        "",
    ]
    for name in SIZES:
        if name in raw:
            lines += size_lines(name, raw[name])
    return "\n".join(lines)


# H&M's full size (the Kaggle dataset): what the capacity plan projects to.
FULL = {"customers": 1_371_980, "articles": 105_542, "purchases": 31_788_324}
ASSUMED_EFFICIENCY = 0.6  # share of added cores that turns into speed (not measured here)
NIGHT_HOURS = 2.0


def capacity(raw: dict) -> str | None:
    """The capacity plan's figures, projected from the measured sizes' curve."""
    import math

    sizes = [(n, raw[n]) for n in SIZES if n in raw and n != "large"]
    if len(sizes) < 2:
        return None
    (n1, s1), (n2, s2) = sorted(sizes, key=lambda x: x[1]["purchases"])[-2:]
    lines = [
        "Computed by `benchmarks/bench_pipeline.py` from the sizes measured in",
        "`benchmarks/pipeline_runs.json` (medians of the whole nightly run on this 2-core",
        "machine, Spark local[*]; the fresh runs, which train the ranker: the week's most",
        "expensive night).",
        provenance(raw, [n for n, _ in sizes]),
        "",
        "| shop | customers | articles | purchases | whole run | `recommend` | `forecast` | peak memory |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, s in sorted(sizes, key=lambda x: x[1]["purchases"]):
        lines.append(
            f"| {name} | {s['customers']:,} | {s['articles']:,} | {s['purchases']:,} | "
            f"{_median(r['total_s'] for r in s['runs']):.0f} s | {_stage(s, 'recommend'):.0f} s | "
            f"{_stage(s, 'forecast'):.0f} s | {_median(r['peak_gib'] for r in s['runs']):.2f} GiB |"
        )
    scale = FULL["purchases"] / s2["purchases"]
    lines += [
        "",
        f"Exponents fitted between the two largest ({n1} → {n2}, purchases "
        f"×{s2['purchases'] / s1['purchases']:.2f}): time ∝ purchases^b. Projected to H&M's "
        f"full size ({FULL['customers']:,} customers, {FULL['articles']:,} articles, "
        f"{FULL['purchases']:,} purchases: ×{scale:.1f} the {n2} shop's purchases):",
        "",
        "| stage | b | projected on 2 cores | core-hours | cores for a "
        f"{NIGHT_HOURS:.0f}-hour night at {ASSUMED_EFFICIENCY:.0%} efficiency |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, tasks in (
        ("recommend", ("recommend",)),
        ("forecast", ("forecast",)),
        ("whole run", None),
    ):
        if tasks:
            t1, t2 = _stage(s1, *tasks), _stage(s2, *tasks)
        else:
            t1 = _median(r["total_s"] for r in s1["runs"])
            t2 = _median(r["total_s"] for r in s2["runs"])
        b = math.log(t2 / t1) / math.log(s2["purchases"] / s1["purchases"])
        for exponent, note in ((b, ""), (max(b, 1.0), " (at least linear)")):
            if note and b >= 1.0:
                continue
            seconds = t2 * scale**exponent
            core_hours = seconds * 2 / 3600
            cores = math.ceil(core_hours / (NIGHT_HOURS * ASSUMED_EFFICIENCY))
            lines.append(
                f"| {label}{note} | {exponent:.2f} | {seconds / 3600:.1f} h | {core_hours:.0f} | {cores} |"
            )
    peak1 = _median(r["peak_gib"] for r in s1["runs"])
    peak2 = _median(r["peak_gib"] for r in s2["runs"])
    bm = math.log(peak2 / peak1) / math.log(s2["purchases"] / s1["purchases"])
    lines += [
        "",
        f"Peak memory (all processes, one machine) grew with exponent {bm:.2f}: "
        f"{peak1:.2f} → {peak2:.2f} GiB; projected {peak2 * scale**bm:.0f} GiB in total at "
        "full size, to be spread over the executors (see the settings below).",
    ]
    return "\n".join(lines)


def load_raw() -> dict:
    return json.loads(RAW.read_text()) if RAW.exists() else {}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per size (default 3)")
    parser.add_argument(
        "--sizes",
        default="demo,25k,100k",
        help=f"comma-separated, of {', '.join(SIZES)} (default demo,25k,100k)",
    )
    parser.add_argument(
        "--cluster",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also run the largest size once on a standalone cluster (default on)",
    )
    parser.add_argument(
        "--reruns",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="after each fresh run, rerun the date on its warehouse: a night that reuses "
        "the ranker kept in the lake (default on)",
    )
    parser.add_argument(
        "--report-only", action="store_true", help="rewrite the sections from pipeline_runs.json"
    )
    args = parser.parse_args(argv)
    if args.runs < 1:
        raise SystemExit("--runs must be at least 1")
    names = [n for n in args.sizes.split(",") if n]
    unknown = [n for n in names if n not in SIZES]
    if unknown:
        raise SystemExit(f"unknown size(s) {unknown}; choose from {list(SIZES)}")
    if not args.report_only:
        largest = max(names, key=lambda n: SIZES[n][0])
        for name in names:
            save(
                name,
                bench_size(
                    name,
                    args.runs,
                    reruns=args.reruns,
                    cluster=args.cluster and name == largest,
                ),
            )
    raw = load_raw()
    text = section(raw)
    print(text)
    write_section("pipeline", text)
    plan = capacity(raw)
    if plan:
        write_section("capacity-figures", plan, CAPACITY)
    return 0


if __name__ == "__main__":
    sys.exit(main())
