"""The run date: the day whose data a run processes, a :class:`datetime.date` inside shopguide.

It is parsed once where it comes in (the command line, the DAG's param and context in
``orchestration``, callers of ``run.run_task``, values read back from the warehouse) and
written as YYYY-MM-DD text only where text is needed: lake paths, Spark job arguments,
dbt vars, file names, JSON. Standard library only: the DAG files import it.
"""

from __future__ import annotations

from datetime import date, datetime


def as_run_date(value: date | str) -> date:
    """``value`` as a run date: a date as it is, text in ISO form (YYYY-MM-DD).

    Raises ValueError for text that is not a date and TypeError for anything else
    (a ``datetime`` too: its time of day would be lost without a word)."""
    if isinstance(value, datetime):
        raise TypeError(f"a run date is a day, not a time: {value!r}")
    if isinstance(value, date):
        return date(value.year, value.month, value.day)  # a plain date (not pendulum's)
    return date.fromisoformat(value)


def stored_run_date(value) -> date:
    """A run date read back from the warehouse: a date, a datetime or pandas Timestamp
    (at midnight), or its text, depending on the engine and driver."""
    return date.fromisoformat(str(value)[:10])
