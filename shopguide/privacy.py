"""The right to be forgotten: ``shopguide forget CUSTOMER_ID``.

Forgetting a customer, in one warehouse transaction:

- deletes the customer's rows from every table with a ``customer_id`` column in every
  schema (raw, marts, outputs, candidates, published: all run dates);
- keeps their purchases for demand, anonymized (``customer_id`` set to NULL in
  ``raw.transactions``), as the shop's anonymous sales already are;
- deletes quarantined rows that name the customer;
- adds a SHA-256 digest of the id (not the id) to ``raw.forgotten_customers``, so the
  ingest of any later export drops the customer again.

Then it deletes the lake's run partitions (scratch copies of marts and Spark outputs,
rebuilt by every run) and the models kept there (the ranker a nightly run reuses for a
week learnt from the customer's purchases: the next run trains it again). The id is
only ever passed as a query parameter.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pandas as pd

from shopguide.consent import customer_hash
from shopguide.schema import RAW_SCHEMA
from shopguide.settings import Settings
from shopguide.warehouse import delete_path, open_warehouse, qident, qualified

FORGOTTEN_TABLE = "forgotten_customers"
FORGOTTEN_COLUMNS = {"customer_hash": "VARCHAR", "forgotten_at": "TIMESTAMP"}
# Tables whose rows are facts the shop keeps without the person: anonymized, not deleted.
ANONYMIZE = {(RAW_SCHEMA, "transactions")}
SYSTEM_SCHEMAS = ("information_schema", "pg_catalog", "pg_toast")


def forgotten_hashes(wh) -> set[str]:
    if not wh.table_exists(RAW_SCHEMA, FORGOTTEN_TABLE):
        return set()
    return set(
        wh.query_df(f"SELECT customer_hash FROM {qualified(RAW_SCHEMA, FORGOTTEN_TABLE)}")[
            "customer_hash"
        ]
    )


def drop_forgotten(
    wh, customers: pd.DataFrame, transactions: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Ingest's filter: forgotten customers out, their purchases anonymized."""
    hashes = forgotten_hashes(wh)
    if not hashes:
        return customers, transactions, 0
    gone = (
        customers["customer_id"]
        .map(lambda c: c is not None and customer_hash(c) in hashes)
        .astype(bool)
    )
    buyers = (
        transactions["customer_id"]
        .map(lambda c: c is not None and customer_hash(c) in hashes)
        .astype(bool)
    )
    if buyers.any():
        transactions = transactions.copy()
        transactions.loc[buyers, "customer_id"] = None
    return customers[~gone], transactions, int(gone.sum())


def _tables_with_customer_id(wh) -> list[tuple[str, str]]:
    marks = ", ".join([wh.param] * len(SYSTEM_SCHEMAS))
    df = wh.query_df(
        "SELECT c.table_schema, c.table_name FROM information_schema.columns c "
        "JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name "
        f"WHERE c.column_name = 'customer_id' AND t.table_type = 'BASE TABLE' AND c.table_schema NOT IN ({marks}) "
        "ORDER BY 1, 2",
        list(SYSTEM_SCHEMAS),
    )
    return list(df.itertuples(index=False, name=None))


def forget_customer(settings: Settings, customer_id: str) -> dict:
    """Remove ``customer_id`` everywhere; return what was removed per table."""
    customer_id = str(customer_id).strip()
    if not customer_id:
        raise ValueError("forget needs a customer id")
    wh = open_warehouse(settings)
    tables = _tables_with_customer_id(wh)
    counts: dict[str, int] = {}
    with wh.transaction() as con:
        wh.ensure_table(con, RAW_SCHEMA, FORGOTTEN_TABLE, FORGOTTEN_COLUMNS)
        digest = customer_hash(customer_id)
        forgotten = qualified(RAW_SCHEMA, FORGOTTEN_TABLE)
        wh.execute_in(con, f"DELETE FROM {forgotten} WHERE customer_hash = {wh.param}", [digest])
        wh.execute_in(
            con,
            f"INSERT INTO {forgotten} VALUES ({wh.param}, {wh.param})",
            [digest, datetime.now(UTC).replace(tzinfo=None)],
        )
        for schema, table in tables:
            target = qualified(schema, table)
            where = f"{qident('customer_id')} = {wh.param}"
            counts[f"{schema}.{table}"] = _count(
                con, f"SELECT count(*) FROM {target} WHERE {where}", [customer_id]
            )
            if (schema, table) in ANONYMIZE:
                wh.execute_in(
                    con,
                    f"UPDATE {target} SET {qident('customer_id')} = NULL WHERE {where}",
                    [customer_id],
                )
            else:
                wh.execute_in(con, f"DELETE FROM {target} WHERE {where}", [customer_id])
        if wh.table_exists(RAW_SCHEMA, "quarantine"):
            quarantine = qualified(RAW_SCHEMA, "quarantine")
            # The quarantined row as JSON (sort_keys, default separators): match the field.
            needle = "%" + json.dumps({"customer_id": customer_id})[1:-1] + "%"
            where = f"{qident('record')} LIKE {wh.param}"
            counts[f"{RAW_SCHEMA}.quarantine"] = _count(
                con, f"SELECT count(*) FROM {quarantine} WHERE {where}", [needle]
            )
            wh.execute_in(con, f"DELETE FROM {quarantine} WHERE {where}", [needle])
    counts["lake run partitions"] = _clear_lake(settings.lake)  # and kept models
    counts["BI file rewritten"] = _rewrite_bi_file(settings)
    return {k: v for k, v in counts.items() if v}


def _rewrite_bi_file(settings: Settings) -> int:
    """The embedded default's BI file is a copy of published.*: rewrite it without them."""
    if settings.warehouse_kind != "duckdb":
        return 0
    from shopguide.published import bi_file_path, write_bi_copy

    if not bi_file_path(settings).exists():
        return 0
    write_bi_copy(settings)
    return 1


def _count(con, sql: str, params) -> int:
    return int(con.execute(sql, params).fetchone()[0])


def _clear_lake(lake: str) -> int:
    """Delete every ``run_date=*`` partition of the lake (scratch: each run rewrites its
    own) and ``models/`` (kept models, retrained by the next run)."""
    from pyarrow import fs

    if "://" in lake and not lake.startswith("file://"):
        filesystem, root = fs.FileSystem.from_uri(lake)
    else:
        filesystem, root = fs.LocalFileSystem(), lake.removeprefix("file://")
    try:
        entries = filesystem.get_file_info(fs.FileSelector(root, allow_not_found=True))
    except FileNotFoundError:
        return 0
    runs = [
        e.path
        for e in entries
        if e.type == fs.FileType.Directory
        and (e.base_name.startswith("run_date=") or e.base_name == "models")
    ]
    for path in runs:
        delete_path(path if "://" not in lake else f"{lake.rstrip('/')}/{path.rsplit('/', 1)[-1]}")
    return len(runs)
