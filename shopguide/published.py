"""The published layer around the per-run tables, for both engines.

Inside the publish transaction (:func:`finish_publish`, called by ``Warehouse.publish``):

- retention: rows of run dates older than the last ``SHOPGUIDE_RETENTION_RUNS``
  successful run dates are deleted from every per-run table;
- keys and indexes: a primary key on ``PUBLISHED_KEYS`` of every table, and indexes for
  the usual filters (``PUBLISHED_INDEXES``);
- views: ``published.<table>_latest`` (rows of the latest successful run in
  ``pipeline_runs``) for every per-run table, and ``published.email_audience`` (the
  latest list, consent and suppressions checked at query time, see shopguide/consent.py);
- comments: ``COMMENT ON`` every published table, view and column, from the dbt yml
  descriptions (models in dbt/models/published, sources in _published__sources.yml);
- grants (PostgreSQL): BI reads everything published, marketing only email_audience.

After the commit, on the embedded default, :func:`write_bi_copy` writes a read-only
DuckDB file for BI tools beside the warehouse and swaps it in with ``os.replace``.
"""

from __future__ import annotations

import logging
import os
from datetime import date
from functools import cache
from pathlib import Path

import yaml

from shopguide.consent import CONSENT_SCHEMA, ensure_consent_tables, sha256_sql
from shopguide.run_date import stored_run_date
from shopguide.schema import (
    PIPELINE_RUNS_COLUMNS,
    PUBLISHED_KEYS,
    PUBLISHED_SCHEMA,
    PUBLISHED_TABLES,
)
from shopguide.settings import Settings
from shopguide.warehouse import qident, qualified

log = logging.getLogger("shopguide.published")

EMAIL_AUDIENCE = "email_audience"
LATEST_SUFFIX = "_latest"
SCORED_ON = "scored_on"  # the run that scored a realized-performance row
# Indexes for what BI and the email tool filter on (beside the primary keys).
PUBLISHED_INDEXES: dict[str, tuple[tuple[str, ...], ...]] = {
    "recommendations": (("run_date", "article_id"),),
    "email_campaign_list": (("run_date", "campaign_group"),),
    "demand_forecast": (("run_date", "forecast_date"),),
    "daily_sales": (("run_date", "sale_date"),),
    "articles": (("run_date", "department_name"), ("run_date", "product_type_name")),
    "customer_segments": (("run_date", "segment"),),
}
BI_FILE_SUFFIX = "_bi"


# -- descriptions from dbt ----------------------------------------------------------------
@cache
def _dbt_docs(dbt_dir: str) -> dict[str, tuple[str, dict[str, str]]]:
    """relation name -> (description, {column: description}) of the published models
    and of the ``published`` source tables."""
    docs: dict[str, tuple[str, dict[str, str]]] = {}
    folder = Path(dbt_dir) / "models" / "published"
    for path in sorted(folder.glob("*.yml")):
        spec = yaml.safe_load(path.read_text()) or {}
        for model in spec.get("models", []):
            name = (model.get("config") or {}).get("alias") or model["name"]
            docs[name] = (
                " ".join(str(model.get("description", "")).split()),
                {
                    c["name"]: " ".join(str(c.get("description", "")).split())
                    for c in model.get("columns", [])
                },
            )
        for source in spec.get("sources", []):
            if source.get("schema") != PUBLISHED_SCHEMA:
                continue
            for table in source.get("tables", []):
                name = table["name"]
                described, columns = docs.get(name, ("", {}))
                docs[name] = (
                    described or " ".join(str(table.get("description", "")).split()),
                    {
                        **columns,
                        **{
                            c["name"]: " ".join(str(c.get("description", "")).split())
                            for c in table.get("columns", [])
                        },
                    },
                )
    return docs


