"""Ingest: source files -> checked rows -> ``raw.*``, keyed by the run date.

File-level problems (missing file, missing column, unreadable) stop the run with a
:class:`~shopguide.sources.SourceError` naming the file. Row-level problems go to
``raw.quarantine`` with the reason; the run goes on while the share of quarantined
rows stays under ``SHOPGUIDE_QUARANTINE_MAX_RATE``, and stops otherwise.

Loads are idempotent: articles and customers are upserted by key, transactions are
replaced day by day for the days of the load window, and everything happens in one
transaction, so a rerun of the same date leaves the same rows and a crash leaves the
previous ones.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta

import pandas as pd

from shopguide.faults import failpoint
from shopguide.privacy import drop_forgotten
from shopguide.schema import (
    ARTICLE_COLUMNS,
    CLUB_MEMBER_STATUSES,
    CUSTOMER_COLUMNS,
    FASHION_NEWS_FREQUENCIES,
    LOAD_COLUMN,
    QUARANTINE_COLUMNS,
    RAW_SCHEMA,
    SALES_CHANNELS,
    TRANSACTION_COLUMNS,
)
from shopguide.settings import Settings
from shopguide.warehouse import open_warehouse, qualified

# Days before the run date that each nightly load re-reads, so late rows are picked up.
LOOKBACK_DAYS = 7
AGE_RANGE = (0, 120)
# A single row with more units than this is an outlier (a typo or a bulk order
# that would distort popularity and demand), not a shopper's purchase.
MAX_UNITS_PER_ROW = 1000


class IngestError(RuntimeError):
    """Too many bad rows: the run stops before anything is loaded."""


@dataclass
class Checked:
    """Rows that passed the checks, and the quarantined ones with their reasons."""

    good: pd.DataFrame
    bad: list[dict] = field(default_factory=list)
    # Values repaired in rows that were kept: what -> row count (logged in the task result).
    repaired: dict[str, int] = field(default_factory=dict)

    def reject(self, rows: pd.DataFrame, entity: str, source: str, reason: str) -> None:
        for idx, row in rows.iterrows():
            record = {k: (None if pd.isna(v) else str(v)) for k, v in row.items()}
            self.bad.append(
                {
                    "entity": entity,
                    "source": source,
                    "row_number": int(idx) + 1,
                    "reason": reason,
                    "record": json.dumps(record, sort_keys=True),
                }
            )


def _drop(checked: Checked, mask: pd.Series, entity: str, source: str, reason: str) -> None:
    mask = mask.fillna(False).astype(bool)
    if mask.any():
        checked.reject(checked.good[mask], entity, source, reason)
        checked.good = checked.good[~mask]


def _check_key(frame: pd.DataFrame, key: str, entity: str, source: str) -> Checked:
    """Rows without the key, or repeating it, are quarantined (the first of a key is kept)."""
    # The frame's index is the row's position in its source file: quarantine reports it.
    checked = Checked(frame)
    _drop(checked, checked.good[key].isna(), entity, source, f"{key} is missing")
    _drop(
        checked,
        checked.good.duplicated(key, keep="first"),
        entity,
        source,
        f"duplicate {key} (the first row was kept)",
    )
    return checked


def check_articles(articles: pd.DataFrame, source: str) -> Checked:
    """Key checks; an article without a name or group is kept, named from its attributes.

    The catalogue must not lose an article that sells because its export lacks text:
    it would take its sales with it (they would become "unknown article"). Content
    features then rest on its attributes alone.
    """
    checked = _check_key(articles, "article_id", "articles", source)
    good = checked.good.copy()
    for column in ("product_type_name", "product_group_name"):
        missing = good[column].isna()
        if missing.any():
            good.loc[missing, column] = "Unknown"
            checked.repaired[f"{column} missing (set to Unknown)"] = int(missing.sum())
    no_name = good["prod_name"].isna()
    if no_name.any():
        colour = good.get("colour_group_name", pd.Series(None, index=good.index)).fillna("")
        derived = (colour + " " + good["product_type_name"]).str.strip()
        good.loc[no_name, "prod_name"] = derived[no_name]
        checked.repaired["prod_name missing (named from colour and product type)"] = int(
            no_name.sum()
        )
    checked.good = good
    return checked


def check_customers(customers: pd.DataFrame, source: str) -> Checked:
    checked = _check_key(customers, "customer_id", "customers", source)
    age = pd.to_numeric(checked.good["age"], errors="coerce")
    bad_age = age.notna() & ((age < AGE_RANGE[0]) | (age > AGE_RANGE[1]))
    # An impossible age is unknown, not a reason to lose the customer.
    checked.good = checked.good.assign(age=age.where(~bad_age))
    if bad_age.any():
        checked.repaired[f"age outside {AGE_RANGE[0]}-{AGE_RANGE[1]} (set to unknown)"] = int(
            bad_age.sum()
        )
    # An unknown consent code is no consent: the customer stays, opted out of marketing.
    for column, codes in (
        ("fashion_news_frequency", FASHION_NEWS_FREQUENCIES),
        ("club_member_status", CLUB_MEMBER_STATUSES),
    ):
        unknown = checked.good[column].notna() & ~checked.good[column].isin(codes)
        if unknown.any():
            checked.good = checked.good.assign(
                **{column: checked.good[column].where(~unknown, None)}
            )
            checked.repaired[
                f"{column} not one of {', '.join(codes)} (set to unknown: opted out)"
            ] = int(unknown.sum())
    return checked


def check_transactions(
    transactions: pd.DataFrame,
    known_articles: set[str],
    source: str,
    shop_opened: str = "1995-01-01",
    latest_possible: date | None = None,
) -> Checked:
    checked = Checked(transactions)
    t = lambda: checked.good  # noqa: E731 - the frame shrinks after each check
    _drop(checked, t()["t_dat"].isna(), "transactions", source, "t_dat is missing or not a date")
    _drop(
        checked,
        t()["t_dat"] < pd.Timestamp(shop_opened),
        "transactions",
        source,
        f"t_dat before the shop opened ({shop_opened}, SHOPGUIDE_SHOP_OPENED)",
    )
    if latest_possible is not None:
        _drop(
            checked,
            t()["t_dat"] > pd.Timestamp(latest_possible),
            "transactions",
            source,
            f"t_dat in the future (after {latest_possible})",
        )
    _drop(checked, t()["article_id"].isna(), "transactions", source, "article_id is missing")
    _drop(
        checked,
        ~t()["article_id"].isin(known_articles),
        "transactions",
        source,
        "article_id is not in the article catalogue",
    )
    price = pd.to_numeric(t()["price"], errors="coerce")
    _drop(checked, price.isna(), "transactions", source, "price is missing or not a number")
    _drop(
        checked,
        pd.to_numeric(t()["price"]) <= 0,
        "transactions",
        source,
        "price is zero or negative",
    )
    channel = pd.to_numeric(t()["sales_channel_id"], errors="coerce")
    _drop(
        checked,
        channel.notna() & ~channel.isin(SALES_CHANNELS),
        "transactions",
        source,
        f"sales_channel_id not one of {', '.join(map(str, SALES_CHANNELS))}",
    )
    quantity = pd.to_numeric(t()["quantity"], errors="coerce")
    _drop(
        checked,
        quantity.isna() | (quantity <= 0),
        "transactions",
        source,
        "quantity is missing, zero or negative",
    )
    _drop(
        checked,
        pd.to_numeric(t()["quantity"]) > MAX_UNITS_PER_ROW,
        "transactions",
        source,
        f"quantity above {MAX_UNITS_PER_ROW} units in one row (outlier)",
    )
    return checked


def _typed(df: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """Reorder to the raw columns and give each its warehouse type."""
    out = df.reindex(columns=list(columns)).copy()
    for name, sql_type in columns.items():
        if sql_type == "DATE":
            out[name] = pd.to_datetime(out[name], errors="coerce").dt.date
        elif sql_type in ("INTEGER", "BIGINT"):
            out[name] = pd.to_numeric(out[name], errors="coerce").astype("Int64")
        elif sql_type == "DOUBLE PRECISION":
            out[name] = pd.to_numeric(out[name], errors="coerce").astype("float64")
        else:
            out[name] = out[name].astype("string").astype(object).where(out[name].notna(), None)
    return out


# How far after the run date a transaction may be dated and still be a later day's
# business (ignored by this run) rather than corrupt (quarantined): a backfill reads a
# file that runs up to today, so this bounds how old a backfilled date can be.
FUTURE_DAYS = 3660


def load_window(wh, run_date: date) -> tuple[date | None, date]:
    """The days this run (re)loads: the lookback window, or all history on the first load."""
    end = run_date
    start = end - timedelta(days=LOOKBACK_DAYS - 1)
    if wh.table_exists(RAW_SCHEMA, "transactions"):
        earlier = wh.scalar(
            f"SELECT count(*) FROM {qualified(RAW_SCHEMA, 'transactions')} WHERE t_dat < CAST({wh.param} AS DATE)",
            [start.isoformat()],
        )
        if earlier:
            return start, end
    return None, end


def ingest(settings: Settings, run_date: date, data=None) -> dict:
    """Load the source's rows up to ``run_date`` into ``raw.*``; return row counts."""
    from shopguide.sources import read_source

    if data is None:
        data = read_source(settings.source, settings.source_path)
    wh = open_warehouse(settings)
    files = data.files

    # Customers who asked to be forgotten stay gone, whatever the export still holds.
    source_customers, source_tx, forgotten = drop_forgotten(wh, data.customers, data.transactions)
    articles = check_articles(data.articles, files.get("articles", settings.source))
    customers = check_customers(source_customers, files.get("customers", settings.source))

    known = _known_articles(wh, articles.good)

    tx = source_tx.copy()
    tx["t_dat"] = pd.to_datetime(tx["t_dat"], errors="coerce")
    if "quantity" not in tx:
        tx["quantity"] = 1
    start, end = load_window(wh, run_date)
    latest_possible = end + timedelta(days=FUTURE_DAYS)
    in_window = _in_load_window(tx["t_dat"], start, end, latest_possible)
    transactions = check_transactions(
        tx[in_window],
        known,
        files.get("transactions", settings.source),
        settings.shop_opened,
        latest_possible,
    )

    _enforce_quarantine_rate(
        settings,
        articles,
        customers,
        transactions,
        len(data.articles),
        len(data.customers),
        int(in_window.sum()),
    )

    articles.good = _with_first_seen(wh, articles.good, transactions.good, run_date)
    good_articles = _typed(articles.good, ARTICLE_COLUMNS).assign(**{LOAD_COLUMN: run_date})
    good_customers = _typed(customers.good, CUSTOMER_COLUMNS).assign(**{LOAD_COLUMN: run_date})
    good_tx = _typed(transactions.good, TRANSACTION_COLUMNS).assign(**{LOAD_COLUMN: run_date})
    if start is None:
        days = sorted(set(good_tx["t_dat"]))
    else:
        days = [start + timedelta(days=i) for i in range((end - start).days + 1)]

    quarantine = pd.DataFrame(
        articles.bad + customers.bad + transactions.bad,
        columns=[c for c in QUARANTINE_COLUMNS if c != "run_date"],
    )
    quarantine.insert(0, "run_date", run_date)

    _write_raw(wh, good_articles, good_customers, good_tx, days, quarantine, run_date)
    return {
        "articles": len(good_articles),
        "customers": len(good_customers),
        "transactions": len(good_tx),
        "quarantined": len(quarantine),
        "repaired": {**articles.repaired, **customers.repaired},
        "forgotten_customers_dropped": forgotten,
        "window_start": None if start is None else start.isoformat(),
        "window_end": end.isoformat(),
        # What the source's documented cleaning removed, and facts worth a log line.
        "source_dropped": dict(getattr(data, "dropped", {}) or {}),
        "source_notes": list(getattr(data, "notes", []) or []),
    }


