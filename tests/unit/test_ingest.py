"""Ingest: row checks into quarantine, the rate limit, idempotent keyed loads."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest

from shopguide.ingest import IngestError, ingest
from shopguide.sources import SourceData
from shopguide.warehouse import open_warehouse
from support import make_settings


def shop(
    transactions: list[tuple], articles=("0000000001", "0000000002"), customers=("c1", "c2")
) -> SourceData:
    return SourceData(
        customers=pd.DataFrame(
            {
                "customer_id": list(customers),
                "fn": [1.0] * len(customers),
                "active": [1.0] * len(customers),
                "club_member_status": ["ACTIVE"] * len(customers),
                "fashion_news_frequency": ["Regularly"] * len(customers),
                "age": [30.0] * len(customers),
                "postal_code": ["p"] * len(customers),
            }
        ),
        articles=pd.DataFrame(
            {
                "article_id": list(articles),
                "prod_name": [f"Item {a[-1]}" for a in articles],
                "product_type_name": ["T-shirt"] * len(articles),
                "product_group_name": ["Garment Upper body"] * len(articles),
            }
        ),
        transactions=pd.DataFrame(
            transactions,
            columns=["t_dat", "customer_id", "article_id", "price", "sales_channel_id", "quantity"],
        ).assign(t_dat=lambda d: pd.to_datetime(d["t_dat"], errors="coerce")),
        files={
            "transactions": "/data/transactions.csv",
            "articles": "/data/articles.csv",
            "customers": "/data/customers.csv",
        },
    )


GOOD = [(f"2024-01-0{1 + i % 5}", "c1", "0000000001", 10.0, 2, 1) for i in range(40)]


def test_bad_rows_are_quarantined_with_reasons(tmp_path):
    settings = make_settings(tmp_path, quarantine_max_rate=0.2)
    bad = [
        ("2024-01-02", "c1", "0000000009", 10.0, 2, 1),  # unknown article
        ("2024-01-02", "c1", "0000000001", -1.0, 2, 1),  # negative price
        ("not a date", "c1", "0000000001", 10.0, 2, 1),
        ("2024-01-02", "c1", "0000000001", 10.0, 2, 10000),  # outlier
    ]
    result = ingest(settings, date(2024, 1, 5), shop(GOOD + bad))
    assert result["transactions"] == 40 and result["quarantined"] == 4
    wh = open_warehouse(settings)
    q = wh.query_df(
        "SELECT source, entity, row_number, reason, record FROM raw.quarantine ORDER BY row_number"
    )
    assert set(q["source"]) == {"/data/transactions.csv"}
    assert q["row_number"].tolist() == [41, 42, 43, 44]  # 1-based rows of the file
    reasons = " | ".join(q["reason"])
    for expected in ("not in the article catalogue", "zero or negative", "not a date", "outlier"):
        assert expected in reasons
    assert json.loads(q["record"].iloc[0])["article_id"] == "0000000009"


def test_too_many_bad_rows_stop_the_run_and_load_nothing(tmp_path):
    settings = make_settings(tmp_path, quarantine_max_rate=0.05)
    bad = [("2024-01-02", "c1", "0000000001", 0.0, 2, 1)] * 10
    with pytest.raises(
        IngestError,
        match=r"transactions from /data/transactions.csv: 10 of 50 rows .*price is zero or negative",
    ):
        ingest(settings, date(2024, 1, 5), shop(GOOD + bad))
    assert not open_warehouse(settings).table_exists("raw", "transactions")


def test_loading_the_same_date_twice_leaves_the_same_rows(tmp_path):
    settings = make_settings(tmp_path)
    ingest(settings, date(2024, 1, 5), shop(GOOD))
    wh = open_warehouse(settings)
    before = wh.query_df("SELECT * FROM raw.transactions ORDER BY t_dat, customer_id")
    ingest(settings, date(2024, 1, 5), shop(GOOD))
    after = wh.query_df("SELECT * FROM raw.transactions ORDER BY t_dat, customer_id")
    pd.testing.assert_frame_equal(before, after)
    assert wh.scalar("SELECT count(*) FROM raw.articles") == 2
    assert wh.scalar("SELECT count(*) FROM raw.customers") == 2


def test_run_date_bounds_the_load_and_later_runs_append_only_their_window(tmp_path):
    settings = make_settings(tmp_path)
    history = [(f"2024-01-{d:02d}", "c1", "0000000001", 10.0, 2, 1) for d in range(1, 31)]
    ingest(settings, date(2024, 1, 20), shop(history))
    wh = open_warehouse(settings)
    assert str(wh.scalar("SELECT max(t_dat) FROM raw.transactions"))[:10] == "2024-01-20"
    result = ingest(settings, date(2024, 1, 21), shop(history))
    assert result["window_start"] == "2024-01-15"  # the lookback re-reads late rows only
    assert wh.scalar("SELECT count(*) FROM raw.transactions") == 21


def test_duplicate_and_keyless_dimension_rows_are_quarantined(tmp_path):
    settings = make_settings(tmp_path, quarantine_max_rate=0.5)
    data = shop(
        GOOD, articles=("0000000001", "0000000001", "0000000002"), customers=("c1", "c1", "c2")
    )
    data.customers.loc[1, "age"] = 400.0
    result = ingest(settings, date(2024, 1, 5), data)
    assert result["articles"] == 2 and result["customers"] == 2
    q = open_warehouse(settings).query_df("SELECT entity, reason FROM raw.quarantine")
    assert sorted(q["entity"]) == ["articles", "customers"]
    assert all("duplicate" in r for r in q["reason"])


def test_articles_keep_the_day_they_first_appeared(tmp_path):
    settings = make_settings(tmp_path)
    ingest(settings, date(2024, 1, 5), shop(GOOD))
    wh = open_warehouse(settings)
    first = dict(wh.query_df("SELECT article_id, first_seen_date FROM raw.articles").values)
    # The first load's catalogue is as old as the history, sold or not.
    assert {str(v)[:10] for v in first.values()} == {"2024-01-01"}

    later = shop(GOOD, articles=("0000000001", "0000000002", "0000000003"))
    ingest(settings, date(2024, 1, 6), later)
    ingest(settings, date(2024, 1, 7), later)
    seen = {
        k: str(v)[:10]
        for k, v in wh.query_df("SELECT article_id, first_seen_date FROM raw.articles").values
    }
    assert seen == {
        "0000000001": "2024-01-01",
        "0000000002": "2024-01-01",
        "0000000003": "2024-01-06",
    }


def test_the_same_file_and_run_date_load_the_same_rows_on_any_day(tmp_path, monkeypatch):
    """No wall clock in what is loaded or quarantined: the run date alone decides which
    rows are later days' business (ignored) and which are impossibly far in the future
    (quarantined). Run once "the day after" the run date and once two years later."""
    import datetime as real

    import shopguide.ingest as ingest_module

    rows = GOOD + [
        ("2024-02-15", "c1", "0000000001", 10.0, 2, 1),  # a later day's sale: not loaded
        ("2099-01-01", "c1", "0000000001", 10.0, 2, 1),  # impossible: quarantined
    ]

    def load_on(today: real.date, name: str):
        class FakeDatetime(real.datetime):
            @classmethod
            def now(cls, tz=None):
                return real.datetime.combine(today, real.time(3), tzinfo=tz)

        class FakeDate(real.date):
            @classmethod
            def today(cls):
                return today

        monkeypatch.setattr(ingest_module, "datetime", FakeDatetime, raising=False)
        monkeypatch.setattr(ingest_module, "date", FakeDate, raising=False)
        settings = make_settings(tmp_path / name, quarantine_max_rate=0.1)
        ingest(settings, date(2024, 1, 5), shop(rows))
        wh = open_warehouse(settings)
        tx = wh.query_df("SELECT t_dat, customer_id, quantity FROM raw.transactions ORDER BY 1, 2")
        bad = wh.query_df("SELECT reason, record FROM raw.quarantine ORDER BY 1, 2")
        return tx, bad

    tx_soon, bad_soon = load_on(real.date(2024, 1, 6), "soon")
    tx_late, bad_late = load_on(real.date(2026, 1, 6), "late")
    pd.testing.assert_frame_equal(tx_soon, tx_late)
    pd.testing.assert_frame_equal(bad_soon, bad_late)
    assert len(tx_soon) == len(GOOD)
    assert bad_soon.reason.str.contains("t_dat in the future").sum() == 1