def published_docs(settings: Settings) -> dict[str, tuple[str, dict[str, str]]]:
    """Table/view -> (description, column descriptions) for everything in ``published``."""
    docs = dict(_dbt_docs(str(settings.dbt_project_dir)))
    for table in PUBLISHED_TABLES:
        described, columns = docs.get(table, ("", {}))
        latest = (
            f"Every run date's rows of published.{table} as the latest successful run "
            "left them (scored_on up to the max run_date of pipeline_runs with status "
            "'success')."
            if latest_column(table) == SCORED_ON
            else f"The rows of published.{table} of the latest successful run "
            "(max run_date of pipeline_runs with status 'success')."
        )
        docs[f"{table}{LATEST_SUFFIX}"] = (f"{latest} {described}".strip(), columns)
    audience, _ = docs.get(EMAIL_AUDIENCE, ("", {}))
    docs[EMAIL_AUDIENCE] = (audience, docs.get("email_campaign_list", ("", {}))[1])
    return docs


def relation_columns() -> dict[str, dict[str, str]]:
    """Every published relation (tables, views) and its columns."""
    out = {**PUBLISHED_TABLES, "pipeline_runs": PIPELINE_RUNS_COLUMNS}
    for table, columns in PUBLISHED_TABLES.items():
        out[f"{table}{LATEST_SUFFIX}"] = columns
    out[EMAIL_AUDIENCE] = PUBLISHED_TABLES["email_campaign_list"]
    return out


def undescribed_columns(settings: Settings) -> list[str]:
    """``table.column`` of every published column without a dbt description."""
    docs = published_docs(settings)
    missing = []
    for relation, columns in relation_columns().items():
        described, by_column = docs.get(relation, ("", {}))
        if not described:
            missing.append(f"{relation} (table)")
        missing += [f"{relation}.{c}" for c in columns if not by_column.get(c)]
    return missing


# -- SQL helpers ----------------------------------------------------------------------------
def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _run(con, sql: str, params=None):
    # No parameters: no placeholders either (psycopg would read a '%' in a comment as one).
    return con.execute(sql, params) if params else con.execute(sql)


def _fetchall(con, sql: str, params=None) -> list[tuple]:
    return list(_run(con, sql, params).fetchall())


def latest_run_sql(schema: str = PUBLISHED_SCHEMA) -> str:
    return (
        f"(SELECT max(run_date) FROM {qualified(schema, 'pipeline_runs')} WHERE status = 'success')"
    )


def latest_published_run(wh) -> date | None:
    """The latest successfully published run date, None before the first."""
    if not wh.table_exists(PUBLISHED_SCHEMA, "pipeline_runs"):
        return None
    value = wh.scalar(f"SELECT {latest_run_sql()}")
    return None if value is None else stored_run_date(value)


def _columns(con, kind: str, schema: str, table: str) -> list[str]:
    mark = "%s" if kind == "postgres" else "?"
    return [
        r[0]
        for r in _fetchall(
            con,
            "SELECT column_name FROM information_schema.columns "
            f"WHERE table_schema = {mark} AND table_name = {mark} ORDER BY ordinal_position",
            [schema, table],
        )
    ]


def _has_primary_key(con, kind: str, schema: str, table: str) -> bool:
    mark = "%s" if kind == "postgres" else "?"
    rows = _fetchall(
        con,
        "SELECT count(*) FROM information_schema.table_constraints "
        f"WHERE table_schema = {mark} AND table_name = {mark} AND constraint_type = 'PRIMARY KEY'",
        [schema, table],
    )
    return bool(rows[0][0])


def add_missing_columns(wh, con) -> list[str]:
    """Columns added to the contract since a published table was created (e.g.
    email_campaign_list.campaign_group): ``ALTER TABLE ADD COLUMN``, before the swap."""
    added = []
    for table, columns in PUBLISHED_TABLES.items():
        have = set(_columns(con, wh.kind, PUBLISHED_SCHEMA, table))
        if not have:
            continue
        for column, sql_type in columns.items():
            if column not in have:
                _run(
                    con,
                    f"ALTER TABLE {qualified(PUBLISHED_SCHEMA, table)} ADD COLUMN {qident(column)} {sql_type}",
                )
                added.append(f"{table}.{column}")
    return added


