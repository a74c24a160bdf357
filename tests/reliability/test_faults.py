"""Kill the nightly run for real (SIGKILL to the whole process group: CLI, Spark JVM,
Python workers) during ingest, a Spark job, the warehouse load and publication; then
rerun. Each time the published tables must still hold the previous complete run, and
the rerun must equal a clean run of the same data on an empty warehouse.

The scenario is a late file: sales of an already published day arrive after its run,
so the rerun changes that day's published rows and a mix of old and new is visible.
On DuckDB the suite also backfills two days, checks that a late file for the earlier
day reprocesses that day only, and forgets a customer. On PostgreSQL a BI reader
queries the published tables in a loop the whole time and must never see a mix.
"""

from __future__ import annotations

import json
import threading
import uuid

import pandas as pd
import pytest
from harness import (
    LEDGER,
    Reader,
    differences,
    pipeline_env,
    published,
    shopguide,
    with_late_file,
)

from shopguide.faults import POINTS
from shopguide.privacy import _tables_with_customer_id
from shopguide.settings import load_settings
from shopguide.warehouse import open_warehouse, qualified

pytestmark = pytest.mark.slow

EARLIER, DAY, NEXT = "2024-03-29", "2024-03-30", "2024-03-31"


def warehouse(url: str):
    return open_warehouse(load_settings(warehouse_url=url))


def run_ok(env, *args) -> None:
    out = shopguide(env, *args)
    assert out.returncode == 0, f"shopguide {' '.join(args)} failed:\n{out.stderr[-3000:]}"


def in_background(env, *args) -> threading.Thread:
    """A clean reference run, in parallel with the scenario (the machine has 2 cores)."""
    errors: list[str] = []

    def target() -> None:
        out = shopguide(env, *args)
        if out.returncode != 0:
            errors.append(out.stderr[-3000:])

    thread = threading.Thread(target=target, daemon=True)
    thread.errors = errors
    thread.start()
    return thread


def finish(thread: threading.Thread) -> None:
    thread.join(timeout=1200)
    assert not thread.is_alive(), "the reference run did not finish"
    assert not thread.errors, f"the reference run failed:\n{thread.errors[0]}"


def rows_lost(wh, source_dir, run_date: str) -> int:
    """Source sales up to the run date that are neither in raw.transactions nor quarantined."""
    files = sorted(source_dir.glob("transactions*.parquet"))
    src = pd.concat([pd.read_parquet(f) for f in files])
    src = src.assign(t_dat=pd.to_datetime(src["t_dat"]))  # ISO strings in the export
    src = src[src["t_dat"] <= pd.Timestamp(run_date)]
    raw = wh.query_df(
        f"SELECT t_dat, customer_id, article_id, price FROM raw.transactions WHERE t_dat <= CAST({wh.param} AS DATE)",
        [run_date],
    )
    quarantined = wh.scalar(
        "SELECT count(*) FROM raw.quarantine WHERE entity = 'transactions' AND run_date <= CAST("
        f"{wh.param} AS DATE)",
        [run_date],
    )
    key = ["t_dat", "customer_id", "article_id"]
    src_counts = src.assign(t_dat=pd.to_datetime(src["t_dat"])).groupby(key).size()
    raw_counts = raw.assign(t_dat=pd.to_datetime(raw["t_dat"])).groupby(key).size()
    missing = src_counts.sub(raw_counts, fill_value=0).clip(lower=0).sum()
    return int(max(missing - int(quarantined or 0), 0))


def kill_and_check(env, url, run_date, point, before: dict[str, dict], backend: str) -> None:
    """SIGKILL a rerun of ``run_date`` at ``point``; the published dates must be unchanged."""
    out = shopguide(env, "run", "--date", run_date, failpoint=point)
    assert out.killed_at == point, (
        f"the run never reached the {point} failpoint:\n{out.stderr[-3000:]}"
    )
    assert out.returncode == -9
    wh = warehouse(url)
    for day, snapshot in before.items():
        now = published(wh, day)
        assert differences(now, snapshot) == [], f"after a kill during {point}, {day} changed"
        assert now["_successful_runs"].equals(snapshot["_successful_runs"])
    LEDGER.faults.append(
        {"backend": backend, "point": point, "kept": True, "equal": None, "rows_lost": 0}
    )