def _known_articles(wh, good_articles: pd.DataFrame) -> set:
    """Article ids a transaction may name: this load's good articles and those loaded before."""
    known = set(good_articles["article_id"].dropna())
    if wh.table_exists(RAW_SCHEMA, "articles"):
        known |= set(
            wh.query_df(f"SELECT article_id FROM {qualified(RAW_SCHEMA, 'articles')}")["article_id"]
        )
    return known


def _in_load_window(t_dat: pd.Series, start: date | None, end: date, latest_possible: date):
    """Which transactions this run checks: those of the load window, undated ones, and
    impossible ones.

    Rows after the run date are later days' business (a backfill reads today's file):
    not loaded. A row dated more than FUTURE_DAYS after the run date cannot be real:
    checked, and quarantined. The run date decides, never the wall clock, so the same
    file and run date load the same rows on any day.
    """
    in_window = (
        t_dat.isna() | (t_dat <= pd.Timestamp(end)) | (t_dat > pd.Timestamp(latest_possible))
    )
    if start is not None:
        in_window &= t_dat.isna() | (t_dat >= pd.Timestamp(start))
    return in_window


def _write_raw(
    wh, good_articles, good_customers, good_tx, days, quarantine, run_date: date
) -> None:
    """Upsert articles and customers, replace the window's days of transactions and the
    run's quarantine rows, in one transaction."""
    with_load = lambda cols: {**cols, LOAD_COLUMN: "DATE"}  # noqa: E731
    with wh.transaction() as con:
        wh.replace_rows(
            RAW_SCHEMA,
            "articles",
            good_articles,
            with_load(ARTICLE_COLUMNS),
            "article_id",
            good_articles["article_id"],
            con,
        )
        wh.replace_rows(
            RAW_SCHEMA,
            "customers",
            good_customers,
            with_load(CUSTOMER_COLUMNS),
            "customer_id",
            good_customers["customer_id"],
            con,
        )
        failpoint("ingest")
        wh.replace_rows(
            RAW_SCHEMA, "transactions", good_tx, with_load(TRANSACTION_COLUMNS), "t_dat", days, con
        )
        wh.replace_rows(
            RAW_SCHEMA,
            "quarantine",
            quarantine,
            QUARANTINE_COLUMNS,
            "run_date",
            [run_date],
            con,
        )


