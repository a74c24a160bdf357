"""PostgreSQL roles: BI reads the published schema only; marketing the email audience view only."""

from __future__ import annotations

import uuid

import pandas as pd
import psycopg
import pytest
from harness import LEDGER

from shopguide.access import drop_roles, ensure_roles
from shopguide.pipeline import ensure_published_tables
from shopguide.schema import CUSTOMER_COLUMNS
from shopguide.warehouse import open_warehouse
from support import make_settings

pytestmark = pytest.mark.postgres


def can_read(url: str, role: str, relation: str) -> bool:
    with psycopg.connect(url) as con, con.cursor() as cur:
        cur.execute(psycopg.sql.SQL("SET ROLE {}").format(psycopg.sql.Identifier(role)))
        try:
            cur.execute(f"SELECT count(*) FROM {relation}")
            return True
        except psycopg.errors.InsufficientPrivilege:
            return False


def test_roles_see_only_what_they_may(tmp_path, pg_url):
    settings = make_settings(tmp_path, pg_url)
    prefix = f"sgtest_{uuid.uuid4().hex[:6]}"
    wh = open_warehouse(settings)
    customers = pd.DataFrame([{"customer_id": "c1", "age": 33.0, "postal_code": "secret"}])
    wh.replace_rows("raw", "customers", customers, CUSTOMER_COLUMNS, "customer_id", ["c1"])
    ensure_published_tables(settings)
    with wh.transaction() as con:  # the views publication creates (consent.* under them)
        from shopguide.consent import ensure_consent_tables
        from shopguide.published import create_views

        ensure_consent_tables(wh, con)
        create_views(con, wh.kind)
    try:
        roles = ensure_roles(settings, prefix)
        ensure_roles(settings, prefix)  # idempotent
        # A table published after the grants is visible to BI too (default privileges).
        wh.execute("CREATE TABLE published.weekly_report (run_date date)")

        assert can_read(pg_url, roles["bi"], "published.recommendations")
        assert can_read(pg_url, roles["bi"], "published.weekly_report")
        assert not can_read(pg_url, roles["bi"], "raw.customers")
        assert can_read(pg_url, roles["marketing"], "published.email_audience")
        assert not can_read(pg_url, roles["marketing"], "published.email_campaign_list")
        assert not can_read(pg_url, roles["marketing"], "published.recommendations")
        assert not can_read(pg_url, roles["marketing"], "raw.customers")
        assert not can_read(pg_url, roles["marketing"], "consent.email_consent")
        assert not can_read(pg_url, roles["bi"], "consent.suppressions")
        assert can_read(pg_url, roles["pipeline"], "raw.customers")
        LEDGER.checks.append(
            (
                "postgres roles",
                "BI: published only; marketing: email_audience only; raw, consent hidden",
            )
        )
    finally:
        drop_roles(settings, prefix)


def test_two_warehouses_of_one_server_create_the_roles_at_once(tmp_path, pg_databases):
    """Roles are server-wide: two warehouses publishing at the same moment both succeed."""
    import threading

    prefix = f"sgrace_{uuid.uuid4().hex[:6]}"
    settings = [make_settings(tmp_path / f"w{i}", pg_databases()) for i in range(2)]
    for s in settings:
        ensure_published_tables(s)
    start, errors = threading.Barrier(2), []

    def create(s) -> None:
        start.wait()
        try:
            ensure_roles(s, prefix)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=create, args=(s,)) for s in settings]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert errors == []
        for s in settings:
            assert can_read(s.warehouse_url, f"{prefix}_bi", "published.recommendations")
        LEDGER.checks.append(
            ("postgres roles from two warehouses at once", "both create and grant, no collision")
        )
    finally:
        # A role goes only once no database grants it anything.
        with psycopg.connect(settings[0].warehouse_url, autocommit=True) as con:
            for kind in ("pipeline", "bi", "marketing"):
                role = psycopg.sql.Identifier(f"{prefix}_{kind}")
                con.execute(psycopg.sql.SQL("DROP OWNED BY {}").format(role))
        drop_roles(settings[1], prefix)
