"""The warehouse adapter on DuckDB and on the real PostgreSQL server."""

from __future__ import annotations

import threading
from datetime import date

import duckdb
import pandas as pd
import psycopg
import pytest

from shopguide.schema import PUBLISHED_TABLES
from shopguide.settings import load_settings
from shopguide.warehouse import open_warehouse, qident
from support import make_settings

ENGINE_ERRORS = (duckdb.Error, psycopg.Error)
COLUMNS = {"day": "DATE", "name": "VARCHAR", "value": "DOUBLE PRECISION"}


def frame(day: str, *values: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "day": [date.fromisoformat(day)] * len(values),
            "name": [f"n{i}" for i in range(len(values))],
            "value": list(values),
        }
    )


def test_replace_rows_is_idempotent_and_keyed(any_settings):
    wh = open_warehouse(any_settings)
    wh.replace_rows("raw", "t", frame("2024-01-01", 1, 2), COLUMNS, "day", [date(2024, 1, 1)])
    wh.replace_rows("raw", "t", frame("2024-01-02", 3), COLUMNS, "day", [date(2024, 1, 2)])
    wh.replace_rows("raw", "t", frame("2024-01-01", 1, 2), COLUMNS, "day", [date(2024, 1, 1)])
    got = wh.query_df(
        "SELECT day, count(*) AS n, sum(value) AS s FROM raw.t GROUP BY day ORDER BY day"
    )
    assert got["n"].tolist() == [2, 1]
    assert got["s"].tolist() == [3.0, 3.0]


def test_failed_load_leaves_previous_rows(any_settings):
    wh = open_warehouse(any_settings)
    wh.replace_rows("raw", "t", frame("2024-01-01", 1, 2), COLUMNS, "day", [date(2024, 1, 1)])
    bad = frame("2024-01-01", 5).assign(value=["not a number"])
    with pytest.raises(ENGINE_ERRORS):
        wh.replace_rows("raw", "t", bad, COLUMNS, "day", [date(2024, 1, 1)])
    assert wh.scalar("SELECT count(*) FROM raw.t") == 2


def test_execute_in_and_insert_frame_join_the_callers_transaction(any_settings):
    """The public statement and bulk paths other modules use run inside the caller's
    transaction: committed together, or rolled back together."""
    wh = open_warehouse(any_settings)
    with wh.transaction() as con:
        wh.ensure_table(con, "raw", "t", COLUMNS)
        wh.insert_frame(con, "raw", "t", frame("2024-01-01", 1, 2, 3))
        wh.execute_in(con, f"DELETE FROM raw.t WHERE value = {wh.param}", [2.0])
    assert sorted(wh.query_df("SELECT value FROM raw.t")["value"]) == [1.0, 3.0]
    with pytest.raises(RuntimeError), wh.transaction() as con:
        wh.insert_frame(con, "raw", "t", frame("2024-01-02", 7))
        wh.execute_in(con, "DELETE FROM raw.t WHERE value = 1")
        raise RuntimeError("the caller fails")
    assert sorted(wh.query_df("SELECT value FROM raw.t")["value"]) == [1.0, 3.0]


def test_spark_inputs_are_exported_sorted_by_every_column(any_settings, tmp_path):
    from shopguide.pipeline import ordered_select

    wh = open_warehouse(any_settings)
    # Rows loaded in a shuffled order, with ties on the leading columns.
    rows = frame("2024-01-02", 3, 1, 2).assign(name=["b", "a", "a"])
    rows = pd.concat([rows, frame("2024-01-01", 9, 0), rows.iloc[[1]]]).sample(
        frac=1, random_state=3
    )
    wh.replace_rows("raw", "t", rows, COLUMNS, "day", sorted(set(rows["day"])))
    out = tmp_path / "t.parquet"
    assert wh.export_parquet(ordered_select(wh, "raw.t"), str(out)) == len(rows)
    got = pd.read_parquet(out)
    assert list(zip(got["name"], got["value"], strict=True)) == [
        ("n0", 9.0), ("n1", 0.0), ("a", 1.0), ("a", 1.0), ("a", 2.0), ("b", 3.0)
    ]  # fmt: skip


def _candidates(wh, run_date: str, n: int) -> None:
    recs = pd.DataFrame(
        {
            "run_date": [date.fromisoformat(run_date)] * n,
            "customer_id": [f"c{i}" for i in range(n)],
            "rank": [1] * n,
            "article_id": ["a"] * n,
            "score": [1.0] * n,
            "reason": ["popular with customers like you"] * n,
        }
    )
    for table, columns in PUBLISHED_TABLES.items():
        df = recs if table == "recommendations" else pd.DataFrame(columns=list(columns))
        wh.replace_rows(
            "publish_candidates", table, df, columns, "run_date", [date.fromisoformat(run_date)]
        )


