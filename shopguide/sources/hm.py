"""H&M Personalized Fashion Recommendations export (and the synthetic shop, same shape).

A directory with:

- ``articles*`` (required): the Kaggle ``articles.csv`` columns; ``article_id``,
  ``prod_name``, ``product_type_name``, ``product_group_name`` required, the other
  H&M columns (``product_code``, ``*_no``/``*_code``/``*_id`` and names,
  ``detail_desc``) kept when present.
- ``transactions*`` (required): ``t_dat, customer_id, article_id, price,
  sales_channel_id``; one row per unit sold, so ``quantity`` = 1 (a ``quantity``
  column, when present, is used instead).
- ``customers*`` (optional): ``customer_id, FN, Active, club_member_status,
  fashion_news_frequency, age, postal_code`` (``FN``/``Active`` become
  ``fn``/``active``).

Each may be CSV (optionally gzipped) or Parquet; several files of one entity (e.g.
one transactions file per week) are read in name order and stacked.

Mapping: ``article_id`` is zero-padded to 10 characters (the transactions file of
the Kaggle data holds 9-digit numbers); ``t_dat`` is an ISO date. Customers who
bought but are missing from the customers file (or when there is none) are added
with unknown attributes: no ``fashion_news_frequency`` means opted out.
"""

from __future__ import annotations

from pathlib import Path

from shopguide.sources.canonical import (
    canonical_articles,
    canonical_customers,
    canonical_transactions,
    derive_missing_customers,
    empty_customers,
)
from shopguide.sources.data import SourceData
from shopguide.sources.errors import SourceError
from shopguide.sources.files import (
    concat_frames,
    find_entity_files,
    read_table,
    require_columns,
    require_directory,
)

FIX = {
    "articles": (
        "export the catalogue with the H&M Kaggle columns article_id, prod_name, "
        "product_type_name, product_group_name (and the other articles.csv columns)"
    ),
    "transactions": (
        "export it with the H&M Kaggle columns t_dat, customer_id, article_id, price, sales_channel_id"
    ),
    "customers": (
        "export it with the H&M Kaggle columns customer_id, FN, Active, club_member_status, "
        "fashion_news_frequency, age, postal_code (or leave the customers file out)"
    ),
}
DIRECTORY_FIX = (
    "point SHOPGUIDE_SOURCE_PATH (or --source-path) at a directory holding articles*, "
    "transactions* and optionally customers* files (CSV or Parquet); "
    "`shopguide generate --out DIR` writes such a directory"
)


def read_hm(path: str | Path) -> SourceData:
    """Read an H&M-shaped directory (the ``hm`` and ``generated`` sources)."""
    directory = require_directory(path, "H&M source", DIRECTORY_FIX)
    files: dict[str, str] = {}
    notes: list[str] = []

    articles_raw, files["articles"] = _read_entity(directory, "articles", required=True)
    transactions_raw, files["transactions"] = _read_entity(directory, "transactions", required=True)
    customers_raw, customers_file = _read_entity(directory, "customers", required=False)

    articles = canonical_articles(articles_raw)
    transactions = canonical_transactions(transactions_raw)
    if customers_raw is None:
        customers = empty_customers()
    else:
        files["customers"] = customers_file
        customers = canonical_customers(customers_raw)

    customers, derived = derive_missing_customers(customers, transactions)
    if derived:
        where = "no customers file" if customers_raw is None else "not in the customers file"
        notes.append(
            f"{derived} customers derived from the transactions ({where}): attributes unknown, opted out"
        )
    return SourceData(
        customers=customers, articles=articles, transactions=transactions, files=files, notes=notes
    )


def _read_entity(directory: Path, entity: str, *, required: bool):
    paths = find_entity_files(
        directory, entity, required=required, fix=FIX[entity] + "; " + DIRECTORY_FIX
    )
    if not paths:
        return None, ""
    frames = []
    for path in paths:
        df = read_table(path, entity, fix=FIX[entity])
        df.columns = [_canonical_name(c) for c in df.columns]
        require_columns(df, entity, path, FIX[entity])
        frames.append(df)
    return concat_frames(frames), ", ".join(str(p) for p in paths)


def _canonical_name(column: str) -> str:
    # H&M spells two customer columns in capitals (FN, Active); the rest are lower-case.
    return column.strip().lower()


__all__ = ["read_hm", "SourceError"]
