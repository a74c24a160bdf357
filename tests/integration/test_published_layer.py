"""The published layer for BI and email marketing (issue 17), on DuckDB and PostgreSQL.

The tiny shop of shop_for_dbt.py is built by dbt and published with the pipeline's own
publish task: dimensions, `_latest` views, keys, comments, retention inside the publish
transaction, the consent-checked `email_audience` view and the roles.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pandas as pd
import psycopg
import pytest
from shop_for_dbt import RUN_DATE, RUN_DAY, article_id, seed_outputs, seed_raw

from shopguide import published as layer
from shopguide.consent import refresh_consent, suppress
from shopguide.dbt_runner import build_models, build_published
from shopguide.pipeline import publish
from shopguide.privacy import customer_hash
from shopguide.published import latest_column
from shopguide.schema import PUBLISHED_KEYS, PUBLISHED_TABLES
from shopguide.warehouse import open_warehouse
from support import make_settings

OLDER = [RUN_DAY - dt.timedelta(days=n) for n in (3, 2, 1)]


def _build(settings) -> None:
    wh = open_warehouse(settings)
    seed_raw(wh)
    build_models(settings, RUN_DATE)
    seed_outputs(wh)
    refresh_consent(settings, RUN_DAY)  # what the ingest task does after loading raw.*
    build_published(settings, RUN_DATE)


def _seed_older_runs(wh) -> None:
    """Three earlier successful runs with a recommendation each, and a later failed one
    that left rows behind (as a half-written run would, were publication not atomic)."""
    with wh.transaction() as con:
        for day in [*OLDER, RUN_DAY + dt.timedelta(days=1)]:
            status = "failed" if day > RUN_DAY else "success"
            wh.execute_in(
                con,
                "INSERT INTO published.pipeline_runs (run_date, status, source, message) "
                f"VALUES (CAST({wh.param} AS DATE), {wh.param}, 'generated', 'seeded')",
                [day, status],
            )
            wh.execute_in(
                con,
                'INSERT INTO published.recommendations (run_date, customer_id, "rank", article_id, score, reason) '
                f"VALUES (CAST({wh.param} AS DATE), 'c1', 1, {wh.param}, 0.5, 'seeded')",
                [day, article_id(1)],
            )


def _run_dates(wh, table: str) -> set[str]:
    df = wh.query_df(f"SELECT DISTINCT run_date FROM published.{table}")
    return {str(d)[:10] for d in df["run_date"]}


def _comments(wh) -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    if wh.kind == "postgres":
        tables = wh.query_df(
            "SELECT c.relname AS name, obj_description(c.oid, 'pg_class') AS comment "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'published' AND c.relkind IN ('r', 'v')"
        )
        columns = wh.query_df(
            "SELECT c.relname AS name, a.attname AS col, col_description(c.oid, a.attnum) AS comment "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
            "WHERE n.nspname = 'published' AND c.relkind IN ('r', 'v')"
        )
    else:
        tables = wh.query_df(
            "SELECT table_name AS name, comment FROM duckdb_tables() WHERE schema_name = 'published' "
            "UNION ALL SELECT view_name, comment FROM duckdb_views() WHERE schema_name = 'published'"
        )
        columns = wh.query_df(
            "SELECT table_name AS name, column_name AS col, comment FROM duckdb_columns() "
            "WHERE schema_name = 'published'"
        )
    return (
        dict(zip(tables["name"], tables["comment"], strict=True)),
        {(r.name, r.col): r.comment for r in columns.itertuples()},
    )


def _assert_every_column_commented(wh) -> int:
    tables, columns = _comments(wh)
    missing = [r for r in layer.relation_columns() if not tables.get(r)]
    missing += [
        f"{r}.{c}"
        for r, cols in layer.relation_columns().items()
        for c in cols
        if not columns.get((r, c))
    ]
    assert missing == []
    return sum(len(c) for c in layer.relation_columns().values())


def _role_query(url: str, role: str, sql: str):
    """Rows of ``sql`` as ``role``; None when the role may not read it."""
    with psycopg.connect(url) as con, con.cursor() as cur:
        cur.execute(psycopg.sql.SQL("SET ROLE {}").format(psycopg.sql.Identifier(role)))
        try:
            cur.execute(sql)
            return cur.fetchall()
        except psycopg.errors.InsufficientPrivilege:
            return None


def _audience(settings, role: str | None = None) -> set[str]:
    sql = "SELECT DISTINCT customer_id FROM published.email_audience"
    if role is None:
        return set(open_warehouse(settings).query_df(sql)["customer_id"])
    rows = _role_query(settings.warehouse_url, role, sql)
    assert rows is not None, f"{role} cannot read published.email_audience"
    return {r[0] for r in rows}


@pytest.fixture
def role_prefix(monkeypatch):
    prefix = f"sg17_{uuid.uuid4().hex[:6]}"
    monkeypatch.setenv("SHOPGUIDE_ROLE_PREFIX", prefix)
    return prefix


def test_published_layer(any_settings, role_prefix, tmp_path, monkeypatch):
    settings = any_settings.with_(retention_runs=3, role_prefix=role_prefix)
    wh = open_warehouse(settings)
    _build(settings)
    from shopguide.pipeline import ensure_published_tables

    ensure_published_tables(settings)
    _seed_older_runs(wh)
    oldest = OLDER[0].isoformat()
    try:
        # A publication that fails after its retention step leaves everything as it was:
        # the oldest run date is still there, the new run is not.
        def broken(*args, **kwargs):
            raise RuntimeError("injected failure after retention")

        monkeypatch.setattr(layer, "create_views", broken)
        with pytest.raises(RuntimeError, match="injected"):
            publish(settings, RUN_DAY)
        assert oldest in _run_dates(wh, "recommendations")
        assert RUN_DATE not in _run_dates(wh, "recommendations")
        monkeypatch.undo()
        monkeypatch.setenv("SHOPGUIDE_ROLE_PREFIX", role_prefix)

        result = publish(settings, RUN_DAY)
        # Retention (3 run dates): the oldest went in the publish transaction.
        assert result["retention_deleted"] == {"recommendations": 1}
        assert _run_dates(wh, "recommendations") == {
            *(d.isoformat() for d in OLDER[1:]),
            RUN_DATE,
            (RUN_DAY + dt.timedelta(days=1)).isoformat(),  # the failed run's leftover row
        }

        # _latest: only the latest successful run's rows, never the failed run's.
        latest = wh.query_df("SELECT * FROM published.recommendations_latest")
        assert {str(d)[:10] for d in latest["run_date"]} == {RUN_DATE} and len(latest) == 8
        for table in PUBLISHED_TABLES:
            column = latest_column(table)  # scored_on for the realized-performance tables
            dates = wh.query_df(f"SELECT DISTINCT {column} FROM published.{table}_latest")
            assert {str(d)[:10] for d in dates[column]} <= {RUN_DATE}, table

        # BI names every recommended article through published relations alone.
        join = (
            "SELECT r.customer_id, r.article_id, a.prod_name, a.department_name "
            "FROM published.recommendations_latest r "
            "JOIN published.articles_latest a ON a.article_id = r.article_id"
        )
        named = wh.query_df(join)
        assert len(named) == 8 and named["prod_name"].notna().all()

        # Keys on both engines; every published column is commented.
        keys = wh.query_df(
            "SELECT table_name FROM information_schema.table_constraints "
            "WHERE table_schema = 'published' AND constraint_type = 'PRIMARY KEY'"
        )
        assert set(PUBLISHED_KEYS) & set(PUBLISHED_TABLES) <= set(keys["table_name"])
        commented = _assert_every_column_commented(wh)

        # Email: the audience is the latest list, both groups, opted in now.
        listed = set(
            wh.query_df("SELECT customer_id FROM published.email_campaign_list_latest")[
                "customer_id"
            ]
        )
        assert listed == {"c1", "c4"} == _audience(settings)
        groups = set(
            wh.query_df("SELECT campaign_group FROM published.email_audience")["campaign_group"]
        )
        assert groups <= {"treatment", "control"}

        marketing = bi = None
        if wh.kind == "postgres":
            marketing, bi = f"{role_prefix}_marketing", f"{role_prefix}_bi"
            url = settings.warehouse_url
            assert _role_query(url, bi, join) is not None and len(_role_query(url, bi, join)) == 8
            for private in ("marts.customer_profiles", "raw.customers", "consent.email_consent"):
                assert _role_query(url, bi, f"SELECT 1 FROM {private}") is None, private
                assert _role_query(url, marketing, f"SELECT 1 FROM {private}") is None, private
            for other in ("email_campaign_list", "recommendations", "customer_segments"):
                sql = f"SELECT 1 FROM published.{other}"
                assert _role_query(url, marketing, sql) is None, other
            assert _audience(settings, marketing) == {"c1", "c4"}

        # After yesterday's run: c4 is suppressed by the email tool's file (hashed key),
        # c1 opts out in today's customer file. Neither is in the audience once today's
        # ingest ran, without rebuilding or republishing anything.
        source = tmp_path / "source"
        source.mkdir()
        pd.DataFrame({"customer_hash": [customer_hash("c4")], "suppressed_on": [RUN_DATE]}).to_csv(
            source / "suppressions_unsubscribes.csv", index=False
        )
        refresh_consent(settings.with_(source_path=str(source)), RUN_DAY)
        assert _audience(settings, marketing) == {"c1"}
        wh.execute(
            "UPDATE raw.customers SET fashion_news_frequency = 'NONE' WHERE customer_id = 'c1'"
        )
        refresh_consent(settings, RUN_DAY)
        assert _audience(settings, marketing) == set()
        # c1 opts in again; `shopguide suppress c1` takes them out at once, for good.
        wh.execute(
            "UPDATE raw.customers SET fashion_news_frequency = 'Regularly' WHERE customer_id = 'c1'"
        )
        refresh_consent(settings, RUN_DAY)
        assert _audience(settings, marketing) == {"c1"}
        assert suppress(settings, ["c1"]) == 1 and suppress(settings, ["c1"]) == 0
        assert _audience(settings, marketing) == set()
        refresh_consent(settings, RUN_DAY)  # the next ingest keeps every suppression
        build_published(settings, RUN_DATE)  # and the next list leaves them out
        rebuilt = wh.query_df("SELECT customer_id FROM publish_candidates.email_campaign_list")
        assert set(rebuilt["customer_id"]) == set()

        if wh.kind == "duckdb":
            bi_file = layer.bi_file_path(settings)
            import duckdb

            with duckdb.connect(str(bi_file), read_only=True) as con:
                assert con.execute(join).fetchall() and len(con.execute(join).fetchall()) == 8
                cols = con.execute(
                    "SELECT count(*) FROM duckdb_columns() WHERE schema_name = 'published' "
                    "AND comment IS NOT NULL AND table_name NOT LIKE '%_latest'"
                ).fetchone()[0]
                assert cols >= sum(len(c) for c in PUBLISHED_TABLES.values())
            # Forgetting a customer rewrites the BI copy too.
            from shopguide.privacy import forget_customer

            assert forget_customer(settings, "c1")["BI file rewritten"] == 1
            with duckdb.connect(str(bi_file), read_only=True) as con:
                left = con.execute(
                    "SELECT count(*) FROM published.recommendations WHERE customer_id = 'c1'"
                ).fetchone()[0]
                assert left == 0
        print(f"\n[{wh.kind}] {commented} published columns commented; keys on {len(keys)} tables")
    finally:
        if wh.kind == "postgres":
            from shopguide.access import drop_roles

            drop_roles(settings, role_prefix)


def test_every_published_column_is_described_in_dbt(tmp_path):
    assert layer.undescribed_columns(make_settings(tmp_path)) == []


def test_monthly_news_customers_are_listed_at_most_once_in_30_days(tmp_path):
    """c4 asked for monthly news, c1 for regular news; both were listed 10 days ago."""
    from shopguide.consent import ensure_consent_tables

    settings = make_settings(tmp_path)
    wh = open_warehouse(settings)
    ensure_consent_tables(wh)

    def listed_on(days_ago: int) -> set[str]:
        day = RUN_DAY - dt.timedelta(days=days_ago)
        wh.execute("DELETE FROM consent.email_listings")
        wh.execute(
            "INSERT INTO consent.email_listings VALUES ('c1', CAST(? AS DATE)), ('c4', CAST(? AS DATE))",
            [day, day],
        )
        build_published(settings, RUN_DATE)
        emails = wh.query_df("SELECT customer_id FROM publish_candidates.email_campaign_list")
        return set(emails["customer_id"])

    _build(settings)
    assert listed_on(10) == {"c1"}
    assert listed_on(30) == {"c1", "c4"}  # 30 days later: due again
    assert listed_on(0) == {"c1", "c4"}  # a rerun of the same date is no earlier listing