def test_publish_swaps_one_run_atomically(any_settings):
    wh = open_warehouse(any_settings)
    _candidates(wh, "2024-01-01", 3)
    counts = wh.publish("2024-01-01", PUBLISHED_TABLES, "publish_candidates", "published")
    assert counts["recommendations"] == 3
    _candidates(wh, "2024-01-01", 5)
    wh.publish("2024-01-01", PUBLISHED_TABLES, "publish_candidates", "published")
    assert wh.scalar("SELECT count(*) FROM published.recommendations") == 5

    # A publication that fails half-way (a statement in the same transaction errors)
    # leaves the previous complete run in place.
    _candidates(wh, "2024-01-01", 7)
    with pytest.raises(ENGINE_ERRORS):
        wh.publish(
            "2024-01-01",
            PUBLISHED_TABLES,
            "publish_candidates",
            "published",
            extra=[("SELECT * FROM no_such_table", [])],
        )
    assert wh.scalar("SELECT count(*) FROM published.recommendations") == 5


@pytest.mark.postgres
def test_postgres_readers_never_see_a_mixed_run(tmp_path, pg_url):
    settings = make_settings(tmp_path, pg_url)
    wh = open_warehouse(settings)
    _candidates(wh, "2024-01-01", 50)
    wh.publish("2024-01-01", PUBLISHED_TABLES, "publish_candidates", "published")
    seen: set[int] = set()
    stop = threading.Event()

    def reader():
        while not stop.is_set():
            seen.add(int(wh.scalar("SELECT count(*) FROM published.recommendations")))

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for n in (200, 50, 200, 50):
            _candidates(wh, "2024-01-01", n)
            wh.publish("2024-01-01", PUBLISHED_TABLES, "publish_candidates", "published")
    finally:
        stop.set()
        thread.join()
    assert seen <= {50, 200}, f"a reader saw a partial run: {sorted(seen)}"


def test_identifiers_are_quoted():
    assert qident('we"ird') == '"we""ird"'


def test_settings_reject_unknown_warehouse(monkeypatch):
    monkeypatch.setenv("SHOPGUIDE_WAREHOUSE", "mysql://x")
    with pytest.raises(ValueError, match="SHOPGUIDE_WAREHOUSE"):
        load_settings()


def test_settings_pick_postgres(monkeypatch):
    monkeypatch.setenv("SHOPGUIDE_WAREHOUSE", "postgresql://u:p@h:5433/db")
    settings = load_settings()
    assert settings.warehouse_kind == "postgres"
    env = open_warehouse(settings).dbt_env()
    assert env["SHOPGUIDE_PG_PORT"] == "5433" and env["SHOPGUIDE_PG_DATABASE"] == "db"


def test_settings_name_the_role_prefix_and_the_alert_webhook(monkeypatch, tmp_path):
    """access.py and alerts.py take these from the settings, not from the environment."""
    from shopguide.access import ensure_roles, role_names
    from shopguide.settings import read_alert_webhook

    monkeypatch.delenv("SHOPGUIDE_ROLE_PREFIX", raising=False)
    monkeypatch.delenv("SHOPGUIDE_ALERT_WEBHOOK", raising=False)
    assert load_settings().role_prefix == "shopguide"
    assert read_alert_webhook() == load_settings().alert_webhook == ""
    monkeypatch.setenv("SHOPGUIDE_ROLE_PREFIX", "acme")
    monkeypatch.setenv("SHOPGUIDE_ALERT_WEBHOOK", "http://hooks.invalid/alert")
    settings = load_settings()
    assert role_names(settings.role_prefix) == {
        "pipeline": "acme_pipeline",
        "bi": "acme_bi",
        "marketing": "acme_marketing",
    }
    assert read_alert_webhook() == settings.alert_webhook == "http://hooks.invalid/alert"
    assert ensure_roles(make_settings(tmp_path)) == {}  # DuckDB has no roles


def test_delete_path_removes_files_and_directories(tmp_path):
    from shopguide.warehouse import delete_path, write_parquet

    write_parquet(pd.DataFrame({"a": [1]}), str(tmp_path / "out" / "part.parquet"))
    delete_path(str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()
    delete_path(str(tmp_path / "never-there"))  # nothing to remove is fine
