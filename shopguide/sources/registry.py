"""The sources a shop's data can come from: the one list, and ``read_source``.

Importing this module is light (no pandas): ``shopguide.settings`` and the command line
take the names from here. An adapter module is imported when its source is first read.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

from shopguide.sources.errors import SourceError


@dataclass(frozen=True)
class Source:
    name: str  # SHOPGUIDE_SOURCE, --source
    adapter: str  # module with the reader
    reader: str  # reader(path) -> SourceData
    sales: bool  # purchases with units and prices, so demand can be forecast (not ratings)


SOURCES = (
    # The synthetic shop (shopguide generate) writes the H&M files.
    Source("generated", "shopguide.sources.hm", "read_hm", sales=True),
    Source("hm", "shopguide.sources.hm", "read_hm", sales=True),
    Source("online-retail", "shopguide.sources.online_retail", "read_online_retail", sales=True),
    Source("movielens", "shopguide.sources.movielens", "read_movielens", sales=False),
)
SOURCE_NAMES = tuple(source.name for source in SOURCES)
# The sources `shopguide evaluate forecast` can use.
SALES_SOURCE_NAMES = tuple(source.name for source in SOURCES if source.sales)


def read_source(name: str, path: str | Path):
    """Read the source ``name`` (generated, hm, online-retail, movielens) from ``path``;
    returns a :class:`~shopguide.sources.SourceData`."""
    for source in SOURCES:
        if source.name == name:
            return getattr(importlib.import_module(source.adapter), source.reader)(path)
    raise SourceError(
        f"unknown source {name!r} (path {path}); choose one of {', '.join(SOURCE_NAMES)} "
        "(SHOPGUIDE_SOURCE or --source)"
    )
