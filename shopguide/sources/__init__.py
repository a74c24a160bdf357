"""Source adapters: read a shop's export files into the canonical raw shape.

``read_source(name, path)`` returns a :class:`SourceData` whose frames have the
columns of :mod:`shopguide.schema` (``CUSTOMER_COLUMNS``, ``ARTICLE_COLUMNS`` plus
extra H&M article columns, ``TRANSACTION_COLUMNS``), without ``_run_date``:

- strings are ``object`` columns with ``None`` for missing values,
- ``t_dat`` is ``datetime64[ns]`` at midnight (the day of the purchase),
- ``price``, ``fn``, ``active``, ``age`` are ``float64``; ``sales_channel_id``,
  ``quantity`` and ``product_code`` are nullable ``Int64``.

Adapters only coerce types: a value that cannot be parsed becomes null, and rows
with null keys, bad dates, negative prices, duplicates or unknown articles are kept
for the ingest step to quarantine with a reason. The only rows an adapter drops are
the ones its source's documented cleaning removes (e.g. Online Retail
cancellations); it counts them in ``SourceData.dropped``.

File-level problems (missing file, empty or unreadable file, wrong delimiter,
missing required column) raise :class:`SourceError`, whose message names the file,
what is wrong and how to fix it.

Each frame's index is the 0-based position of the row among the data rows of the
file(s) it came from (several files of one entity are read in name order), so the
ingest step can point at the offending line in its quarantine records.
"""

from __future__ import annotations

import gzip
import warnings
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from shopguide.schema import (
    ARTICLE_COLUMNS,
    CUSTOMER_COLUMNS,
    REQUIRED_COLUMNS,
    TRANSACTION_COLUMNS,
)

__all__ = [
    "SourceData",
    "SourceError",
    "read_source",
    "SOURCE_NAMES",
]

SOURCE_NAMES = ("generated", "hm", "online-retail", "movielens")


class SourceError(Exception):
    """A source file cannot be used as a whole (the message says which file and the fix)."""


@dataclass
class SourceData:
    """One read of a source: customers, articles and transactions in the raw shape."""

    customers: pd.DataFrame
    articles: pd.DataFrame
    transactions: pd.DataFrame
    # entity -> file(s) read (several files of one entity joined with ", ").
    files: dict[str, str] = field(default_factory=dict)
    # Rows removed by the source's documented cleaning: reason -> row count.
    dropped: dict[str, int] = field(default_factory=dict)
    # Facts worth logging (e.g. customers derived from transactions).
    notes: list[str] = field(default_factory=list)

    def filter_transactions(self, mask: pd.Series | np.ndarray) -> SourceData:
        """The same source with only the transactions where ``mask`` is true.

        Customers and articles are the catalogue and customer base as exported and are
        kept whole: their files carry no date to cut them by.
        """
        return replace(self, transactions=self.transactions.loc[np.asarray(mask, dtype=bool)])

    def until(self, day) -> SourceData:
        """Transactions up to and including ``day`` (a run date: nothing after it is known yet)."""
        return self.filter_transactions(self.transactions["t_dat"] <= pd.Timestamp(day))

    def between(self, first_day, last_day) -> SourceData:
        """Transactions with ``first_day <= t_dat <= last_day``."""
        t = self.transactions["t_dat"]
        return self.filter_transactions(
            (t >= pd.Timestamp(first_day)) & (t <= pd.Timestamp(last_day))
        )

    def days(self) -> list[pd.Timestamp]:
        """The distinct purchase days present (nulls left out), ascending."""
        return sorted(self.transactions["t_dat"].dropna().unique())

    def summary(self) -> dict[str, int]:
        return {
            "customers": len(self.customers),
            "articles": len(self.articles),
            "transactions": len(self.transactions),
        }


