"""Moved to :mod:`spark_jobs.recommend.asof`. Kept only for ``spark_jobs/forecast/backtest.py``
(another change in progress), which still imports ``articles_as_of`` from here; remove
this module once it imports ``spark_jobs.recommend.asof``."""

from spark_jobs.recommend.asof import articles_as_of  # noqa: F401