def settle(backend: str, equal: bool, lost: int) -> None:
    for fault in LEDGER.faults:
        if fault["backend"] == backend and fault["equal"] is None:
            fault["equal"], fault["rows_lost"] = equal, lost


def test_kills_backfill_late_file_and_forget_on_duckdb(tmp_path, tiny_shop):
    late = with_late_file(tiny_shop, tmp_path / "shop_late", EARLIER)
    url = f"duckdb://{tmp_path / 'home' / 'warehouse.duckdb'}"
    ref_url = f"duckdb://{tmp_path / 'ref' / 'warehouse.duckdb'}"
    env_v1 = pipeline_env(tmp_path / "home", url, tiny_shop)
    env_v2 = pipeline_env(tmp_path / "home", url, late)
    reference = in_background(
        pipeline_env(tmp_path / "ref", ref_url, late), "run", "--date", EARLIER
    )

    # A backfill publishes each date exactly once.
    run_ok(env_v1, "backfill", "--from", EARLIER, "--to", DAY)
    wh = warehouse(url)
    before = {day: published(wh, day) for day in (EARLIER, DAY)}
    for snap in before.values():
        assert int(snap["_successful_runs"]["n"].iloc[0]) == 1
        recs = snap["recommendations"]
        assert len(recs) > 0 and not recs.duplicated(["customer_id", "rank"]).any()
        assert (
            len(snap["demand_forecast"]) > 0
            and not snap["demand_forecast"].duplicated(["article_id", "forecast_date"]).any()
        )
    LEDGER.checks.append(("duckdb backfill of 2 dates", "each date published exactly once"))

    # The late file for the earlier date: every rerun of that date is killed once per point.
    for point in POINTS:
        kill_and_check(env_v2, url, EARLIER, point, before, "duckdb")
    run_ok(env_v2, "run", "--date", EARLIER)
    wh = warehouse(url)
    after = published(wh, EARLIER)
    assert differences(after, before[EARLIER]) != [], (
        "the late file changed nothing: mixing would go unseen"
    )
    # Only the late file's date was reprocessed.
    assert differences(published(wh, DAY), before[DAY]) == []
    LEDGER.checks.append(
        ("duckdb late file for an earlier date", "that date reprocessed, the later one untouched")
    )

    finish(reference)
    ref = published(warehouse(ref_url), EARLIER)
    assert differences(after, ref) == [], "the rerun after the kills differs from a clean run"
    lost = rows_lost(wh, late, EARLIER)
    assert lost == 0
    settle("duckdb", True, lost)

    # Published tables carry no raw personal data: the age band, never age or postal code.
    published_columns = set(
        wh.query_df(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'published'"
        )["column_name"]
    )
    assert "age_band" in published_columns
    assert not published_columns & {
        "age",
        "postal_code",
        "region",
        "fn",
        "active",
        "fashion_news_frequency",
    }
    runs = wh.query_df(
        "SELECT * FROM published.pipeline_runs WHERE status = 'success' ORDER BY finished_at"
    )
    durations, counts = (
        json.loads(runs["task_durations"].iloc[-1]),
        json.loads(runs["row_counts"].iloc[-1]),
    )
    assert set(durations) >= {"ingest", "recommend", "forecast", "load_outputs", "validate_outputs"}
    assert counts["recommendations"] == len(after["recommendations"])
    LEDGER.checks.append(
        ("pipeline_runs", "each run: status, task durations, row counts per table")
    )

    # Forget a customer who is in the marketing list: gone everywhere now and after the next run.
    target = before[DAY]["email_campaign_list"]["customer_id"].iloc[0]
    bought = wh.scalar("SELECT count(*) FROM raw.transactions WHERE customer_id = ?", [target])
    anonymous = wh.scalar("SELECT count(*) FROM raw.transactions WHERE customer_id IS NULL")
    assert bought > 0
    run_ok(env_v2, "forget", target)
    assert holding(wh, target) == {}
    assert (
        wh.scalar("SELECT count(*) FROM raw.transactions WHERE customer_id IS NULL")
        == anonymous + bought
    )
    run_ok(env_v2, "run", "--date", NEXT)  # the export still holds the customer
    assert holding(wh, target) == {}
    next_recs = published(wh, NEXT)["recommendations"]
    assert len(next_recs) > 0 and target not in set(next_recs["customer_id"])
    lake_files = list((tmp_path / "home" / "lake").rglob("*.parquet"))
    assert lake_files and not any(target in _customer_ids(f) for f in lake_files)
    LEDGER.checks.append(
        (
            "duckdb forget CUSTOMER_ID",
            f"0 rows in {len(_tables_with_customer_id(wh))} tables and the lake, before and after the next run",
        )
    )


