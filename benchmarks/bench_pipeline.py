"""The nightly run's wall time per task and its peak memory, medians of several runs.

Each run is what a scheduler starts every night: a fresh `shopguide run --date D`
process (its own Spark JVM, dbt, Great Expectations) on an empty DuckDB warehouse,
with every task on (hybrid recommender, its nightly holdout, the forecast backtest).
Each fresh run is followed by a rerun of the date on the warehouse it left, which
reuses the ranker the first run kept in the lake, as the nights of the following week
do. The shop is generated once per size; the runs of one size read the same files.
Peak memory is the largest resident set of the whole process tree (CLI, Spark JVM,
Python workers), sampled every 0.5 s. The recommender's step log (`[recommend] ...`
lines) says where the recommend task's time goes.

    python benchmarks/bench_pipeline.py [--runs 3] [--sizes demo,large]
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
from results_file import write_section  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SIZES = {  # name: (customers, articles, days); demo = `make demo`'s shop
    "demo": (4000, 1500, 365),
    "large": (20000, 5000, 365),
    "100k": (100000, 20000, 180),
}
RUN_DATE = "2024-06-30"
STEP_LINE = re.compile(r"^\[recommend\] (?P<step>.+): (?P<seconds>[0-9.]+) s$")


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


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


class PeakMemory:
    """Samples the summed RSS of process ``pid`` and its descendants every 0.5 s."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kib = max(self.peak_kib, sum(_rss_kib(p) for p in _tree(self.pid)))
            time.sleep(0.5)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def _load_average() -> float:
    return os.getloadavg()[0]


def one_run(source: Path, workdir: Path, fresh: bool = True) -> dict:
    """A `shopguide run` process, on an empty warehouse (``fresh``) or again on the one the
    previous run left (a rerun: the ranker it kept in the lake is reused); its task
    times, steps, memory."""
    home = workdir / "home"
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
    with PeakMemory(proc.pid) as memory:
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
    steps = [
        (m["step"], float(m["seconds"]))
        for m in (STEP_LINE.match(line.strip()) for line in stderr.splitlines())
        if m
    ]
    return {
        "total_s": total,
        "tasks": json.loads(row["task_durations"]),
        "rows": json.loads(row["row_counts"]),
        "transactions": int(wh.scalar("SELECT count(*) FROM raw.transactions")),
        "steps": steps,
        "peak_gib": memory.peak_kib / 1024 / 1024,
        "load": (load_before, _load_average()),
    }


def _stat(values: list[float], unit: str = "s", digits: int = 1) -> str:
    med = statistics.median(values)
    return f"{med:.{digits}f} {unit} ({min(values):.{digits}f}–{max(values):.{digits}f})"


def bench_size(name: str, runs: int) -> dict:
    from shopguide.generate import generate_shop

    customers, articles, days = SIZES[name]
    workdir = Path(tempfile.mkdtemp(prefix=f"shopguide-bench-{name}-"))
    source = workdir / "data"
    generate_shop(
        source, customers=customers, articles=articles, days=days, end_date=RUN_DATE, seed=42
    )
    results, reruns = [], []
    for i in range(runs):
        for fresh, into in ((True, results), (False, reruns)):
            result = one_run(source, workdir, fresh)
            print(
                f"{name} run {i + 1}/{runs}{'' if fresh else ' (rerun)'}: "
                f"{result['total_s']:.0f} s, recommend "
                f"{result['tasks'].get('recommend', 0):.1f} s, peak {result['peak_gib']:.2f} GiB",
                flush=True,
            )
            into.append(result)
    shutil.rmtree(workdir, ignore_errors=True)
    return {
        "name": name,
        "customers": customers,
        "articles": articles,
        "runs": results,
        "reruns": reruns,
    }


def section(sizes: list[dict], runs: int, command: str) -> str:
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "## Nightly pipeline: wall time and memory",
        "",
        f"`{command}` on {when}, {platform.machine()}, {os.cpu_count()} cores: each run a fresh",
        "`shopguide run --date 2024-06-30` process on an empty DuckDB warehouse, Spark local[*],",
        "every task on (hybrid recommender with its nightly holdout, forecast backtest).",
        f"Median of {runs} runs, (min–max) in brackets; the 1-minute load average before and after",
        "each run is listed so a shared machine shows.",
        "",
    ]
    for size in sizes:
        runs_ = size["runs"]
        tasks = list(runs_[0]["tasks"])
        lines += [
            f"### {size['name']} shop: {size['customers']:,} customers, {size['articles']:,} "
            f"articles, {runs_[0]['transactions']:,} purchases",
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
            ]
        loads = ", ".join(f"{a:.1f}→{b:.1f}" for a, b in (r["load"] for r in runs_))
        lines += [f"| load average (before→after each run) | {loads} |", ""]
        steps = [s for s, _ in runs_[0]["steps"]]
        if steps and all([s for s, _ in r["steps"]] == steps for r in runs_):
            lines += [
                f"Where `recommend` goes ({size['name']} shop, its step log, median of the runs):",
                "",
                "| step | seconds |",
                "|---|---:|",
            ]
            for i, step in enumerate(steps):
                lines.append(
                    f"| {step} | {statistics.median(r['steps'][i][1] for r in runs_):.1f} |"
                )
            lines.append("")
        rows = runs_[-1]["rows"]
        lines += ["Published rows: " + ", ".join(f"{k} {v:,}" for k, v in rows.items()), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per size (default 3)")
    parser.add_argument(
        "--sizes", default="demo", help=f"comma-separated, of {', '.join(SIZES)} (default demo)"
    )
    args = parser.parse_args(argv)
    if args.runs < 1:
        raise SystemExit("--runs must be at least 1")
    names = [n for n in args.sizes.split(",") if n]
    unknown = [n for n in names if n not in SIZES]
    if unknown:
        raise SystemExit(f"unknown size(s) {unknown}; choose from {list(SIZES)}")
    sizes = [bench_size(name, args.runs) for name in names]
    command = (
        "python benchmarks/bench_pipeline.py"
        + (f" --runs {args.runs}" if args.runs != 3 else "")
        + (f" --sizes {args.sizes}" if args.sizes != "demo" else "")
    )
    text = section(sizes, args.runs, command)
    print(text)
    write_section("pipeline", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