def read_source(name: str, path: str | Path) -> SourceData:
    """Read the source ``name`` (generated, hm, online-retail, movielens) from ``path``."""
    if name in ("generated", "hm"):
        from shopguide.sources.hm import read_hm

        return read_hm(path)
    if name == "online-retail":
        from shopguide.sources.online_retail import read_online_retail

        return read_online_retail(path)
    if name == "movielens":
        from shopguide.sources.movielens import read_movielens

        return read_movielens(path)
    raise SourceError(
        f"unknown source {name!r} (path {path}); choose one of {', '.join(SOURCE_NAMES)} "
        "(SHOPGUIDE_SOURCE or --source)"
    )


# ---------------------------------------------------------------------------
# Reading files
# ---------------------------------------------------------------------------

CSV_SUFFIXES = (".csv", ".csv.gz", ".txt", ".txt.gz")
PARQUET_SUFFIXES = (".parquet", ".pq")
SUPPORTED_SUFFIXES = CSV_SUFFIXES + PARQUET_SUFFIXES


def file_kind(path: Path) -> str | None:
    """'csv', 'parquet' or None for an unsupported file name."""
    name = path.name.lower()
    if name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    if name.endswith(CSV_SUFFIXES):
        return "csv"
    return None


def require_directory(path: str | Path, what: str, fix: str) -> Path:
    directory = Path(path)
    if not directory.exists():
        raise SourceError(f"{what} directory {directory} does not exist; {fix}")
    if not directory.is_dir():
        raise SourceError(f"{what} path {directory} is a file, not a directory; {fix}")
    return directory


def find_entity_files(directory: Path, entity: str, *, required: bool, fix: str) -> list[Path]:
    """Files named ``<entity>*`` with a supported suffix, in name order."""
    candidates = sorted(
        p
        for p in directory.iterdir()
        if p.is_file() and p.name.lower().startswith(entity) and not p.name.startswith(".")
    )
    supported = [p for p in candidates if file_kind(p)]
    if supported:
        return supported
    if candidates:
        raise SourceError(
            f"{entity} file(s) {', '.join(str(p) for p in candidates)} have an unsupported format; "
            f"save them as CSV (.csv, .csv.gz) or Parquet (.parquet)"
        )
    if required:
        raise SourceError(
            f"no {entity} file in {directory} (looked for {entity}*.csv, {entity}*.csv.gz, {entity}*.parquet); {fix}"
        )
    return []


def read_table(
    path: Path,
    entity: str,
    *,
    fix: str,
    sep: str = ",",
    encoding: str = "utf-8",
    names: list[str] | None = None,
    expected_fields: int | None = None,
) -> pd.DataFrame:
    """Read one CSV or Parquet file with every CSV value as text (types are coerced later).

    ``names`` reads a header-less file with those column names; ``expected_fields``
    then checks that the delimiter split the lines into that many fields.
    """
    path = Path(path)
    if not path.exists():
        raise SourceError(f"{entity} file {path} does not exist; {fix}")
    if path.is_dir():
        raise SourceError(f"{entity} path {path} is a directory, not a file; {fix}")
    if path.stat().st_size == 0:
        raise SourceError(f"{entity} file {path} is empty (0 bytes); export it again: {fix}")
    kind = file_kind(path) or "csv"
    if kind == "parquet":
        df = _read_parquet(path, entity)
    else:
        df = _read_csv(path, entity, sep=sep, encoding=encoding, names=names)
    if df.empty:
        raise SourceError(
            f"{entity} file {path} has no data rows{' (only a header)' if names is None else ''}; "
            f"export it again: {fix}"
        )
    if kind == "csv" and names is not None and expected_fields is not None:
        _check_field_count(df, path, entity, sep, names, expected_fields, fix)
    df.columns = [str(c).strip().lstrip("\ufeff") for c in df.columns]
    return df


def _read_parquet(path: Path, entity: str) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise SourceError(
            f"{entity} file {path} is not a readable Parquet file ({_first_line(exc)}); "
            "write it again with pandas/pyarrow, or save it as CSV"
        ) from exc
    # Dates as datetime64 (not Python date objects): the coercion below is then vectorized.
    return table.to_pandas(date_as_object=False)


