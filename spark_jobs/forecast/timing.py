"""How long each forecast step took: :func:`timed` and the run's STEP_LOG (the job
clears it when it starts)."""

from __future__ import annotations

from spark_jobs.timing import StepLog

_LOG = StepLog("forecast")
timed = _LOG.timed
STEP_LOG: list[tuple[str, float]] = _LOG.steps