def holding(wh, customer_id: str) -> dict[str, int]:
    """Tables (any schema) that still hold rows of ``customer_id``."""
    found = {}
    for schema, table in _tables_with_customer_id(wh):
        n = wh.scalar(
            f"SELECT count(*) FROM {qualified(schema, table)} WHERE customer_id = {wh.param}",
            [customer_id],
        )
        if n:
            found[f"{schema}.{table}"] = int(n)
    return found


def _customer_ids(path) -> set:
    import pyarrow.parquet as pq

    if "customer_id" not in pq.read_schema(path).names:
        return set()
    return set(pq.read_table(path, columns=["customer_id"]).column(0).to_pylist())


@pytest.mark.postgres
def test_kills_and_a_concurrent_reader_on_postgres(tmp_path, tiny_shop, pg_databases):
    late = with_late_file(tiny_shop, tmp_path / "shop_late", DAY)
    url, ref_url = pg_databases(), pg_databases()
    roles = {"SHOPGUIDE_ROLE_PREFIX": f"sgrel_{uuid.uuid4().hex[:6]}"}
    env_v1 = pipeline_env(tmp_path / "home", url, tiny_shop, **roles)
    env_v2 = pipeline_env(tmp_path / "home", url, late, **roles)
    ref_env = pipeline_env(
        tmp_path / "ref", ref_url, late, SHOPGUIDE_ROLE_PREFIX=f"sgref_{uuid.uuid4().hex[:6]}"
    )
    reference = in_background(ref_env, "run", "--date", DAY)
    try:
        run_ok(env_v1, "run", "--date", DAY)
        wh = warehouse(url)
        before = {DAY: published(wh, DAY)}
        reader = Reader(url, DAY)
        reader.start()
        first = _fingerprint(url)
        for point in POINTS:
            kill_and_check(env_v2, url, DAY, point, before, "postgres")
        run_ok(env_v2, "run", "--date", DAY)
        reader.stop()
        second = _fingerprint(url)
        assert first != second, "the late file changed nothing: mixing would go unseen"
        assert not reader.errors, reader.errors[:3]
        mixed = [seen for seen in reader.seen if seen not in (first, second)]
        LEDGER.reader_queries += len(reader.seen)
        LEDGER.mixed_reads += len(mixed)
        assert len(reader.seen) > 10 and mixed == []

        finish(reference)
        after = published(wh, DAY)
        assert differences(after, published(warehouse(ref_url), DAY)) == []
        lost = rows_lost(wh, late, DAY)
        assert lost == 0
        settle("postgres", True, lost)
    finally:
        reference.join(timeout=1200)
        from shopguide.access import drop_roles

        drop_roles(load_settings(warehouse_url=url), env_v1["SHOPGUIDE_ROLE_PREFIX"])
        drop_roles(load_settings(warehouse_url=ref_url), ref_env["SHOPGUIDE_ROLE_PREFIX"])


def _fingerprint(url: str) -> tuple:
    import psycopg
    from harness import fingerprint_sql

    with psycopg.connect(url) as con:
        return tuple(con.execute(fingerprint_sql(DAY)).fetchone())
