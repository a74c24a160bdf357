"""The catalogue of bad input: each kind, fed to the real ingest, must end the documented way.

- ``stop``: a file-level problem. The run stops with one message that names the file
  and says how to fix it, and nothing is loaded (the warehouse keeps the previous load).
- ``quarantine``: a row-level problem. The row goes to ``raw.quarantine`` with its file,
  1-based row number, reason and run date; every other row loads (rows lost = 0).
- ``repair``: the row is kept with the bad value made explicit (unknown), as documented.

The catalogue is the documentation: docs/RELIABILITY.md lists the same kinds.
"""

from __future__ import annotations

import gzip
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from harness import LEDGER, pipeline_env, shopguide

from shopguide.ingest import IngestError, ingest
from shopguide.sources import SourceError
from shopguide.validation import validate_raw
from shopguide.warehouse import open_warehouse
from support import make_settings

RUN_DATE = "2024-03-30"
RUN_DAY = date.fromisoformat(RUN_DATE)
TX, ART, CUS = "transactions", "articles", "customers"


# -- editing a shop directory ----------------------------------------------------------
def frame(shop: Path, entity: str) -> pd.DataFrame:
    return pd.read_parquet(shop / f"{entity}.parquet")


def _wrong_type(shop):
    # A price column exported as text, one value not a number at all.
    df = frame(shop, TX)
    df["price"] = df["price"].map(str)
    df.loc[3, "price"] = "twelve"
    save(shop, TX, df)
    return 4


def save(shop: Path, entity: str, df: pd.DataFrame, kind: str = "parquet", **csv) -> Path:
    for old in shop.glob(f"{entity}*"):
        old.unlink()
    path = shop / f"{entity}.{kind}"
    if kind == "parquet":
        df.to_parquet(path, index=False)
    else:
        df.to_csv(path, index=False, **csv)
    return path


def as_csv(shop: Path, entity: str) -> Path:
    return save(shop, entity, frame(shop, entity), "csv")


def set_value(shop: Path, entity: str, row: int, **values) -> int:
    """Set columns of one data row (0-based); returns its 1-based row number."""
    df = frame(shop, entity)
    for column, value in values.items():
        if column in df and df[column].dtype == object and isinstance(value, int | float):
            value = str(value)  # a text column (as exported) gets the value as text
        elif column in df and df[column].dtype != object and not isinstance(value, int | float):
            df[column] = df[column].astype(object)
        df.loc[row, column] = value
    save(shop, entity, df)
    return row + 1


def append(shop: Path, entity: str, rows: list[dict]) -> list[int]:
    df = frame(shop, entity)
    if entity == TX and "quantity" not in df and any("quantity" in r for r in rows):
        df["quantity"] = 1  # the export gains a quantity column: one unit per row so far
    extra = pd.DataFrame(rows)
    save(shop, entity, pd.concat([df, extra], ignore_index=True))
    return list(range(len(df) + 1, len(df) + len(rows) + 1))


def a_sale(shop: Path, **values) -> dict:
    sale = frame(shop, TX).iloc[0].to_dict()
    sale["t_dat"] = RUN_DATE  # the export writes ISO date strings
    sale.update(values)
    return sale


# -- the catalogue ---------------------------------------------------------------------
@dataclass(frozen=True)
class Kind:
    name: str
    level: str  # stop | quarantine | repair
    corrupt: Callable[[Path], object]
    expect: str  # a phrase of the stop message, the quarantine reason, or the repair note
    entity: str = TX


def _missing_file(shop):
    (shop / "transactions.parquet").unlink()


def _empty_file(shop):
    save(shop, TX, frame(shop, TX).iloc[:0], "csv")
    (shop / "transactions.csv").write_text("")


def _header_only(shop):
    save(shop, TX, frame(shop, TX).iloc[:0], "csv")


def _malformed_line(shop):
    path = as_csv(shop, TX)
    lines = path.read_text().splitlines()
    lines.insert(5, '2024-03-30,"abc,0108775015,12.5,2,7,9,oops')  # unbalanced quote, extra fields
    path.write_text("\n".join(lines) + "\n")


def _truncated_line(shop):
    path = as_csv(shop, TX)
    text = path.read_text().rstrip("\n")
    last = text.rsplit("\n", 1)[1]
    # The export was cut mid-line: date and customer are there, the rest is lost.
    path.write_text(text[: len(text) - len(last)] + f"{RUN_DATE},{last.split(',')[1]}\n")
    return len(text.splitlines()) - 1


