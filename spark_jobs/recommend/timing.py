"""How long each recommender step took: :func:`timed` and the run's STEP_LOG."""

from __future__ import annotations

from spark_jobs.timing import StepLog

_LOG = StepLog("recommend")
# Log how long a recommender step took (stderr, picked up by the task log; also appended
# to STEP_LOG for an in-process caller such as the benchmark).
timed = _LOG.timed
# (step, seconds) of the timed steps, in order, since the last recommend run began.
STEP_LOG: list[tuple[str, float]] = _LOG.steps
