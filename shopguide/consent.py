"""Marketing consent, kept apart from the marts: who may be emailed *now*.

The private ``consent`` schema holds three small tables the email views and models read:

- ``consent.email_consent``: customer_id, fashion_news_frequency, is_opted_in, updated_on;
  refreshed from ``raw.customers`` by every ingest (and by ``forget``, which deletes the
  customer's rows everywhere), so an opt-out reaches ``published.email_audience`` as soon
  as the customer file that carries it is ingested, without rebuilding the list.
- ``consent.suppressions``: customer_id (or only customer_hash, the SHA-256 hex of the id,
  when the email tool knows just the hashed key), suppressed_on, suppression_source,
  recorded_at. Loaded from an optional ``suppressions*`` source file each run and written
  by ``shopguide suppress``; rows are never removed (a suppression is sticky).
- ``consent.email_listings``: customer_id, run_date: who was on each published email list
  (written in the publish transaction), for the monthly-newsletter rule.

On PostgreSQL nobody but the pipeline is granted ``consent``: ``published.email_audience``
is a view owned by the pipeline, so the marketing role reads the view and nothing under it.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd

from shopguide.schema import OPT_IN_FREQUENCIES, OPT_IN_STATUS, RAW_SCHEMA
from shopguide.settings import Settings
from shopguide.warehouse import open_warehouse, qualified


def customer_hash(customer_id: str) -> str:
    """The SHA-256 key of a customer id: how suppressions and forgotten customers are
    matched without keeping the id (``shopguide.privacy`` uses it too)."""
    return hashlib.sha256(str(customer_id).strip().encode()).hexdigest()


CONSENT_SCHEMA = "consent"
CONSENT_TABLES: dict[str, dict[str, str]] = {
    "email_consent": {
        "customer_id": "VARCHAR",
        "fashion_news_frequency": "VARCHAR",
        "is_opted_in": "BOOLEAN",
        "updated_on": "DATE",
    },
    "suppressions": {
        "customer_id": "VARCHAR",
        "customer_hash": "VARCHAR",
        "suppressed_on": "DATE",
        "suppression_source": "VARCHAR",
        "recorded_at": "TIMESTAMP",
    },
    "email_listings": {"customer_id": "VARCHAR", "run_date": "DATE"},
}
SUPPRESSION_FILE_PREFIX = "suppressions"


def ensure_consent_tables(wh, con=None) -> None:
    """Create the consent schema's tables empty when missing (dbt sources need them)."""
    if con is None:
        with wh.transaction() as own:
            return ensure_consent_tables(wh, own)
    for table, columns in CONSENT_TABLES.items():
        wh.ensure_table(con, CONSENT_SCHEMA, table, columns)
    return None


def refresh_email_consent(wh, con, run_date: date) -> int:
    """Replace consent.email_consent with every customer's current opt-in (raw.customers)."""
    ensure_consent_tables(wh, con)
    target = qualified(CONSENT_SCHEMA, "email_consent")
    wh.execute_in(con, f"DELETE FROM {target}")
    if not wh.table_exists(RAW_SCHEMA, "customers"):
        return 0
    freqs = ", ".join(f"'{f}'" for f in OPT_IN_FREQUENCIES)
    wh.execute_in(
        con,
        f"INSERT INTO {target} (customer_id, fashion_news_frequency, is_opted_in, updated_on) "
        "SELECT customer_id, fashion_news_frequency, "
        f"coalesce(fashion_news_frequency IN ({freqs}) AND club_member_status = '{OPT_IN_STATUS}', false), "
        f"CAST({wh.param} AS DATE) FROM {qualified(RAW_SCHEMA, 'customers')}",
        [run_date],
    )
    return int(_scalar(con, f"SELECT count(*) FROM {target}"))


def _scalar(con, sql: str, params=None):
    cur = con.execute(sql, params or ())
    return cur.fetchone()[0]


def suppression_rows(
    customer_ids=(), hashes=(), on: date | None = None, source: str = "cli"
) -> pd.DataFrame:
    """Suppression rows for ids (hashed here) and bare hashes."""
    on = on or datetime.now(UTC).date()
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = [
        {
            "customer_id": str(c).strip(),
            "customer_hash": customer_hash(c),
            "suppressed_on": on,
            "suppression_source": source,
            "recorded_at": now,
        }
        for c in customer_ids
        if str(c).strip()
    ]
    rows += [
        {
            "customer_id": None,
            "customer_hash": str(h).strip().lower(),
            "suppressed_on": on,
            "suppression_source": source,
            "recorded_at": now,
        }
        for h in hashes
        if str(h).strip()
    ]
    return pd.DataFrame(rows, columns=list(CONSENT_TABLES["suppressions"]))