# Spellings of "no value" in CSV exports. Not "None" or "NA": H&M's
# fashion_news_frequency uses "None" as a value, "NA" is a country code.
NULL_TEXTS = frozenset({"", "nan", "NaN", "NULL", "null", "N/A", "#N/A", "<NA>", "\\N"})


def _read_csv(
    path: Path, entity: str, *, sep: str, encoding: str, names: list[str] | None
) -> pd.DataFrame:
    try:
        with warnings.catch_warnings():
            # A first data line longer than the header would silently lose fields.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            return pd.read_csv(
                path,
                sep=sep,
                dtype=str,
                encoding=encoding,
                header=None if names is not None else "infer",
                names=names,
                # Never turn surplus leading fields into the index (misaligned columns).
                index_col=False,
                keep_default_na=False,
                na_values=sorted(NULL_TEXTS),
                skipinitialspace=False,
                compression="infer",
                low_memory=False,
            )
    except pd.errors.ParserWarning as exc:
        raise SourceError(
            f"{entity} file {path} is malformed CSV: a line has more fields than the header "
            f"({_first_line(exc)}); check the delimiter and quoting"
        ) from exc
    except pd.errors.EmptyDataError as exc:
        raise SourceError(
            f"{entity} file {path} is empty (no header line); export it again with a header row"
        ) from exc
    except pd.errors.ParserError as exc:
        raise SourceError(
            f"{entity} file {path} is malformed CSV ({_first_line(exc)}); check the quoting and that "
            f"every line has the same number of {_sep_name(sep)}-separated fields"
        ) from exc
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"{entity} file {path} is not {encoding} text ({exc.reason} at byte {exc.start}); "
            f"save it as {encoding}"
        ) from exc
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise SourceError(
            f"{entity} file {path} is not a complete gzip file ({_first_line(exc)}); "
            "copy it again, or save it uncompressed as .csv"
        ) from exc


def _check_field_count(df, path, entity, sep, names, expected, fix) -> None:
    # Header-less files: a wrong delimiter leaves everything in the first column.
    if len(df.columns) >= expected and df[names[1]].notna().any():
        return
    raise SourceError(
        f"{entity} file {path} does not have {expected} {_sep_name(sep)}-separated fields per line "
        f"(first line: {str(df.iat[0, 0])[:80]!r}); {fix}"
    )


def _sep_name(sep: str) -> str:
    return {",": "comma", "\t": "tab", "|": "pipe", ";": "semicolon"}.get(sep, repr(sep))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]


def require_columns(
    df: pd.DataFrame,
    entity: str,
    path: Path | str,
    fix: str,
    required: tuple[str, ...] | None = None,
) -> None:
    """Raise SourceError when a column of ``required`` (default ``REQUIRED_COLUMNS[entity]``) is missing."""
    required = REQUIRED_COLUMNS[entity] if required is None else required
    missing = [c for c in required if c not in df.columns]
    if not missing:
        return
    found = list(df.columns)
    if len(found) == 1:
        for other in (";", "\t", "|"):
            if other in found[0]:
                raise SourceError(
                    f"{entity} file {path} looks {_sep_name(other)}-separated (one column "
                    f"{found[0][:80]!r}); save it comma-separated: {fix}"
                )
    names = ", ".join(repr(c) for c in missing)
    shown = ", ".join(found[:15]) + (", ..." if len(found) > 15 else "")
    raise SourceError(
        f"{entity} file {path} lacks column{'s' if len(missing) > 1 else ''} {names} (found: {shown}); {fix}"
    )


def concat_frames(frames: list[pd.DataFrame]) -> pd.DataFrame:
    if len(frames) == 1:
        return frames[0].reset_index(drop=True)
    return pd.concat(frames, ignore_index=True, sort=False)


# ---------------------------------------------------------------------------
# Type coercion: unparsable values become null, nothing raises
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# Canonical frames
# ---------------------------------------------------------------------------

