"""Type coercion of source columns: unparsable values become null, nothing raises."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from shopguide.sources.files import NULL_TEXTS


def _map_unique(values: pd.Series, fn: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """Apply ``fn`` to the distinct values only: ids and dates repeat a lot in transactions."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    mapped = fn(pd.Series(uniques)).to_numpy(dtype=object)
    out = np.empty(len(codes), dtype=object)
    present = codes >= 0
    out[present] = mapped[codes[present]]
    out[~present] = None
    return pd.Series(out, index=values.index, name=values.name)


def _text_value(v) -> str | None:
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float | np.floating):
        if np.isnan(v):
            return None
        # Whole numbers read as floats (ids in Parquet/Excel exports) must not gain ".0".
        return str(int(v)) if float(v).is_integer() else str(v)
    if isinstance(v, int | np.integer):
        return str(int(v))
    text = str(v).strip()
    return None if text in NULL_TEXTS else text


def _to_text(values: pd.Series) -> pd.Series:
    """Distinct values -> stripped text, None for missing/blank."""
    if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        # All text (the common case): vectorized.
        text = values.astype(object).str.strip()
        keep = text.notna() & ~text.isin(NULL_TEXTS)
        return text.where(keep, None).astype(object)
    return pd.Series([_text_value(v) for v in values], index=values.index, dtype=object)


def to_text(values: pd.Series) -> pd.Series:
    """Text column: stripped strings, ``None`` when missing or blank."""
    return _map_unique(values, _to_text)


def _drop_float_zeros(text: pd.Series) -> pd.Series:
    # "17850.0" (an id that went through a float column in some export) -> "17850".
    dotted = text.str.contains(".", regex=False).eq(True)
    if not dotted.any():
        return text
    text = text.copy()
    text[dotted] = text[dotted].str.replace(r"^(\d+)\.0+$", r"\1", regex=True)
    return text


def to_id(values: pd.Series) -> pd.Series:
    """An identifier as text; numbers written as floats ("17850.0") lose the ".0"."""
    return _map_unique(values, lambda u: _drop_float_zeros(_to_text(u)))


def to_article_id(values: pd.Series, *, pad: bool = True) -> pd.Series:
    """H&M article ids: digits zero-padded to 10 characters (9-digit ints in transactions)."""

    def fn(u: pd.Series) -> pd.Series:
        text = _drop_float_zeros(_to_text(u))
        if not pad:
            return text
        short_number = text.str.fullmatch(r"\d{1,9}").eq(True)
        return text.where(~short_number, text.str.zfill(10))

    return _map_unique(values, fn)


def to_float(values: pd.Series) -> pd.Series:
    """Numbers as float64; text that is not a number becomes NaN."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.astype("float64")
    # Parse the distinct values only: prices and quantities repeat a lot.
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    text = pd.Series(uniques, dtype=object).map(lambda v: v.strip() if isinstance(v, str) else v)
    parsed = pd.to_numeric(text, errors="coerce").to_numpy(dtype="float64")
    out = np.full(len(codes), np.nan)
    present = codes >= 0
    out[present] = parsed[codes[present]]
    return pd.Series(out, index=values.index, name=values.name)


def to_int(values: pd.Series) -> pd.Series:
    """Whole numbers as nullable Int64; fractions and text become <NA>."""
    numbers = to_float(values)
    whole = numbers.where(
        np.isfinite(numbers) & (numbers == numbers.round()) & (numbers.abs() < 2**62)
    )
    return whole.round().astype("Int64")


def _parse_days(u: pd.Series, formats: tuple[str, ...]) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(u):
        parsed = u
    else:
        text = _to_text(u)
        parsed = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
        for fmt in formats:
            todo = parsed.isna() & text.notna()
            if not todo.any():
                break
            parsed[todo] = pd.to_datetime(text[todo], format=fmt, errors="coerce")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    return parsed.astype("datetime64[ns]").dt.normalize()


def to_day(values: pd.Series, formats: tuple[str, ...] = ("ISO8601",)) -> pd.Series:
    """A purchase day: ``datetime64[ns]`` at midnight; unparsable values become NaT.

    Text is tried against ``formats`` in order (ISO 8601 by default, as the H&M
    export writes it); dates before 1677 or after 2262 also become NaT.
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        return _parse_days(values, formats)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    parsed = _parse_days(pd.Series(uniques), formats).to_numpy()
    out = np.full(len(codes), np.datetime64("NaT"), dtype="datetime64[ns]")
    present = codes >= 0
    out[present] = parsed[codes[present]]
    return pd.Series(out, index=values.index, name=values.name)
