"""MovieLens 100k (GroupLens) as a shop source: ratings as purchases, movies as articles.

Input: the ``ml-100k`` folder (or a folder holding it) with

- ``u.data``: ``user id, item id, rating, unix timestamp``, tab-separated,
- ``u.item``: ``movie id | title | release date | video release date | IMDb URL |``
  19 genre flags (``unknown``, ``Action``, ... ``Western``), Latin-1,
- ``u.user``: ``user id | age | gender | occupation | zip code``,
- ``u.genre`` (optional): the genre names in flag order (the built-in list otherwise).

Mapping to the raw shape:

- transactions, one per rating whatever its value: ``t_dat`` = the rating's day
  (UTC), ``customer_id`` = user id, ``article_id`` = item id (as text, not padded),
  ``price`` = 1.0, ``quantity`` = 1, ``sales_channel_id`` = 1.
- articles: ``prod_name`` = title, ``product_type_name`` = ``product_group_name`` =
  the first genre flagged (``unknown`` when none), ``detail_desc`` =
  "Genres: Action, Comedy", ``department_name`` = the release decade ("1990s",
  null when the date is unknown), ``graphical_appearance_name`` = the
  second genre (null for single-genre movies), ``index_name`` /
  ``index_group_name`` = "Movies", ``product_code`` = the item id.
- customers: ``age``, ``postal_code`` = zip code, ``club_member_status`` = ACTIVE,
  ``fashion_news_frequency`` null (never opted in to marketing). Gender and
  occupation have no raw column and are not kept.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from shopguide.sources.canonical import (
    canonical_articles,
    canonical_customers,
    canonical_transactions,
)
from shopguide.sources.coerce import to_float, to_int, to_text
from shopguide.sources.data import SourceData
from shopguide.sources.errors import SourceError
from shopguide.sources.files import read_table, require_directory

GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary",
    "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller",
    "War", "Western",
)  # fmt: skip
ITEM_FIELDS = ["movie_id", "title", "release_date", "video_release_date", "imdb_url"]
DIRECTORY_FIX = (
    "point SHOPGUIDE_SOURCE_PATH (or --source-path) at the unpacked ml-100k folder "
    "(https://grouplens.org/datasets/movielens/100k/) holding u.data, u.item and u.user"
)
FILE_FIX = {
    "u.data": "it must be the ml-100k u.data: user id, item id, rating, timestamp separated by tabs",
    "u.item": "it must be the ml-100k u.item: movie id|title|release date|video release date|IMDb URL|19 genre flags",
    "u.user": "it must be the ml-100k u.user: user id|age|gender|occupation|zip code",
}


def read_movielens(path: str | Path) -> SourceData:
    """Read the MovieLens 100k folder at ``path``."""
    directory = require_directory(path, "MovieLens", DIRECTORY_FIX)
    if not (directory / "u.data").exists() and (directory / "ml-100k" / "u.data").exists():
        directory = directory / "ml-100k"
    for name in ("u.data", "u.item", "u.user"):
        if not (directory / name).exists():
            raise SourceError(f"MovieLens file {directory / name} does not exist; {DIRECTORY_FIX}")

    genres = _genres(directory / "u.genre")
    ratings = read_table(
        directory / "u.data", "transactions", fix=FILE_FIX["u.data"], sep="\t",
        names=["user_id", "item_id", "rating", "timestamp"], expected_fields=4,
    )  # fmt: skip
    items = read_table(
        directory / "u.item", "articles", fix=FILE_FIX["u.item"], sep="|", encoding="latin-1",
        names=ITEM_FIELDS + list(genres), expected_fields=len(ITEM_FIELDS) + len(genres),
    )  # fmt: skip
    users = read_table(
        directory / "u.user", "customers", fix=FILE_FIX["u.user"], sep="|",
        names=["user_id", "age", "gender", "occupation", "zip_code"], expected_fields=5,
    )  # fmt: skip

    return SourceData(
        customers=_customers(users),
        articles=_articles(items, genres),
        transactions=_transactions(ratings),
        files={
            "transactions": str(directory / "u.data"),
            "articles": str(directory / "u.item"),
            "customers": str(directory / "u.user"),
        },
    )


def _genres(path: Path) -> tuple[str, ...]:
    if not path.exists():
        return GENRES
    table = read_table(
        path,
        "articles",
        fix="u.genre lists genre|index per line",
        sep="|",
        names=["genre", "index"],
    )
    table = table.dropna(subset=["genre"])
    order = to_int(table["index"])
    if order.isna().any() or sorted(order) != list(range(len(table))):
        raise SourceError(
            f"articles file {path} must list each genre as name|index with indexes 0..n-1; "
            "use the u.genre of ml-100k or delete it to use the built-in genres"
        )
    return tuple(table.assign(order=order).sort_values("order")["genre"].str.strip())


def _transactions(ratings: pd.DataFrame) -> pd.DataFrame:
    seconds = to_float(ratings["timestamp"])
    # Epoch seconds -> day in UTC; out-of-range or unparsable timestamps become NaT.
    valid = seconds.notna() & seconds.between(0, 2**33)
    stamps = pd.Series(pd.NaT, index=ratings.index, dtype="datetime64[ns]")
    stamps[valid] = pd.to_datetime(seconds[valid].astype("int64"), unit="s")
    frame = pd.DataFrame(
        {
            "t_dat": stamps,
            "customer_id": ratings["user_id"],
            "article_id": ratings["item_id"],
            "price": 1.0,
            "sales_channel_id": 1,
            "quantity": 1,
        },
        index=ratings.index,
    )
    return canonical_transactions(frame, pad_ids=False)


def _articles(items: pd.DataFrame, genres: tuple[str, ...]) -> pd.DataFrame:
    flags = np.column_stack(
        [to_int(items[g]).fillna(0).to_numpy(dtype="int64") == 1 for g in genres]
    )
    names = np.array(genres, dtype=object)
    # "unknown" only counts when no real genre is flagged.
    real = flags.copy()
    real[:, 0] = False
    listed = [list(names[row]) for row in real]
    listed = [lst if lst else ["unknown"] for lst in listed]

    released = pd.to_datetime(to_text(items["release_date"]), format="%d-%b-%Y", errors="coerce")
    year = released.dt.year
    # Unknown release date: the title's "(1995)" still tells the decade.
    title_year = to_text(items["title"]).str.extract(r"\((\d{4})\)\s*$", expand=False)
    year = year.fillna(pd.to_numeric(title_year, errors="coerce"))
    decade = year.map(lambda y: None if pd.isna(y) else f"{int(y) // 10 * 10}s")

    frame = pd.DataFrame(
        {
            "article_id": items["movie_id"],
            "product_code": items["movie_id"],
            "prod_name": items["title"],
            "product_type_name": [g[0] for g in listed],
            "product_group_name": [g[0] for g in listed],
            "graphical_appearance_name": [g[1] if len(g) > 1 else None for g in listed],
            "department_name": decade,
            "index_name": "Movies",
            "index_group_name": "Movies",
            "detail_desc": ["Genres: " + ", ".join(g) for g in listed],
        },
        index=items.index,
    )
    return canonical_articles(frame, pad_ids=False)


def _customers(users: pd.DataFrame) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "customer_id": users["user_id"],
            "age": users["age"],
            "postal_code": users["zip_code"],
            "club_member_status": "ACTIVE",
        },
        index=users.index,
    )
    return canonical_customers(frame)
