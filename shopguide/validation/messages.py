"""Failure messages: one line per failed expectation, with its arguments, how many rows
failed and example values (with the keys of the rows they came from)."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

import pandas as pd

# Example values shown per failed expectation in the error message.
EXAMPLES = 5


def describe_failure(r) -> str:
    """One line: expectation(arguments) failed: how many rows, which values."""
    config = r.expectation_config
    head = f"{config.type}({_describe_kwargs(config.kwargs)}) failed"
    error = _exception_message(r.exception_info)
    if error is not None:
        return f"{head}: could not be evaluated: {error}"
    res = r.result or {}
    if config.type == "expect_column_to_exist":
        return (
            f"{head}: the column is missing (a source, ingest or dbt model dropped or renamed it)"
        )
    if res.get("unexpected_count") is not None:
        unexpected = res["unexpected_count"]
        total = res.get("element_count") or 0
        pct = res.get("unexpected_percent_total")
        if pct is None:
            pct = 100.0 * unexpected / total if total else 0.0
        line = f"{head}: {unexpected} of {total} rows ({pct:.2f}%)"
        examples = res.get("partial_unexpected_list") or []
        rows = res.get("partial_unexpected_index_list") or []
        keys = res.get("unexpected_index_column_names") or []
        shown = []
        for i, value in enumerate(examples[:EXAMPLES]):
            text = _show(value)
            # A compound value (dict) already names its row; others get the row's keys.
            if i < len(rows) and isinstance(rows[i], dict) and keys and not isinstance(value, dict):
                text += " [" + ", ".join(f"{k}={_show(rows[i].get(k))}" for k in keys) + "]"
            shown.append(text)
        if shown:
            line += ", e.g. " + ", ".join(shown)
        return line
    if "observed_value" in res:
        return f"{head}: observed {_show(res['observed_value'])}"
    return f"{head}: {res or 'no details'}"


def _exception_message(info: Any) -> str | None:
    """The first error GX caught while computing the expectation's metrics, if any."""
    if not isinstance(info, dict):
        return None
    # GX reports either one {raised_exception, exception_message} or one per metric.
    candidates = [info] + [v for v in info.values() if isinstance(v, dict)]
    for item in candidates:
        if item.get("raised_exception"):
            lines = str(item.get("exception_message") or "").strip().splitlines()
            return lines[0] if lines else "unknown error"
    return None


def _describe_kwargs(kwargs: dict) -> str:
    parts: list[str] = []
    for key in ("column", "column_A", "column_B"):
        if kwargs.get(key) is not None:
            parts.append(str(kwargs[key]))
    if kwargs.get("column_list"):
        parts.extend(str(c) for c in kwargs["column_list"])
    if kwargs.get("min_value") is not None:
        parts.append(
            f"min {_show(kwargs['min_value'])}" + (", strict" if kwargs.get("strict_min") else "")
        )
    if kwargs.get("max_value") is not None:
        parts.append(
            f"max {_show(kwargs['max_value'])}" + (", strict" if kwargs.get("strict_max") else "")
        )
    if kwargs.get("or_equal"):
        parts.append("or equal")
    if kwargs.get("value_set") is not None:
        values = list(kwargs["value_set"])
        shown = ", ".join(_show(v) for v in values[:8]) + (", …" if len(values) > 8 else "")
        parts.append("{" + shown + "}")
    return ", ".join(parts)


def _show(value: Any) -> str:
    if isinstance(value, dict) and "$PARAMETER" in value:
        return str(value["$PARAMETER"])
    if hasattr(value, "item") and not isinstance(value, (list, tuple, dict, str)):
        try:
            value = value.item()  # numpy scalar -> Python
        except (ValueError, AttributeError):
            pass
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "NULL"
    if isinstance(value, (datetime, pd.Timestamp)):
        return (
            value.date().isoformat()
            if value == datetime.combine(value.date(), datetime.min.time())
            else value.isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(_show(v) for v in value) + ")"
    if isinstance(value, dict):
        return "(" + ", ".join(f"{k}={_show(v)}" for k, v in value.items()) + ")"
    return str(value) if not isinstance(value, str) else repr(value)
