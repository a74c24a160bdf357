"""The nightly pipeline's stage times and peak memory on generated data.

Runs `shopguide.pipeline.run_pipeline` (the DAG's task functions) on the demo-size
shop and on a larger one, and records each task's wall time and the peak resident
memory of the process tree (Python + the Spark JVM).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results_file import write_section  # noqa: E402

SIZES = {  # name: (customers, articles, days)
    "demo": (4000, 1500, 365),
    "large": (20000, 5000, 365),
}
RUN_DATE = "2024-06-30"


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
    """Samples the RSS of this process and its children (the Spark JVM) every 0.5 s."""

    def __init__(self) -> None:
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kib = max(self.peak_kib, sum(_rss_kib(p) for p in _tree(os.getpid())))
            time.sleep(0.5)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def bench(name: str, customers: int, articles: int, days: int) -> dict:
    from shopguide.generate import generate_shop
    from shopguide.pipeline import run_pipeline
    from shopguide.settings import load_settings
    from shopguide.spark import stop_local_session
    from shopguide.warehouse import open_warehouse

    home = Path(tempfile.mkdtemp(prefix=f"shopguide-bench-{name}-"))
    settings = load_settings().with_(
        home=home,
        warehouse_url=f"duckdb://{home / 'warehouse.duckdb'}",
        lake=str(home / "lake"),
        reports_dir=home / "reports",
        source="generated",
        source_path=str(home / "data"),
    )
    generate_shop(
        settings.source_path,
        customers=customers,
        articles=articles,
        days=days,
        end_date=RUN_DATE,
        seed=42,
    )
    with PeakMemory() as memory:
        t0 = time.perf_counter()
        run_pipeline(settings, RUN_DATE)
        total = time.perf_counter() - t0
    stop_local_session()
    wh = open_warehouse(settings)
    runs = wh.query_df(
        "SELECT task_durations, row_counts FROM published.pipeline_runs WHERE status = 'success'"
    )
    transactions = wh.scalar("SELECT count(*) FROM raw.transactions")
    return {
        "name": name,
        "customers": customers,
        "articles": articles,
        "transactions": int(transactions),
        "total_s": total,
        "tasks": json.loads(runs["task_durations"].iloc[-1]),
        "rows": json.loads(runs["row_counts"].iloc[-1]),
        "peak_gib": memory.peak_kib / 1024 / 1024,
    }


def main() -> int:
    results = [bench(name, *size) for name, size in SIZES.items()]
    tasks = list(results[0]["tasks"])
    lines = [
        "## Nightly pipeline (issue 2)",
        "",
        "`python benchmarks/run.py pipeline`: `run_pipeline` (the DAG's tasks) on generated shops, DuckDB, Spark local[*].",
        "",
        "| shop | customers | articles | transactions | "
        + " | ".join(tasks)
        + " | total | peak RSS |",
        "|---|" + "---:|" * (len(tasks) + 5),
    ]
    for r in results:
        cells = " | ".join(f"{r['tasks'].get(t, 0):.1f} s" for t in tasks)
        lines.append(
            f"| {r['name']} | {r['customers']:,} | {r['articles']:,} | {r['transactions']:,} | {cells} | "
            f"{r['total_s']:.0f} s | {r['peak_gib']:.1f} GiB |"
        )
    lines += [
        "",
        "Published rows: "
        + "; ".join(
            f"{r['name']}: " + ", ".join(f"{k} {v:,}" for k, v in r["rows"].items())
            for r in results
        ),
    ]
    text = "\n".join(lines)
    print(text)
    write_section("pipeline", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