def ensure_keys_and_indexes(con, kind: str, schema: str = PUBLISHED_SCHEMA) -> None:
    """Primary key on PUBLISHED_KEYS, indexes on PUBLISHED_INDEXES (idempotent)."""
    for table, key in PUBLISHED_KEYS.items():
        if table not in PUBLISHED_TABLES:
            continue
        if not _has_primary_key(con, kind, schema, table):
            cols = ", ".join(qident(c) for c in key)
            _run(con, f"ALTER TABLE {qualified(schema, table)} ADD PRIMARY KEY ({cols})")
        for columns in PUBLISHED_INDEXES.get(table, ()):
            name = f"{table}__{'__'.join(columns)}"[:63]
            cols = ", ".join(qident(c) for c in columns)
            _run(
                con,
                f"CREATE INDEX IF NOT EXISTS {qident(name)} ON {qualified(schema, table)} ({cols})",
            )


def apply_retention(con, kind: str, run_date: date, keep: int) -> dict[str, int]:
    """Delete the rows of run dates older than the last ``keep`` successful run dates
    (this run's date always counts). Returns rows deleted per table."""
    mark = "%s" if kind == "postgres" else "?"
    dates = _fetchall(
        con,
        f"SELECT DISTINCT run_date FROM {qualified(PUBLISHED_SCHEMA, 'pipeline_runs')} "
        f"WHERE status = 'success' OR run_date = CAST({mark} AS DATE) ORDER BY run_date DESC",
        [run_date],
    )
    if len(dates) <= keep:
        return {}
    cutoff = dates[keep - 1][0]
    deleted = {}
    for table in PUBLISHED_TABLES:
        cur = _run(
            con,
            f"DELETE FROM {qualified(PUBLISHED_SCHEMA, table)} "
            f"WHERE run_date < CAST({mark} AS DATE) AND run_date <> CAST({mark} AS DATE)",
            [cutoff, run_date],
        )
        count = getattr(cur, "rowcount", -1)
        if kind == "duckdb":
            count = cur.fetchone()[0]
        if count:
            deleted[table] = int(count)
    return deleted


def latest_column(table: str) -> str:
    """The column a ``_latest`` view filters on. Realized-performance tables hold one row
    per earlier run date R, scored (and rescored) by later runs: their latest rows are
    those of every R as the latest successful run left them (``scored_on``)."""
    return "scored_on" if SCORED_ON in PUBLISHED_TABLES[table] else "run_date"


def create_views(con, kind: str, schema: str = PUBLISHED_SCHEMA, audience: bool = True) -> None:
    """``<table>_latest`` for every published table, and ``email_audience``."""
    latest = latest_run_sql(schema)
    for table, columns in PUBLISHED_TABLES.items():
        view = qualified(schema, f"{table}{LATEST_SUFFIX}")
        cols = ", ".join(qident(c) for c in columns)
        where = (
            f"{qident(SCORED_ON)} <= {latest}"
            if latest_column(table) == SCORED_ON
            else f"run_date = {latest}"
        )
        _replace_view(
            con, kind, view, f"SELECT {cols} FROM {qualified(schema, table)} WHERE {where}"
        )
    if not audience:
        return
    view = qualified(schema, EMAIL_AUDIENCE)
    # PostgreSQL: a security barrier, so a marketer's own WHERE clause (a function that
    # errors or leaks) is never evaluated before the consent and latest-run filters.
    barrier = " WITH (security_barrier)" if kind == "postgres" else ""
    _replace_view(con, kind, view, audience_sql(kind, latest, schema), barrier)


