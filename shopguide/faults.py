"""Fault injection points (failpoints) for the reliability tests.

The implementation lives in :mod:`spark_jobs.faults` because the Spark jobs stop at
failpoints too and ``spark_jobs`` never imports ``shopguide`` (the import rule in
``pyproject.toml``); the orchestrator uses the same points through this name.
"""

from spark_jobs.faults import ENV, MARKER, POINTS, WAIT_SECONDS, failpoint

__all__ = ["ENV", "MARKER", "POINTS", "WAIT_SECONDS", "failpoint"]
