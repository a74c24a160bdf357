"""`shopguide forget`: a customer leaves every schema, and later loads keep them out."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd

from shopguide.ingest import ingest
from shopguide.privacy import FORGOTTEN_TABLE, customer_hash, forget_customer
from shopguide.schema import CUSTOMER_COLUMNS, QUARANTINE_COLUMNS
from shopguide.sources import SourceData
from support import make_settings

GONE, KEPT = "c'gone; DROP TABLE raw.customers;--", "c-kept"


def _customers(*ids):
    return pd.DataFrame(
        {
            "customer_id": list(ids),
            "fn": 1.0,
            "active": 1.0,
            "club_member_status": "ACTIVE",
            "fashion_news_frequency": "Regularly",
            "age": 30.0,
            "postal_code": "p",
        }
    )


def _transactions(*ids):
    return pd.DataFrame(
        {
            "t_dat": pd.to_datetime(["2024-01-02"] * len(ids)),
            "customer_id": list(ids),
            "article_id": "0000000001",
            "price": 10.0,
            "sales_channel_id": 2,
            "quantity": 1,
        }
    )


def _shop(*ids) -> SourceData:
    articles = pd.DataFrame(
        {
            "article_id": ["0000000001"],
            "prod_name": ["Tee"],
            "product_type_name": ["T-shirt"],
            "product_group_name": ["Garment Upper body"],
        }
    )
    return SourceData(
        customers=_customers(*ids), articles=articles, transactions=_transactions(*ids)
    )


def test_forget_removes_the_customer_everywhere_and_keeps_the_sales(any_settings):
    settings = any_settings
    ingest(settings, date(2024, 1, 5), _shop(GONE, KEPT))
    from shopguide.warehouse import open_warehouse

    wh = open_warehouse(settings)
    # Rows in other schemas, as dbt and publish leave them.
    for schema, table in (("marts", "customer_profiles"), ("published", "recommendations")):
        wh.replace_rows(
            schema, table, _customers(GONE, KEPT), CUSTOMER_COLUMNS, "customer_id", [GONE, KEPT]
        )
    record = json.dumps({"customer_id": GONE, "price": "-1"}, sort_keys=True)
    quarantine = pd.DataFrame(
        [
            {
                "run_date": date(2024, 1, 5),
                "source": "f",
                "entity": "transactions",
                "row_number": 3,
                "reason": "r",
                "record": record,
            }
        ]
    )
    wh.replace_rows(
        "raw", "quarantine", quarantine, QUARANTINE_COLUMNS, "run_date", [date(2024, 1, 5)]
    )

    # The lake: a run partition (scratch copies) and a kept ranker (learnt from the
    # customer's purchases) go; anything else stays.
    lake = Path(settings.lake)
    kept = {
        "run": lake / "run_date=2024-01-05" / "inputs" / "customers.parquet",
        "ranker": lake / "models" / "ranker" / "label_until=2023-12-29" / "part-0.txt",
        "other": lake / "tmp" / "note.txt",
    }
    for path in kept.values():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")

    removed = forget_customer(settings, GONE)

    assert removed["lake run partitions"] == 2
    assert not kept["run"].exists() and not kept["ranker"].exists() and kept["other"].exists()
    assert removed["raw.customers"] == 1 and removed["published.recommendations"] == 1
    assert removed["raw.quarantine"] == 1 and removed["raw.transactions"] == 1
    for table in (
        "raw.customers",
        "marts.customer_profiles",
        "published.recommendations",
        "raw.transactions",
    ):
        ids = set(wh.query_df(f"SELECT customer_id FROM {table}")["customer_id"].dropna())
        assert GONE not in ids and KEPT in ids, table
    assert wh.scalar("SELECT count(*) FROM raw.transactions") == 2  # the sale stays, anonymized
    assert wh.scalar("SELECT count(*) FROM raw.quarantine") == 0
    hashes = wh.query_df(f"SELECT customer_hash FROM raw.{FORGOTTEN_TABLE}")[
        "customer_hash"
    ].tolist()
    assert hashes == [customer_hash(GONE)]  # a digest, not the id

    # The next export still holds the customer: the load drops them again.
    result = ingest(settings, date(2024, 1, 6), _shop(GONE, KEPT))
    assert result["forgotten_customers_dropped"] == 1
    assert GONE not in set(wh.query_df("SELECT customer_id FROM raw.customers")["customer_id"])
    assert GONE not in set(
        wh.query_df("SELECT customer_id FROM raw.transactions")["customer_id"].dropna()
    )


def test_forgetting_twice_or_an_unknown_id_is_harmless(tmp_path):
    settings = make_settings(tmp_path)
    ingest(settings, date(2024, 1, 5), _shop(KEPT))
    assert forget_customer(settings, "nobody") == {}
    assert forget_customer(settings, "nobody") == {}
    from shopguide.warehouse import open_warehouse

    wh = open_warehouse(settings)
    assert wh.scalar(f"SELECT count(*) FROM raw.{FORGOTTEN_TABLE}") == 1
    assert wh.scalar("SELECT count(*) FROM raw.customers") == 1