def _replace_view(con, kind: str, view: str, body: str, options: str = "") -> None:
    """CREATE OR REPLACE, so a BI user's own view on top of ours does not stop a publish;
    on PostgreSQL, where that fails when the columns changed (an upgrade), the view is
    dropped and created instead (inside a savepoint: the transaction goes on)."""
    create = f"VIEW {view}{options} AS {body}"
    if kind != "postgres":
        _run(con, f"CREATE OR REPLACE {create}")
        return
    _run(con, "SAVEPOINT shopguide_view")
    try:
        _run(con, f"CREATE OR REPLACE {create}")
    except Exception:
        _run(con, "ROLLBACK TO SAVEPOINT shopguide_view")
        _run(con, f"DROP VIEW IF EXISTS {view}")
        _run(con, f"CREATE {create}")
    _run(con, "RELEASE SAVEPOINT shopguide_view")


def audience_sql(kind: str, run_date_sql: str, schema: str = PUBLISHED_SCHEMA) -> str:
    """The email list of one run (``run_date_sql``: an SQL expression) for customers
    opted in now (consent.email_consent) and not suppressed (consent.suppressions)."""
    cols = ", ".join(f"e.{qident(c)}" for c in PUBLISHED_TABLES["email_campaign_list"])
    consent = qualified(CONSENT_SCHEMA, "email_consent")
    suppressions = qualified(CONSENT_SCHEMA, "suppressions")
    hashed = sha256_sql(kind, "e.customer_id")
    return (
        f"SELECT {cols} FROM {qualified(schema, 'email_campaign_list')} e "
        f"WHERE e.run_date = {run_date_sql} "
        f"AND EXISTS (SELECT 1 FROM {consent} c WHERE c.customer_id = e.customer_id AND c.is_opted_in) "
        f"AND NOT EXISTS (SELECT 1 FROM {suppressions} s "
        f"WHERE s.customer_id = e.customer_id OR s.customer_hash = {hashed})"
    )


def comment_statements(
    settings: Settings, schema: str = PUBLISHED_SCHEMA, relations=None
) -> list[str]:
    """COMMENT ON statements for every published relation and column from dbt's yml."""
    docs = published_docs(settings)
    views = {f"{t}{LATEST_SUFFIX}" for t in PUBLISHED_TABLES} | {EMAIL_AUDIENCE}
    out = []
    for relation, columns in relation_columns().items():
        if relations is not None and relation not in relations:
            continue
        described, by_column = docs.get(relation, ("", {}))
        kind = "VIEW" if relation in views else "TABLE"
        target = qualified(schema, relation)
        if described:
            out.append(f"COMMENT ON {kind} {target} IS {_literal(described)}")
        for column in columns:
            if by_column.get(column):
                out.append(
                    f"COMMENT ON COLUMN {target}.{qident(column)} IS {_literal(by_column[column])}"
                )
    return out


def finish_publish(settings: Settings, wh, con, run_date: date) -> dict:
    """Everything around the swapped rows, inside the publish transaction."""
    deleted = apply_retention(con, wh.kind, run_date, settings.retention_runs)
    ensure_keys_and_indexes(con, wh.kind)
    ensure_consent_tables(wh, con)
    create_views(con, wh.kind)
    for sql in comment_statements(settings):
        _run(con, sql)
    roles = {}
    if wh.kind == "postgres":
        from shopguide.access import grant_published

        roles = grant_published(con, settings.role_prefix)
    return {"retention_deleted": deleted, "roles": sorted(roles.values())}


# -- the BI file (embedded default) ---------------------------------------------------------
def bi_file_path(settings: Settings) -> Path:
    """The read-only DuckDB file for BI tools, beside the warehouse file."""
    path = settings.duckdb_path
    return path.with_name(f"{path.stem}{BI_FILE_SUFFIX}{path.suffix or '.duckdb'}")


