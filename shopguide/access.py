"""Who may read what, on PostgreSQL: roles created and granted by the project.

- ``<prefix>_pipeline``: the writer; owns nothing special, may use every schema.
- ``<prefix>_bi``: read-only, the ``published`` schema only (and its future tables).
- ``<prefix>_marketing``: the view ``published.email_audience`` only (the latest run's
  list, customers opted in now and not suppressed). The view belongs to the pipeline, so
  marketing reads it without any right on ``consent`` (opt-ins, suppressions) or marts.

The private schemas (raw, staging, intermediate, marts, outputs, publish_candidates,
consent) hold personal data (age, postal code) and are granted to nobody but the pipeline.
Roles are NOLOGIN groups: grant them to real login users. DuckDB has no roles: its
file is private to whoever may read it, and BI reads a copy or the published schema.
"""

from __future__ import annotations

from psycopg import errors, sql

from shopguide.schema import CANDIDATE_SCHEMA, OUTPUTS_SCHEMA, PUBLISHED_SCHEMA, RAW_SCHEMA
from shopguide.settings import Settings
from shopguide.warehouse import open_warehouse

PRIVATE_SCHEMAS = (
    RAW_SCHEMA,
    "staging",
    "intermediate",
    "marts",
    OUTPUTS_SCHEMA,
    CANDIDATE_SCHEMA,
    "consent",
)
MARKETING_VIEW = "email_audience"


def role_names(prefix: str) -> dict[str, str]:
    """The project's roles by kind, named ``<prefix>_<kind>`` (``Settings.role_prefix``)."""
    return {kind: f"{prefix}_{kind}" for kind in ("pipeline", "bi", "marketing")}


def ensure_roles(settings: Settings, prefix: str | None = None) -> dict[str, str]:
    """Create the roles if missing and (re)apply the grants; idempotent."""
    if settings.warehouse_kind != "postgres":
        return {}
    roles = role_names(prefix or settings.role_prefix)
    ident = {k: sql.Identifier(v) for k, v in roles.items()}
    published = sql.Identifier(PUBLISHED_SCHEMA)
    wh = open_warehouse(settings)
    with wh.transaction() as con, con.cursor() as cur:
        for name in roles.values():
            cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name])
            if cur.fetchone() is None:
                # Roles belong to the server, not the database: another warehouse on the
                # same server may create this one at the same moment.
                cur.execute("SAVEPOINT create_role")
                try:
                    cur.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(name)))
                    cur.execute("RELEASE SAVEPOINT create_role")
                except (errors.DuplicateObject, errors.UniqueViolation):
                    cur.execute("ROLLBACK TO SAVEPOINT create_role")
        cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(published))
        for schema in (*PRIVATE_SCHEMAS, PUBLISHED_SCHEMA):
            cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
            cur.execute(
                sql.SQL("GRANT USAGE, CREATE ON SCHEMA {} TO {}").format(
                    sql.Identifier(schema), ident["pipeline"]
                )
            )
            cur.execute(
                sql.SQL("GRANT ALL ON ALL TABLES IN SCHEMA {} TO {}").format(
                    sql.Identifier(schema), ident["pipeline"]
                )
            )
            if schema != PUBLISHED_SCHEMA:
                cur.execute(
                    sql.SQL("REVOKE ALL ON SCHEMA {} FROM PUBLIC").format(sql.Identifier(schema))
                )
        # BI: everything published, now and later.
        cur.execute(
            sql.SQL("GRANT USAGE ON SCHEMA {} TO {}, {}").format(
                published, ident["bi"], ident["marketing"]
            )
        )
        cur.execute(
            sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(published, ident["bi"])
        )
        cur.execute(
            sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA {} GRANT SELECT ON TABLES TO {}").format(
                published, ident["bi"]
            )
        )
        _grant_marketing(cur, roles)
    return roles


def _grant_marketing(cur, roles: dict[str, str]) -> None:
    """Marketing: the consent-checked view only, never the list's history."""
    published = sql.Identifier(PUBLISHED_SCHEMA)
    marketing = sql.Identifier(roles["marketing"])
    cur.execute(
        sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA {} FROM {}").format(published, marketing)
    )
    cur.execute("SELECT to_regclass(%s)", [f"{PUBLISHED_SCHEMA}.{MARKETING_VIEW}"])
    if cur.fetchone()[0] is not None:
        cur.execute(
            sql.SQL("GRANT SELECT ON {}.{} TO {}").format(
                published, sql.Identifier(MARKETING_VIEW), marketing
            )
        )


def grant_published(con, prefix: str) -> dict[str, str]:
    """Inside the publish transaction: grants on the tables and views it (re)created.

    The roles exist already (``ensure_roles`` runs before the transaction); views that
    were dropped and recreated lost their grants, so they are granted again here and
    become visible to BI and marketing in the same commit as the rows.
    """
    roles = role_names(prefix)
    with con.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_roles WHERE rolname = ANY(%s)", [list(roles.values())])
        if cur.fetchone()[0] < len(roles):
            return {}
        published = sql.Identifier(PUBLISHED_SCHEMA)
        cur.execute(
            sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(
                published, sql.Identifier(roles["bi"])
            )
        )
        cur.execute(
            sql.SQL("GRANT ALL ON ALL TABLES IN SCHEMA {} TO {}").format(
                published, sql.Identifier(roles["pipeline"])
            )
        )
        _grant_marketing(cur, roles)
    return roles


def drop_roles(settings: Settings, prefix: str | None = None) -> None:
    """Remove the roles' grants in this database and the roles themselves (tests, teardown)."""
    roles = role_names(prefix or settings.role_prefix)
    wh = open_warehouse(settings)
    with wh.transaction() as con, con.cursor() as cur:
        for name in roles.values():
            cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name])
            if cur.fetchone() is not None:
                cur.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(name)))
                cur.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))
