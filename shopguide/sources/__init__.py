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

Modules: ``registry`` (the one list of sources, ``read_source``), one adapter per source
(``hm``, ``online_retail``, ``movielens``), and what the adapters share: ``files``
(reading CSV and Parquet), ``coerce`` (types), ``canonical`` (the frames), ``data``
(:class:`SourceData`) and ``errors`` (:class:`SourceError`).
"""

from __future__ import annotations

import importlib

from shopguide.sources.errors import SourceError
from shopguide.sources.registry import SALES_SOURCE_NAMES, SOURCE_NAMES, read_source

__all__ = [
    "SALES_SOURCE_NAMES",
    "SOURCE_NAMES",
    "SourceData",
    "SourceError",
    "read_source",
]

# The rest of the package's public names import pandas: loaded on first use, so that
# importing the registry (settings, the command line) stays light.
_LAZY = {
    "SourceData": "data",
    **dict.fromkeys(
        (
            "CSV_SUFFIXES",
            "PARQUET_SUFFIXES",
            "SUPPORTED_SUFFIXES",
            "NULL_TEXTS",
            "file_kind",
            "require_directory",
            "find_entity_files",
            "read_table",
            "require_columns",
            "concat_frames",
        ),
        "files",
    ),
    **dict.fromkeys(
        ("to_text", "to_id", "to_article_id", "to_float", "to_int", "to_day"), "coerce"
    ),
    **dict.fromkeys(
        (
            "HM_EXTRA_ARTICLE_INT_COLUMNS",
            "HM_EXTRA_ARTICLE_TEXT_COLUMNS",
            "canonical_customers",
            "canonical_articles",
            "canonical_transactions",
            "derive_missing_customers",
            "empty_customers",
        ),
        "canonical",
    ),
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