def _with_first_seen(
    wh, articles: pd.DataFrame, transactions: pd.DataFrame, run_date: date
) -> pd.DataFrame:
    """Keep each article's first-seen date across loads; date new ones by this run, or by
    their first sale in this load if that is earlier (an article that sold was listed:
    a backfill of that day must see it)."""
    table = qualified(RAW_SCHEMA, "articles")
    known = pd.DataFrame(columns=["article_id", "first_seen_date"])
    if wh.table_exists(RAW_SCHEMA, "articles") and "first_seen_date" in wh.columns(
        RAW_SCHEMA, "articles"
    ):
        known = wh.query_df(f"SELECT article_id, first_seen_date FROM {table}")
    if known.empty:
        # First load: the whole catalogue is as old as the history we have.
        first_day = transactions["t_dat"].min()
        default = (first_day if pd.notna(first_day) else pd.Timestamp(run_date)).date()
    else:
        default = run_date
    seen = dict(
        zip(known["article_id"], pd.to_datetime(known["first_seen_date"]).dt.date, strict=True)
    )
    sold = pd.to_datetime(transactions["t_dat"], errors="coerce")
    first_sale = {
        a: d.date()
        for a, d in sold.groupby(transactions["article_id"].to_numpy()).min().dropna().items()
    }
    return articles.assign(
        first_seen_date=[
            seen.get(a, min(default, first_sale.get(a, default))) for a in articles["article_id"]
        ]
    )


def _enforce_quarantine_rate(
    settings: Settings, articles, customers, transactions, n_articles, n_customers, n_tx
) -> None:
    problems = []
    for name, checked, total in (
        ("articles", articles, n_articles),
        ("customers", customers, n_customers),
        ("transactions", transactions, n_tx),
    ):
        if total and len(checked.bad) / total > settings.quarantine_max_rate:
            reasons = pd.Series([b["reason"] for b in checked.bad]).value_counts().head(3)
            top = "; ".join(f"{r} ({n} rows)" for r, n in reasons.items())
            source = checked.bad[0]["source"]
            problems.append(
                f"{name} from {source}: {len(checked.bad)} of {total} rows "
                f"({len(checked.bad) / total:.1%}) are bad, over the limit of "
                f"{settings.quarantine_max_rate:.1%} — {top}"
            )
    if problems:
        raise IngestError(
            "ingest stopped, nothing was loaded: "
            + " | ".join(problems)
            + ". Fix the source file, or raise SHOPGUIDE_QUARANTINE_MAX_RATE if this is expected."
        )


__all__ = ["IngestError", "ingest", "check_articles", "check_customers", "check_transactions"]
