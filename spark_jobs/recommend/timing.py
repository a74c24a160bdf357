"""How long each recommender step took: :func:`timed` and the run's STEP_LOG."""

from __future__ import annotations

import contextlib
import sys
import time

_DESCRIPTION = "spark.job.description"


def _describe_jobs(step: str | None) -> str | None:
    """Name the Spark jobs this thread starts from now on (``spark.job.description``), so
    the Spark UI and the history server's event logs show which step each job belongs
    to; returns the name it replaces."""
    from pyspark import SparkContext

    context = SparkContext._active_spark_context
    if context is None:
        return None
    previous = context.getLocalProperty(_DESCRIPTION)
    context.setLocalProperty(_DESCRIPTION, step)
    return previous


@contextlib.contextmanager
def timed(step: str):
    """Log how long a recommender step took (stderr, picked up by the task log; also
    appended to STEP_LOG for an in-process caller such as the benchmark)."""
    started = time.perf_counter()
    enclosing = _describe_jobs(step)
    try:
        yield
    finally:
        seconds = round(time.perf_counter() - started, 1)
        STEP_LOG.append((step, seconds))
        _describe_jobs(enclosing)
        print(f"[recommend] {step}: {seconds:.1f} s", file=sys.stderr, flush=True)


# (step, seconds) of the timed steps, in order, since the last recommend run began.
STEP_LOG: list[tuple[str, float]] = []
