"""How long each step of a Spark job took: :class:`StepLog` (its ``timed`` context and
the run's list of steps). The recommend and forecast jobs keep one each
(:mod:`spark_jobs.recommend.timing`, :mod:`spark_jobs.forecast.timing`)."""

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


class StepLog:
    """One job's step log: ``timed(step)`` prints ``[<stage>] <step>: <seconds> s`` to
    stderr (picked up by the task log and by benchmarks/bench_pipeline.py) and appends
    ``(step, seconds)`` to ``steps`` for an in-process caller such as a benchmark."""

    def __init__(self, stage: str) -> None:
        self.stage = stage
        self.steps: list[tuple[str, float]] = []

    @contextlib.contextmanager
    def timed(self, step: str):
        started = time.perf_counter()
        enclosing = _describe_jobs(step)
        try:
            yield
        finally:
            seconds = round(time.perf_counter() - started, 1)
            self.steps.append((step, seconds))
            _describe_jobs(enclosing)
            print(f"[{self.stage}] {step}: {seconds:.1f} s", file=sys.stderr, flush=True)