def add_suppressions(wh, con, rows: pd.DataFrame) -> int:
    """Insert suppressions not recorded yet (same hash); returns how many were new."""
    ensure_consent_tables(wh, con)
    if rows.empty:
        return 0
    rows = rows.drop_duplicates("customer_hash")
    known = set(
        r[0]
        for r in con.execute(
            f"SELECT customer_hash FROM {qualified(CONSENT_SCHEMA, 'suppressions')}"
        ).fetchall()
    )
    new = rows[~rows["customer_hash"].isin(known)]
    if not new.empty:
        wh.insert_frame(con, CONSENT_SCHEMA, "suppressions", new)
    return len(new)


def suppress(settings: Settings, customer_ids: list[str], on: date | None = None) -> int:
    """``shopguide suppress``: out of published.email_audience at once, and of every later list."""
    ids = [str(c).strip() for c in customer_ids if str(c).strip()]
    if not ids:
        raise ValueError("suppress needs at least one customer id")
    wh = open_warehouse(settings)
    with wh.transaction() as con:
        return add_suppressions(wh, con, suppression_rows(ids, on=on, source="cli"))


def read_suppression_files(source_path: str | Path) -> tuple[pd.DataFrame, list[str]]:
    """Suppressions from ``suppressions*`` files (CSV or Parquet) in the source directory.

    Columns: ``customer_id`` or ``customer_hash`` (SHA-256 hex of the id), and optionally
    ``suppressed_on`` (a date; default today). No file: no rows.
    """
    directory = Path(str(source_path))
    if not directory.is_dir():
        return suppression_rows(), []
    frames, files = [], []
    for path in sorted(directory.glob(f"{SUPPRESSION_FILE_PREFIX}*")):
        if path.suffix.lower() == ".parquet":
            df = pd.read_parquet(path)
        elif path.suffix.lower() in (".csv", ".gz", ".txt"):
            df = pd.read_csv(path, dtype=str)
        else:
            continue
        df.columns = [str(c).strip().lower() for c in df.columns]
        if "customer_id" not in df and "customer_hash" not in df:
            raise ValueError(
                f"{path}: a suppressions file needs a customer_id or customer_hash column"
            )
        on = pd.to_datetime(df.get("suppressed_on"), errors="coerce")
        for i, row in df.reset_index(drop=True).iterrows():
            day = on.iloc[i].date() if on is not None and not pd.isna(on.iloc[i]) else None
            cid = row.get("customer_id")
            if isinstance(cid, str) and cid.strip():
                frames.append(suppression_rows([cid], on=day, source=path.name))
            elif isinstance(row.get("customer_hash"), str) and row["customer_hash"].strip():
                frames.append(
                    suppression_rows(hashes=[row["customer_hash"]], on=day, source=path.name)
                )
        files.append(str(path))
    if not frames:
        return suppression_rows(), files
    return pd.concat(frames, ignore_index=True), files


def refresh_consent(settings: Settings, run_date: date) -> dict:
    """Ingest's last step: load the suppressions file(s), refresh every customer's opt-in."""
    wh = open_warehouse(settings)
    rows, files = read_suppression_files(settings.source_path)
    with wh.transaction() as con:
        added = add_suppressions(wh, con, rows)
        customers = refresh_email_consent(wh, con, run_date)
    return {"suppressions_added": added, "suppression_files": files, "consent_rows": customers}


def record_listings_sql(wh, run_date: date, candidate_schema: str) -> list[tuple[str, list]]:
    """Statements for the publish transaction: who is on this run's email list."""
    target = qualified(CONSENT_SCHEMA, "email_listings")
    return [
        (f"DELETE FROM {target} WHERE run_date = CAST({wh.param} AS DATE)", [run_date]),
        (
            f"INSERT INTO {target} (customer_id, run_date) SELECT DISTINCT customer_id, run_date "
            f"FROM {qualified(candidate_schema, 'email_campaign_list')} "
            f"WHERE run_date = CAST({wh.param} AS DATE)",
            [run_date],
        ),
    ]


def sha256_sql(kind: str, expression: str) -> str:
    """SQL for the SHA-256 hex of a text expression (as privacy.customer_hash)."""
    if kind == "postgres":
        return f"encode(sha256(convert_to({expression}, 'UTF8')), 'hex')"
    return f"sha256({expression})"


def campaign_group(customer_id: str, run_date: date, share: float) -> str:
    """The group the dbt model email_campaign_list gives a customer (macro control_bound):
    'control' when the first 4 hex digits of md5('<customer_id>|<YYYY-MM of run_date>')
    fall below share x 65536, so a customer stays in one group for the month's campaign."""
    digest = hashlib.md5(f"{customer_id}|{run_date:%Y-%m}".encode()).hexdigest()[:4]
    return "control" if digest < f"{int(share * 65536 + 0.5):04x}" else "treatment"
