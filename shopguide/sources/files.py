"""Reading a source's files: CSV (optionally gzipped) or Parquet, every CSV value as text.

File-level problems (missing, empty, unreadable, wrong delimiter, missing required column)
raise :class:`SourceError` naming the file, what is wrong and how to fix it.
"""

from __future__ import annotations

import gzip
import warnings
import zlib
from pathlib import Path

import pandas as pd

from shopguide.schema import REQUIRED_COLUMNS
from shopguide.sources.errors import SourceError

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
