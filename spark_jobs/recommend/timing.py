"""How long each recommender step took: :func:`timed` and the run's STEP_LOG."""

from __future__ import annotations

import contextlib
import sys
import time


def _describe_jobs(step: str | None) -> None:
    """Name the Spark jobs the step starts (``spark.job.description``), so the Spark UI
    and the history server's event logs show which step each job belongs to."""
    from pyspark import SparkContext

    context = SparkContext._active_spark_context
    if context is not None:
        context.setLocalProperty("spark.job.description", step)


@contextlib.contextmanager
def timed(step: str):
    """Log how long a recommender step took (stderr, picked up by the task log; also
    appended to STEP_LOG for an in-process caller such as the benchmark)."""
    started = time.perf_counter()
    _STEPS.append(step)
    _describe_jobs(step)
    try:
        yield
    finally:
        seconds = round(time.perf_counter() - started, 1)
        STEP_LOG.append((step, seconds))
        _STEPS.pop()
        _describe_jobs(_STEPS[-1] if _STEPS else None)
        print(f"[recommend] {step}: {seconds:.1f} s", file=sys.stderr, flush=True)


# (step, seconds) of the timed steps, in order, since the last recommend run began.
STEP_LOG: list[tuple[str, float]] = []
# The steps running now, outermost first (steps nest: the holdout times its lists).
_STEPS: list[str] = []