# H&M article columns besides the canonical ones, with their types: kept when present.
HM_EXTRA_ARTICLE_INT_COLUMNS = (
    "product_type_no",
    "graphical_appearance_no",
    "colour_group_code",
    "perceived_colour_value_id",
    "perceived_colour_master_id",
    "department_no",
    "index_group_no",
    "section_no",
    "garment_group_no",
)
HM_EXTRA_ARTICLE_TEXT_COLUMNS = ("perceived_colour_value_name", "index_code")


def canonical_customers(df: pd.DataFrame) -> pd.DataFrame:
    """Customers frame with exactly ``CUSTOMER_COLUMNS`` (missing columns become null)."""
    out = pd.DataFrame(index=df.index)
    out["customer_id"] = to_id(df["customer_id"]) if "customer_id" in df else None
    for col in ("fn", "active", "age"):
        out[col] = to_float(df[col]) if col in df else np.nan
    for col in ("club_member_status", "fashion_news_frequency", "postal_code"):
        out[col] = to_text(df[col]) if col in df else None
    return out[list(CUSTOMER_COLUMNS)]


def canonical_articles(df: pd.DataFrame, *, pad_ids: bool = True) -> pd.DataFrame:
    """Articles frame: ``ARTICLE_COLUMNS`` first, then any extra (H&M) columns."""
    out = pd.DataFrame(index=df.index)
    for col in ARTICLE_COLUMNS:
        if col == "article_id":
            out[col] = to_article_id(df[col], pad=pad_ids)
        elif col == "product_code":
            out[col] = to_int(df[col]) if col in df else pd.array([pd.NA] * len(df), dtype="Int64")
        else:
            out[col] = to_text(df[col]) if col in df else None
    for col in df.columns:
        if col in out.columns:
            continue
        if col in HM_EXTRA_ARTICLE_INT_COLUMNS:
            out[col] = to_int(df[col])
        elif col in HM_EXTRA_ARTICLE_TEXT_COLUMNS:
            out[col] = to_text(df[col])
        else:
            out[col] = df[col]
    return out


def canonical_transactions(
    df: pd.DataFrame, *, pad_ids: bool = True, date_formats=("ISO8601",)
) -> pd.DataFrame:
    """Transactions frame with exactly ``TRANSACTION_COLUMNS``; quantity defaults to 1."""
    out = pd.DataFrame(index=df.index)
    out["t_dat"] = to_day(df["t_dat"], date_formats)
    out["customer_id"] = to_id(df["customer_id"])
    out["article_id"] = to_article_id(df["article_id"], pad=pad_ids)
    out["price"] = to_float(df["price"])
    if "sales_channel_id" in df:
        out["sales_channel_id"] = to_int(df["sales_channel_id"])
    else:
        out["sales_channel_id"] = pd.array([pd.NA] * len(df), dtype="Int64")
    if "quantity" in df:
        out["quantity"] = to_int(df["quantity"])
    else:
        out["quantity"] = pd.array(np.ones(len(df), dtype="int64"), dtype="Int64")
    return out[list(TRANSACTION_COLUMNS)]


def derive_missing_customers(
    customers: pd.DataFrame, transactions: pd.DataFrame
) -> tuple[pd.DataFrame, int]:
    """Append customers who bought but are not in the customers file, attributes unknown.

    Unknown ``fashion_news_frequency``/``club_member_status`` means opted out of
    marketing. Returns the frame and how many customers were derived.
    """
    buyers = pd.Index(transactions["customer_id"].dropna().unique())
    new_ids = buyers.difference(pd.Index(customers["customer_id"].dropna().unique()))
    if len(new_ids) == 0:
        return customers, 0
    derived = pd.DataFrame({"customer_id": pd.Series(np.asarray(new_ids, dtype=object))})
    derived = canonical_customers(derived)
    start = (customers.index.max() + 1) if len(customers) else 0
    derived.index = pd.RangeIndex(start, start + len(derived))
    if customers.empty:
        return derived, len(derived)
    return pd.concat([customers, derived]), len(derived)


def empty_customers() -> pd.DataFrame:
    return canonical_customers(pd.DataFrame({"customer_id": pd.Series([], dtype=object)}))
