"""A tiny, hand-checkable shop for the dbt tests: raw.* plus the Spark outputs.

Run date 2020-09-22. The numbers the tests assert are worked out in the comments.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from shopguide.schema import (
    ARTICLE_COLUMNS,
    CUSTOMER_COLUMNS,
    LOAD_COLUMN,
    OUTPUTS_SCHEMA,
    PUBLISHED_TABLES,
    RAW_SCHEMA,
    TRANSACTION_COLUMNS,
)
from shopguide.warehouse import Warehouse

RUN_DATE = "2020-09-22"
RUN_DAY = dt.date.fromisoformat(RUN_DATE)
OTHER_RUN_DAY = RUN_DAY - dt.timedelta(days=1)  # an older run's outputs: must be ignored


def article_id(n: int) -> str:
    return f"{n:010d}"


def days_ago(n: int) -> dt.date:
    return RUN_DAY - dt.timedelta(days=n)


CUSTOMERS = pd.DataFrame(
    [
        # customer_id, fn, active, club_member_status, fashion_news_frequency, age, postal_code
        ("c1", 1.0, 1.0, "ACTIVE", "Regularly", 23.0, "pc-a"),  # opted in, 16-24
        ("c2", None, None, "ACTIVE", "NONE", 40.0, "pc-a"),  # opted out (no news), 35-44
        ("c3", 1.0, 1.0, "PRE-CREATE", "Monthly", 70.0, "pc-b"),  # opted out (not active), 65+
        ("c4", 1.0, 1.0, "ACTIVE", "Monthly", None, "pc-b"),  # opted in, unknown age, no purchases
        ("c5", None, None, "ACTIVE", "Regularly", 25.0, None),  # opted in, 25-34 (band edge)
    ],
    columns=list(CUSTOMER_COLUMNS),
)

_ARTICLE_ROWS = [
    # n, prod_name, product_type_name, product_group_name, colour, department, index_group
    (1, "Tee", "T-shirt", "Garment Upper body", "Black", "Jersey Basic", "Ladieswear"),
    (2, "Skinny", "Trousers", "Garment Lower body", "Blue", "Denim", "Ladieswear"),
    (3, "Hoodie", "Sweater", "Garment Upper body", "Grey", "Jersey Fancy", "Menswear"),
    (
        4,
        "Tee 2",
        "T-shirt",
        "Garment Upper body",
        "White",
        "Jersey Basic",
        "Ladieswear",
    ),  # never sold
    (5, "Dress", "Dress", "Garment Full body", "Red", "Dresses", "Ladieswear"),
    (
        6,
        "Old coat",
        "Coat",
        "Garment Upper body",
        "Black",
        "Outdoor",
        "Menswear",
    ),  # sold 200 days ago
]
ARTICLES = pd.DataFrame(
    [
        {
            "article_id": article_id(n),
            "product_code": 100 + n,
            "prod_name": name,
            "product_type_name": ptype,
            "product_group_name": group,
            "graphical_appearance_name": "Solid",
            "colour_group_name": colour,
            "perceived_colour_master_name": colour,
            "department_name": dept,
            "index_name": index_group,
            "index_group_name": index_group,
            "section_name": dept,
            "garment_group_name": dept,
            "detail_desc": f"{name} in {colour.lower()}",
            # Article 4 was listed two days ago and has not sold yet; the rest are old.
            "first_seen_date": days_ago(2) if n == 4 else days_ago(400),
        }
        for n, name, ptype, group, colour, dept, index_group in _ARTICLE_ROWS
    ],
    columns=list(ARTICLE_COLUMNS),
)

TRANSACTIONS = pd.DataFrame(
    [
        # t_dat, customer_id, article_id, price, sales_channel_id, quantity
        (days_ago(0), "c1", article_id(1), 10.0, 2, 1),  # weight 1
        (days_ago(30), "c1", article_id(1), 12.0, 2, 2),  # 2 units x 0.5 = 1 -> c1/a1 weight 2
        (days_ago(60), "c1", article_id(2), 30.0, 1, 1),  # 0.25
        (days_ago(1), "c2", article_id(2), 30.0, 1, 1),
        (days_ago(2), None, article_id(3), 20.0, 1, 3),  # anonymous: sales only
        (days_ago(3), "c5", article_id(5), 50.0, 2, None),  # quantity missing -> 1
        (days_ago(200), "c3", article_id(6), 80.0, 1, 1),  # old: not sellable any more
        (
            RUN_DAY + dt.timedelta(days=1),
            "c1",
            article_id(3),
            20.0,
            2,
            1,
        ),  # after run date: ignored
    ],
    columns=list(TRANSACTION_COLUMNS),
).astype({"quantity": "Int64", "sales_channel_id": "Int64"})  # integers with NULLs, as COPY needs

# c1 gets 6 recommendations (only the top 5 reach the email list); c2 is opted out.
RECOMMENDATIONS = pd.DataFrame(
    [
        (RUN_DAY, "c1", rank, article_id(n), 1.0 - rank / 10, "similar to your purchases")
        for rank, n in enumerate([3, 4, 5, 2, 1, 6], start=1)
    ]
    + [(RUN_DAY, "c2", 1, article_id(1), 0.9, "popular in your segment")]
    + [(RUN_DAY, "c4", 1, article_id(4), 0.5, "new in")]
    # an older run's rows in outputs: never published for RUN_DATE
    + [(OTHER_RUN_DAY, "c1", 1, article_id(1), 0.1, "old run")],
    columns=list(PUBLISHED_TABLES["recommendations"]),
)

DEMAND_FORECAST = pd.DataFrame(
    [
        (RUN_DAY, article_id(n), RUN_DAY + dt.timedelta(days=d), 0.0, 1.0 * n, 2.0 * n, "ets")
        for n in (1, 2)
        for d in (1, 2)
    ]
    + [(OTHER_RUN_DAY, article_id(1), RUN_DAY, 0.0, 1.0, 2.0, "ets")],
    columns=list(PUBLISHED_TABLES["demand_forecast"]),
)


# Articles 1 and 4 (both T-shirts) are alike; 2 is like 1 only by its department.
SIMILAR_ARTICLES = pd.DataFrame(
    [
        (RUN_DAY, article_id(1), 1, article_id(4), 0.92),
        (RUN_DAY, article_id(1), 2, article_id(2), 0.31),
        (RUN_DAY, article_id(4), 1, article_id(1), 0.92),
        (RUN_DAY, article_id(2), 1, article_id(1), 0.31),
        (OTHER_RUN_DAY, article_id(1), 1, article_id(1), 1.0),  # older run: never published
    ],
    columns=list(PUBLISHED_TABLES["similar_articles"]),
)

# Tee (upper body) goes with the trousers (lower body); the dress has no co-purchases,
# so it gets the best seller of another group with support 0 (the job's fallback).
OUTFIT_COMPLEMENTS = pd.DataFrame(
    [
        (RUN_DAY, article_id(1), 1, article_id(2), 2.5, 3),
        (RUN_DAY, article_id(2), 1, article_id(1), 2.5, 3),
        (RUN_DAY, article_id(2), 2, article_id(3), 1.2, 1),
        (RUN_DAY, article_id(5), 1, article_id(1), 0.01, 0),
        (OTHER_RUN_DAY, article_id(1), 1, article_id(4), 0.5, 1),  # same group, older run
    ],
    columns=list(PUBLISHED_TABLES["outfit_complements"]),
)

# Holdout metrics of two models at k = 12; novelty is self-information in bits (> 1).
MODEL_METRICS = pd.DataFrame(
    [
        (RUN_DAY, "hybrid", 12, 0.05, 0.2, 0.08, 0.12, 0.5, 2.3, 0.6),
        (RUN_DAY, "baseline", 12, 0.03, 0.1, 0.04, 0.07, 0.2, 1.1, 0.4),
        (OTHER_RUN_DAY, "hybrid", 12, 0.04, 0.1, 0.05, 0.08, 0.4, 2.0, 0.5),
    ],
    columns=list(PUBLISHED_TABLES["model_metrics"]),
)

# Backtest errors; undefined metrics are NULL (MASE and coverage of weekly rows, a
# WAPE where nothing was sold).
FORECAST_METRICS = pd.DataFrame(
    [
        (RUN_DAY, "article", "shopguide", 28, 0.8, 0.9, -0.05, 0.82),
        (RUN_DAY, "article", "seasonal_naive", 28, 1.1, 1.2, 0.01, None),
        (RUN_DAY, "shop_weekly", "shopguide", 28, 0.2, None, -0.05, None),
        (RUN_DAY, "department", "shopguide", 28, None, None, None, None),
        (OTHER_RUN_DAY, "article", "shopguide", 28, 0.7, 0.8, 0.0, 0.8),
    ],
    columns=list(PUBLISHED_TABLES["forecast_metrics"]),
)


def _with_load_date(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame[LOAD_COLUMN] = RUN_DAY
    return frame


def seed_raw(wh: Warehouse) -> None:
    """raw.customers, raw.articles, raw.transactions as the ingest step would leave them."""
    for table, frame, columns, key in (
        ("customers", CUSTOMERS, CUSTOMER_COLUMNS, "customer_id"),
        ("articles", ARTICLES, ARTICLE_COLUMNS, "article_id"),
        ("transactions", TRANSACTIONS, TRANSACTION_COLUMNS, "t_dat"),
    ):
        cols = {**columns, LOAD_COLUMN: "DATE"}
        wh.replace_rows(RAW_SCHEMA, table, _with_load_date(frame), cols, key, frame[key].tolist())


def seed_outputs(wh: Warehouse, recommendations: pd.DataFrame | None = None, **frames) -> None:
    """Every outputs.* table as load_outputs would leave it; ``frames`` replace one by name
    (an empty frame: the table exists without rows, like a run without a backtest)."""
    outputs = {
        "recommendations": RECOMMENDATIONS if recommendations is None else recommendations,
        "demand_forecast": DEMAND_FORECAST,
        "similar_articles": SIMILAR_ARTICLES,
        "outfit_complements": OUTFIT_COMPLEMENTS,
        "model_metrics": MODEL_METRICS,
        "forecast_metrics": FORECAST_METRICS,
    }
    unknown = set(frames) - set(outputs)
    if unknown:
        raise ValueError(f"seed_outputs: no outputs table {sorted(unknown)}")
    outputs.update(frames)
    for table, frame in outputs.items():
        wh.replace_rows(
            OUTPUTS_SCHEMA,
            table,
            frame,
            PUBLISHED_TABLES[table],
            "run_date",
            [RUN_DAY, OTHER_RUN_DAY],
        )