def write_bi_copy(settings: Settings) -> dict:
    """Copy the published schema into a new DuckDB file and swap it in atomically.

    BI tools open the copy (read-only), never the pipeline's file, so they never hold
    the writer's lock; a reader that has the old copy open keeps reading it until it
    reconnects. Tables keep their primary keys and comments; the ``_latest`` views are
    recreated. ``email_audience`` is not copied: a copy would keep a customer who opted
    out or was suppressed after the publish until the next one; the email list comes
    from the warehouse's live view (``shopguide export email``).
    """
    import duckdb

    if settings.warehouse_kind != "duckdb":
        return {}
    target = bi_file_path(settings)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    for leftover in (tmp, Path(f"{tmp}.wal")):
        leftover.unlink(missing_ok=True)
    copy = str(tmp).replace("'", "''")
    counts = {}
    # Through the warehouse's own connection (the process may hold it open already, and
    # DuckDB opens a file once per process), the new file attached beside it.
    con = duckdb.connect(str(settings.duckdb_path))
    try:
        con.execute(f"ATTACH '{copy}' AS bi")
        con.execute(f"CREATE SCHEMA bi.{qident(PUBLISHED_SCHEMA)}")
        tables = {**PUBLISHED_TABLES, "pipeline_runs": PIPELINE_RUNS_COLUMNS}
        for table, columns in tables.items():
            cols = ", ".join(f"{qident(c)} {t}" for c, t in columns.items())
            key = PUBLISHED_KEYS.get(table)
            pk = f", PRIMARY KEY ({', '.join(qident(c) for c in key)})" if key else ""
            con.execute(f"CREATE TABLE bi.{qualified(PUBLISHED_SCHEMA, table)} ({cols}{pk})")
            names = ", ".join(qident(c) for c in columns)
            con.execute(
                f"INSERT INTO bi.{qualified(PUBLISHED_SCHEMA, table)} ({names}) "
                f"SELECT {names} FROM {qualified(PUBLISHED_SCHEMA, table)}"
            )
            counts[table] = con.execute(
                f"SELECT count(*) FROM bi.{qualified(PUBLISHED_SCHEMA, table)}"
            ).fetchone()[0]
        con.execute("DETACH bi")
    finally:
        con.close()
    con = duckdb.connect(str(tmp))
    try:
        create_views(con, "duckdb", audience=False)
        audience = qualified(PUBLISHED_SCHEMA, EMAIL_AUDIENCE)
        for sql in comment_statements(settings):
            if f"{audience} " not in sql and f"{audience}." not in sql:
                con.execute(sql)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    os.replace(tmp, target)
    Path(f"{tmp}.wal").unlink(missing_ok=True)
    return {"bi_file": str(target), "tables": len(counts)}


def fingerprint(wh, run_date: date) -> dict[str, tuple[int, str]]:
    """(rows, SHA-256) of each published table's partition for ``run_date``: the rows in
    the order of the table's natural key, each value as text (floats with 12 significant
    digits, so a refactoring that only reorders floating-point sums compares equal). Two
    runs of the same inputs, before and after a behaviour-preserving change, must agree."""
    import hashlib
    import math

    def text(value) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "NULL"
        if isinstance(value, float):
            return f"{value:.12g}"
        return str(value)

    out: dict[str, tuple[int, str]] = {}
    for table, columns in PUBLISHED_TABLES.items():
        if not wh.table_exists(PUBLISHED_SCHEMA, table):
            continue
        order = ", ".join(qident(c) for c in PUBLISHED_KEYS[table])
        cols = ", ".join(qident(c) for c in columns)
        frame = wh.query_df(
            f"SELECT {cols} FROM {qualified(PUBLISHED_SCHEMA, table)} "
            f"WHERE run_date = CAST({wh.param} AS DATE) ORDER BY {order}",
            [run_date],
        )
        digest = hashlib.sha256()
        for row in frame.itertuples(index=False):
            digest.update(("\x1f".join(text(v) for v in row) + "\n").encode())
        out[table] = (len(frame), digest.hexdigest())
    return out