def _truncated_gzip(shop):
    path = as_csv(shop, TX)
    data = gzip.compress(path.read_bytes())
    path.unlink()
    (shop / "transactions.csv.gz").write_bytes(data[: len(data) // 2])


def _wrong_delimiter(shop):
    save(shop, TX, frame(shop, TX), "csv", sep=";")


def _wrong_encoding(shop):
    df = frame(shop, ART)
    df.loc[0, "detail_desc"] = "Robe en coton légère, façon Hérault"
    save(shop, ART, df, "csv", encoding="latin-1")


def _missing_column(shop):
    save(shop, TX, frame(shop, TX).drop(columns=["price"]))


def _renamed_column(shop):
    save(shop, TX, frame(shop, TX).rename(columns={"article_id": "sku"}))


def _extra_column(shop):
    save(shop, TX, frame(shop, TX).assign(coupon_code="SPRING24"))


def _drifted_types_and_order(shop):
    # Columns reordered; ids exported through a float column ("108775015.0"), prices as text.
    df = frame(shop, TX)
    df = df.assign(
        article_id=df["article_id"].astype(float).map(lambda v: f"{v:.1f}"),
        price=df["price"].map(lambda v: f"{v:.4f}"),
    )
    save(shop, TX, df[list(reversed(df.columns))], "csv")


CATALOGUE = [
    Kind("missing file", "stop", _missing_file, "no transactions file"),
    Kind("empty file (0 bytes)", "stop", _empty_file, "is empty"),
    Kind("header only, no rows", "stop", _header_only, "has no data rows"),
    Kind("malformed CSV line (quote, extra fields)", "stop", _malformed_line, "malformed CSV"),
    Kind("truncated gzip file", "stop", _truncated_gzip, "not a complete gzip file"),
    Kind("wrong delimiter (;)", "stop", _wrong_delimiter, "looks semicolon-separated"),
    Kind("wrong encoding (latin-1)", "stop", _wrong_encoding, "is not utf-8 text", ART),
    Kind("missing column", "stop", _missing_column, "lacks column 'price'"),
    Kind("schema drift: column renamed", "stop", _renamed_column, "lacks column 'article_id'"),
    Kind("truncated last line", "quarantine", _truncated_line, "article_id is missing"),
    Kind(
        "wrong type (price is text)", "quarantine", _wrong_type, "price is missing or not a number"
    ),
    Kind(
        "duplicate primary key (article)",
        "quarantine",
        lambda s: append(s, ART, [frame(s, ART).iloc[4].to_dict()])[0],
        "duplicate article_id",
        ART,
    ),
    Kind(
        "null key (customer)",
        "quarantine",
        lambda s: set_value(s, CUS, 7, customer_id=None),
        "customer_id is missing",
        CUS,
    ),
    Kind(
        "zero price",
        "quarantine",
        lambda s: set_value(s, TX, 4, price=0.0),
        "price is zero or negative",
    ),
    Kind(
        "negative price",
        "quarantine",
        lambda s: set_value(s, TX, 5, price=-9.99),
        "price is zero or negative",
    ),
    Kind(
        "negative quantity",
        "quarantine",
        lambda s: append(s, TX, [a_sale(s, quantity=-2)])[0],
        "quantity is missing, zero or negative",
    ),
    Kind(
        "date in the future",
        "quarantine",
        lambda s: set_value(s, TX, 6, t_dat="2099-01-01"),
        "t_dat in the future",
    ),
    Kind(
        "date before the shop existed",
        "quarantine",
        lambda s: set_value(s, TX, 8, t_dat="1989-12-31"),
        "before the shop opened",
    ),
    Kind(
        "unknown article",
        "quarantine",
        lambda s: set_value(s, TX, 9, article_id="0999999999"),
        "not in the article catalogue",
    ),
    Kind(
        "outlier (10,000 units in one row)",
        "quarantine",
        lambda s: append(s, TX, [a_sale(s, quantity=10_000)])[0],
        "outlier",
    ),
    Kind(
        "unknown sales channel",
        "quarantine",
        lambda s: set_value(s, TX, 10, sales_channel_id=7),
        "sales_channel_id not one of 1, 2",
    ),
    Kind("extra column", "repair", _extra_column, "ignored"),
    Kind(
        "schema drift: reordered, float ids, text prices",
        "repair",
        _drifted_types_and_order,
        "read as usual",
    ),
    Kind(
        "unknown customer (not in the customers file)",
        "repair",
        lambda s: append(s, TX, [a_sale(s, customer_id="ghost-customer")]),
        "customers derived from the transactions",
    ),
    Kind(
        "article with no text",
        "repair",
        lambda s: set_value(s, ART, 2, prod_name=None, detail_desc=None),
        "named from colour and product type",
    ),
    Kind(
        "unknown consent code",
        "repair",
        lambda s: set_value(s, CUS, 11, fashion_news_frequency="Weekly"),
        "set to unknown: opted out",
    ),
]


@pytest.fixture
def shop(tmp_path, tiny_shop):
    return Path(shutil.copytree(tiny_shop, tmp_path / "shop"))


def raw_counts(settings) -> dict[str, int]:
    wh = open_warehouse(settings)
    return {t: int(wh.scalar(f"SELECT count(*) FROM raw.{t}")) for t in (ART, CUS, TX)}


def test_the_catalogue_has_at_least_15_kinds():
    assert len(CATALOGUE) >= 15 and len({k.name for k in CATALOGUE}) == len(CATALOGUE)


@pytest.mark.parametrize("kind", CATALOGUE, ids=lambda k: k.name)
def test_bad_input(kind: Kind, shop, tmp_path):
    from shopguide.sources import read_source

    settings = make_settings(tmp_path, source="generated", source_path=str(shop))
    if kind.level == "stop":
        # The previous night's load, from a clean export: a stopped run must leave it alone.
        ingest(settings, date(2024, 3, 23), read_source("generated", str(shop)))
        before = raw_counts(settings)

    row = kind.corrupt(shop)
    if kind.level == "stop":
        with pytest.raises((SourceError, IngestError)) as caught:
            ingest(settings, RUN_DAY)
        message = str(caught.value)
        assert kind.expect in message and "\n" not in message
        assert str(shop) in message, "the message must name the file"
        assert raw_counts(settings) == before, "a stopped run loaded something"
        LEDGER.bad_inputs.append((kind.name, "stop", message.split(str(shop))[-1][:60].strip(" /")))
        return

    data = read_source("generated", str(shop))
    result = ingest(settings, RUN_DAY, data)
    wh = open_warehouse(settings)
    q = wh.query_df("SELECT * FROM raw.quarantine WHERE run_date = CAST(? AS DATE)", [RUN_DATE])
    if kind.level == "quarantine":
        hit = q[q["reason"].str.contains(kind.expect, regex=False)]
        assert len(hit) == 1, q[["entity", "row_number", "reason"]]
        assert hit["entity"].iloc[0] == kind.entity and hit["source"].iloc[0].startswith(str(shop))
        if isinstance(row, int):
            assert int(hit["row_number"].iloc[0]) == row
        outcome = f"row {int(hit['row_number'].iloc[0])}: {hit['reason'].iloc[0][:45]}"
    else:
        assert q.empty, q[["entity", "row_number", "reason"]]
        outcome = kind.expect
        notes = " ".join([*map(str, result["repaired"]), *result["source_notes"]])
        if kind.expect not in ("ignored", "read as usual"):
            assert kind.expect in notes, notes
    # Rows lost = 0: every source row of the load window is loaded or quarantined.
    lost = _rows_lost(wh, data, result, q)
    assert lost == 0
    LEDGER.bad_inputs.append((kind.name, kind.level, outcome))


def _rows_lost(wh, data, result, quarantine) -> int:
    window = pd.Timestamp(result["window_start"] or "1900-01-01"), pd.Timestamp(RUN_DATE)
    tx = data.transactions
    in_window = (
        tx["t_dat"].isna()
        | tx["t_dat"].between(*window)
        | (tx["t_dat"] > pd.Timestamp("2030-01-01"))
    )
    loaded = wh.scalar(
        "SELECT count(*) FROM raw.transactions WHERE t_dat BETWEEN ? AND ?",
        [w.date() for w in window],
    )
    bad = int((quarantine["entity"] == TX).sum())
    return int(in_window.sum()) - int(loaded) - bad


def test_repaired_and_quarantined_input_passes_the_raw_checks(shop, tmp_path):
    """All row-level kinds at once, under the rate limit: quarantined or repaired, the
    load passes the Great Expectations raw suites and the run goes on."""
    # Every row-level kind that keeps the Parquet export (the CSV ones are tried above).
    kinds = [
        k
        for k in CATALOGUE
        if k.level != "stop" and k.corrupt not in (_truncated_line, _drifted_types_and_order)
    ]
    for kind in kinds:
        kind.corrupt(shop)
    settings = make_settings(tmp_path, source="generated", source_path=str(shop))
    result = ingest(settings, RUN_DAY)
    assert result["quarantined"] == sum(k.level == "quarantine" for k in kinds)
    checked = validate_raw(settings, RUN_DATE)
    suites = {name: r for name, r in checked.items() if name != "data_docs"}
    assert len(suites) == 3 and all(r["success"] for r in suites.values()), checked
    LEDGER.checks.append(
        (
            "all row-level kinds in one load",
            f"{result['quarantined']} rows quarantined, raw GX suites pass",
        )
    )


def test_too_many_bad_rows_stop_the_run_with_one_line(shop, tmp_path):
    """Over the quarantine rate the run stops: the CLI prints one line, no traceback."""
    df = frame(shop, TX)
    df.loc[df.index[:100], "price"] = -1.0  # 100 of 735 rows
    save(shop, TX, df)
    home = tmp_path / "home"
    env = pipeline_env(home, f"duckdb://{home / 'wh.duckdb'}", shop)
    out = shopguide(env, "run", "--date", RUN_DATE, "--only", "ingest")
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr, out.stderr
    assert (
        "over the limit" in lines[0]
        and "SHOPGUIDE_QUARANTINE_MAX_RATE" in lines[0]
        and str(shop) in lines[0]
    )
    LEDGER.bad_inputs.append(
        ("too many bad rows (over the rate limit)", "stop", "one line, names file and setting")
    )
