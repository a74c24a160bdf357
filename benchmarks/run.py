"""`make bench`: every benchmark, one after another, into benchmarks/results.md.

Each benchmark script prints its table and rewrites its own section of
benchmarks/results.md (see results_file.py); this driver runs them in turn.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# bench_als_peers before bench_pipeline: the pipeline section's table of targets quotes
# the ALS and top-K figures it writes.
SCRIPTS = ("bench_als_peers.py", "bench_pipeline.py", "bench_recs.py", "bench_forecast.py")


def main(argv: list[str]) -> int:
    only = set(argv)
    failed = []
    for script in SCRIPTS:
        if only and script.removeprefix("bench_").removesuffix(".py") not in only:
            continue
        print(f"\n=== {script}", flush=True)
        t0 = time.time()
        proc = subprocess.run([sys.executable, str(HERE / script)], cwd=HERE.parent)
        print(f"=== {script}: exit {proc.returncode} in {time.time() - t0:.0f} s", flush=True)
        if proc.returncode:
            failed.append(script)
    print("\nbenchmarks/results.md updated")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
