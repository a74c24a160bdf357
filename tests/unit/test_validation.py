"""Great Expectations suites on a small DuckDB warehouse: clean data passes, each kind of
bad row stops the run with a message naming the table and the expectation."""

from __future__ import annotations

import filecmp
import shutil
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shopguide.schema import (
    ARTICLE_COLUMNS,
    CANDIDATE_SCHEMA,
    CUSTOMER_COLUMNS,
    LOAD_COLUMN,
    PUBLISHED_TABLES,
    RAW_SCHEMA,
    TRANSACTION_COLUMNS,
)
from shopguide.settings import REPO_ROOT, load_settings
from shopguide.warehouse import open_warehouse, qualified

validation = pytest.importorskip("shopguide.validation")

RUN_DATE = "2024-03-10"
DAY = date.fromisoformat(RUN_DATE)
TOP_K = 4


# -- small clean data ----------------------------------------------------------------------
def clean_customers() -> pd.DataFrame:
    n = 30
    return pd.DataFrame(
        {
            "customer_id": [f"cust{i:03d}" for i in range(n)],
            "fn": 1.0,
            "active": 1.0,
            # cust000..cust009 opted in; the rest are not (NONE / PRE-CREATE / NULL).
            "club_member_status": ["ACTIVE"] * 20 + ["PRE-CREATE"] * 5 + [None] * 5,
            "fashion_news_frequency": ["Regularly"] * 5
            + ["Monthly"] * 5
            + ["NONE"] * 10
            + ["Regularly"] * 5
            + [None] * 5,
            "age": [float(20 + i) for i in range(n - 2)] + [None, None],
            "postal_code": "x",
        }
    )


def clean_articles() -> pd.DataFrame:
    n = 12
    return pd.DataFrame(
        {
            "article_id": [f"{i:010d}" for i in range(n)],
            "product_code": 100,
            "prod_name": [f"Tee {i}" for i in range(n)],
            "product_type_name": "T-shirt",
            "product_group_name": "Garment Upper body",
            "colour_group_name": "Black",
        }
    )


def clean_transactions() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 40
    return pd.DataFrame(
        {
            "t_dat": [DAY - timedelta(days=int(d)) for d in rng.integers(0, 3, n)],
            "customer_id": [f"cust{i % 30:03d}" for i in range(n - 2)]
            + [None, None],  # anonymous sales
            "article_id": [f"{i % 12:010d}" for i in range(n)],
            "price": rng.uniform(0.005, 0.1, n).round(4),
            "sales_channel_id": [1 + i % 2 for i in range(n)],
            "quantity": 1,
        }
    )


def clean_recommendations() -> pd.DataFrame:
    rows = [
        {
            "customer_id": f"cust{c:03d}",
            "rank": r,
            "article_id": f"{(c + r) % 12:010d}",
            "score": 1.0 / r,
            "reason": "bought together",
        }
        for c in range(10)
        for r in range(1, TOP_K + 1)
    ]
    return pd.DataFrame(rows).assign(run_date=DAY)


def clean_forecast() -> pd.DataFrame:
    rows = [
        {
            "article_id": f"{a:010d}",
            "forecast_date": DAY + timedelta(days=h),
            "units_p10": 0.0,
            "units_p50": 2.0,
            "units_p90": 5.0,
            "model": "ets",
        }
        for a in range(3)
        for h in range(1, 8)
    ]
    return pd.DataFrame(rows).assign(run_date=DAY)


def clean_email() -> pd.DataFrame:
    rows = [
        {
            "customer_id": f"cust{c:03d}",
            "age_band": "25-34",
            "rank": r,
            "article_id": f"{r:010d}",
            "prod_name": f"Tee {r}",
            "product_type_name": "T-shirt",
            "colour_group_name": "Black",
            "price": 0.02,
            "reason": "bought together",
        }
        for c in range(10)  # opted-in customers only
        for r in range(1, 3)
    ]
    return pd.DataFrame(rows).assign(run_date=DAY)


def clean_similar() -> pd.DataFrame:
    rows = [
        {
            "article_id": f"{a:010d}",
            "rank": r,
            "similar_article_id": f"{(a + r) % 12:010d}",
            "score": 1.0 - r / 10,
        }
        for a in range(6)
        for r in range(1, 4)
    ]
    return pd.DataFrame(rows).assign(run_date=DAY)


def clean_complements() -> pd.DataFrame:
    rows = [
        {
            "article_id": f"{a:010d}",
            "rank": r,
            "complement_article_id": f"{(a + 6 + r) % 12:010d}",
            "score": 2.0 / r,  # lift: above 1 is fine
            "support": 2 - r,  # 0: the best-seller fallback
        }
        for a in range(6)
        for r in range(1, 3)
    ]
    return pd.DataFrame(rows).assign(run_date=DAY)


def clean_model_metrics() -> pd.DataFrame:
    rows = [
        {
            "model": model,
            "k": k,
            "precision_at_k": 0.05,
            "recall_at_k": 0.2,
            "map_at_k": 0.08,
            "ndcg_at_k": 0.1,
            "catalog_coverage": 1.0,
            "novelty": 3.5,  # bits of self-information: above 1
            "diversity": 0.6,
        }
        for model in ("hybrid", "baseline", "als")
        for k in (5, 12)
    ]
    return pd.DataFrame(rows).assign(run_date=DAY)


def clean_forecast_metrics() -> pd.DataFrame:
    rows = [
        {
            "level": level,
            "model": model,
            "horizon": 7,
            "wape": 0.8,
            # Undefined metrics are NULL: no MASE for weekly rows, intervals per article only.
            "mase": None if level.endswith("_weekly") else 1.1,
            "bias": -0.05,
            "interval_coverage": 0.8 if (level, model) == ("article", "shopguide") else None,
        }
        for level in ("article", "shop", "article_weekly")
        for model in ("shopguide", "seasonal_naive")
    ]
    return pd.DataFrame(rows).assign(run_date=DAY)


CLEAN_OUTPUTS = {
    "recommendations": clean_recommendations,
    "demand_forecast": clean_forecast,
    "email_campaign_list": clean_email,
    "similar_articles": clean_similar,
    "outfit_complements": clean_complements,
    "model_metrics": clean_model_metrics,
    "forecast_metrics": clean_forecast_metrics,
}


# -- warehouse helpers -----------------------------------------------------------------------
def put(settings, schema: str, table: str, df: pd.DataFrame, columns: dict[str, str]) -> None:
    """Replace the whole table with ``df``."""
    wh = open_warehouse(settings)
    wh.execute(f"DROP TABLE IF EXISTS {qualified(schema, table)}")
    wh.replace_rows(schema, table, df, columns, next(iter(columns)), [])


def with_load(columns: dict[str, str]) -> dict[str, str]:
    return {**columns, LOAD_COLUMN: "DATE"}


def load_raw(settings, customers=None, articles=None, transactions=None) -> None:
    customers = clean_customers() if customers is None else customers
    articles = clean_articles() if articles is None else articles
    transactions = clean_transactions() if transactions is None else transactions
    put(
        settings,
        RAW_SCHEMA,
        "customers",
        customers.assign(**{LOAD_COLUMN: DAY}),
        with_load(CUSTOMER_COLUMNS),
    )
    put(
        settings,
        RAW_SCHEMA,
        "articles",
        articles.assign(**{LOAD_COLUMN: DAY}),
        with_load(ARTICLE_COLUMNS),
    )
    if LOAD_COLUMN not in transactions:
        transactions = transactions.assign(**{LOAD_COLUMN: DAY})
    put(settings, RAW_SCHEMA, "transactions", transactions, with_load(TRANSACTION_COLUMNS))


def load_candidates(settings, **frames: pd.DataFrame) -> None:
    """Every publish_candidates table: the clean rows, or the frame given by table name."""
    unknown = set(frames) - set(CLEAN_OUTPUTS)
    if unknown:
        raise ValueError(f"load_candidates: no candidate table {sorted(unknown)}")
    for table, clean in CLEAN_OUTPUTS.items():
        df = frames[table] if frames.get(table) is not None else clean()
        put(settings, CANDIDATE_SCHEMA, table, df, PUBLISHED_TABLES[table])


@pytest.fixture
def settings(tmp_path):
    """A DuckDB warehouse, a copy of the GX project and a reports dir per test.

    Own reports per test keep each Data Docs build small (GX re-reads the listed results
    on every build); a new context costs well under a second once GX is imported.
    """
    root = tmp_path
    project = root / "expectations"
    # A copy of the versioned project: the tests never write into the repository.
    shutil.copytree(
        REPO_ROOT / "expectations",
        project,
        ignore=shutil.ignore_patterns("uncommitted"),
        dirs_exist_ok=True,
    )
    return load_settings().with_(
        home=root,
        warehouse_url=f"duckdb://{root / 'warehouse.duckdb'}",
        reports_dir=root / "reports",
        expectations_dir=project,
        top_k=TOP_K,
        forecast_horizon=7,
    )


def failure_lines(exc: pytest.ExceptionInfo) -> list[str]:
    return str(exc.value).splitlines()[1:]


# -- raw ---------------------------------------------------------------------------------------
def test_clean_raw_passes_and_builds_data_docs(settings):
    load_raw(settings)
    result = validation.validate_raw(settings, RUN_DATE)
    assert result["raw_customers"] == {
        "success": True,
        "evaluated": 30,
        "expectations": 12,
        "failed": [],
    }
    assert result["raw_articles"]["success"] and result["raw_articles"]["evaluated"] == 12
    assert result["raw_transactions"]["success"] and result["raw_transactions"]["evaluated"] == 40
    index = Path(result["data_docs"])
    assert index == settings.reports_dir.resolve() / "data_docs" / "index.html"
    assert index.is_file()
    assert "raw_transactions" in index.read_text()
    # Results are kept under the reports directory, not in the versioned project.
    assert any((settings.reports_dir / "gx_validations" / "raw_transactions").rglob("*.json"))
    assert not (settings.expectations_dir / "uncommitted" / "validations").exists()


def _row(df: pd.DataFrame, i: int, **changes) -> pd.DataFrame:
    """``df`` with row ``i`` changed."""
    df = df.copy()
    for column, value in changes.items():
        df[column] = df[column].astype(object)
        df.loc[i, column] = value
    return df


def _apply(df: pd.DataFrame, mutations) -> pd.DataFrame:
    for mutate in mutations:
        df = mutate(df)
    return df.reset_index(drop=True)


# Each kind of bad row: (how to break one row, the start of the line that must report it).
# The rows broken in one case are distinct, so each expectation sees exactly its own row.
RAW_VIOLATIONS = {
    "transactions": [
        (
            lambda df: _row(df, 3, price=-4.99),
            "raw_transactions: expect_column_values_to_be_between(price, min 0, strict) failed: 2 of 40 rows (5.00%), e.g. -4.99 [t_dat=",
        ),
        (lambda df: _row(df, 4, price=0.0), None),  # the second of the two bad prices
        (
            lambda df: _row(df, 5, t_dat=DAY + timedelta(days=1)),
            "raw_transactions: expect_column_values_to_be_between(t_dat, max 2024-03-10) failed: 1 of 40 rows (2.50%), e.g. 2024-03-11",
        ),
        (
            lambda df: _row(df, 6, t_dat=None),
            "raw_transactions: expect_column_values_to_not_be_null(t_dat) failed: 1 of 40 rows",
        ),
        (
            lambda df: _row(df, 7, article_id=None),
            "raw_transactions: expect_column_values_to_not_be_null(article_id) failed: 1 of 40 rows",
        ),
        (
            lambda df: _row(df, 8, quantity=0),
            "raw_transactions: expect_column_values_to_be_between(quantity, min 1) failed: 1 of 40 rows (2.50%), e.g. 0",
        ),
        (
            lambda df: _row(df, 9, sales_channel_id=3),
            "raw_transactions: expect_column_values_to_be_in_set(sales_channel_id, {1, 2}) failed: 1 of 40 rows (2.50%), e.g. 3",
        ),
    ],
    "customers": [
        (
            lambda df: pd.concat([df, df.iloc[[4]]]),
            "raw_customers: expect_column_values_to_be_unique(customer_id) failed: 2 of 32 rows",
        ),
        (
            lambda df: _row(df, 2, customer_id=None),
            "raw_customers: expect_column_values_to_not_be_null(customer_id) failed: 1 of 32 rows",
        ),
        (
            lambda df: _row(df, 6, age=130.0),
            "raw_customers: expect_column_values_to_be_between(age, min 0, max 120) failed: 2 of 32 rows (6.25%), e.g. 130, -1",
        ),
        (
            lambda df: _row(df, 1, fashion_news_frequency="Weekly"),
            "raw_customers: expect_column_values_to_be_in_set(fashion_news_frequency, {'NONE', 'None', 'Regularly', 'Monthly'}) "
            "failed: 1 of 32 rows (3.12%), e.g. 'Weekly'",
        ),
        (
            lambda df: _row(df, 8, club_member_status="active"),
            "raw_customers: expect_column_values_to_be_in_set(club_member_status, {'ACTIVE', 'PRE-CREATE', 'LEFT CLUB'}) "
            "failed: 1 of 32 rows (3.12%), e.g. 'active'",
        ),
        (
            lambda df: pd.concat([df, df.iloc[[20]].assign(customer_id="cust999", age=-1.0)]),
            None,
        ),  # second bad age
    ],
    "articles": [
        (
            lambda df: pd.concat([df, df.iloc[[0]]]),
            "raw_articles: expect_column_values_to_be_unique(article_id) failed: 2 of 13 rows",
        ),
        (
            lambda df: _row(df, 5, prod_name=None),
            "raw_articles: expect_column_values_to_not_be_null(prod_name) failed: 1 of 13 rows",
        ),
        (
            lambda df: _row(df, 6, product_group_name=None),
            "raw_articles: expect_column_values_to_not_be_null(product_group_name) failed: 1 of 13 rows (7.69%)",
        ),
        (
            lambda df: _row(df, 7, article_id=None),
            "raw_articles: expect_column_values_to_not_be_null(article_id) failed: 1 of 13 rows",
        ),
    ],
}


@pytest.mark.parametrize("table", list(RAW_VIOLATIONS))
def test_each_kind_of_bad_raw_row_stops_the_run(settings, table):
    frames = {
        "customers": clean_customers(),
        "articles": clean_articles(),
        "transactions": clean_transactions(),
    }
    frames[table] = _apply(frames[table], [mutate for mutate, _ in RAW_VIOLATIONS[table]])
    load_raw(settings, **frames)
    with pytest.raises(validation.ValidationError) as exc:
        validation.validate_raw(settings, RUN_DATE)
    lines = failure_lines(exc)
    expected = [e for _, e in RAW_VIOLATIONS[table] if e is not None]
    for prefix in expected:
        assert any(line.startswith(prefix) for line in lines), (prefix, lines)
    assert len(lines) == len(expected), lines  # one line per broken expectation, nothing else
    assert all(line.startswith(f"raw_{table}: ") for line in lines), lines
    assert f"run date {RUN_DATE}" in str(exc.value) and "index.html" in str(exc.value)


def test_a_day_without_sales_stops_the_run(settings):
    load_raw(settings, transactions=clean_transactions().iloc[0:0])
    with pytest.raises(validation.ValidationError) as exc:
        validation.validate_raw(settings, RUN_DATE)
    assert failure_lines(exc) == [
        "raw_transactions: expect_table_row_count_to_be_between(min 1) failed: observed 0"
    ]


def test_raw_transactions_of_other_loads_are_not_this_runs_problem(settings):
    older = _row(clean_transactions(), 3, price=-1.0).assign(
        **{LOAD_COLUMN: DAY - timedelta(days=1)}
    )
    load_raw(
        settings, transactions=pd.concat([clean_transactions().assign(**{LOAD_COLUMN: DAY}), older])
    )
    result = validation.validate_raw(settings, RUN_DATE)
    assert result["raw_transactions"]["evaluated"] == 40


def test_missing_raw_table_names_the_table(settings):
    load_raw(settings)
    open_warehouse(settings).execute(f"DROP TABLE {qualified(RAW_SCHEMA, 'articles')}")
    with pytest.raises(
        validation.ValidationError, match=r"raw_articles: table raw\.articles does not exist"
    ):
        validation.validate_raw(settings, RUN_DATE)


def test_missing_column_is_named(settings):
    load_raw(settings)
    columns = with_load(TRANSACTION_COLUMNS)
    columns.pop("quantity")
    frame = clean_transactions().drop(columns="quantity").assign(**{LOAD_COLUMN: DAY})
    put(settings, RAW_SCHEMA, "transactions", frame, columns)
    with pytest.raises(validation.ValidationError) as exc:
        validation.validate_raw(settings, RUN_DATE)
    assert (
        "raw_transactions: expect_column_to_exist(quantity) failed: the column is missing"
        in str(exc.value)
    )


def test_bad_run_date_is_explained(settings):
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        validation.validate_raw(settings, "10/03/2024")


# -- publish candidates ------------------------------------------------------------------------
def test_clean_outputs_pass(settings):
    load_raw(settings)
    load_candidates(settings)
    result = validation.validate_outputs(settings, RUN_DATE)
    assert result["recommendations"]["success"] and result["recommendations"]["evaluated"] == 40
    assert result["demand_forecast"]["success"] and result["demand_forecast"]["evaluated"] == 21
    assert (
        result["email_campaign_list"]["success"]
        and result["email_campaign_list"]["evaluated"] == 20
    )
    assert [
        result[s]["evaluated"]
        for s in ("similar_articles", "outfit_complements", "model_metrics", "forecast_metrics")
    ] == [18, 12, 6, 6]
    assert all(result[s]["success"] for s in CLEAN_OUTPUTS)
    assert Path(result["data_docs"]).is_file()


def test_runs_without_metrics_or_neighbours_publish(settings):
    """No holdout, no backtest, a shop too small for similar articles: empty tables pass."""
    load_raw(settings)
    empty = {
        t: CLEAN_OUTPUTS[t]().iloc[0:0]
        for t in ("similar_articles", "outfit_complements", "model_metrics", "forecast_metrics")
    }
    load_candidates(settings, **empty)
    result = validation.validate_outputs(settings, RUN_DATE)
    for table in empty:
        assert result[table]["success"] and result[table]["evaluated"] == 0, result[table]


INF = float("inf")
OUTPUT_VIOLATIONS = {
    "recommendations": [
        (
            lambda df: _row(df, 0, rank=TOP_K + 1),
            f"recommendations: expect_column_values_to_be_between(rank, min 1, max {TOP_K}) failed: 1 of 40 rows (2.50%), "
            f"e.g. {TOP_K + 1} [customer_id='cust000', rank={TOP_K + 1}]",
        ),
        (
            lambda df: _row(df, 5, rank=1),  # cust001 gets two articles at rank 1
            "recommendations: expect_compound_columns_to_be_unique(customer_id, rank) failed: 2 of 40 rows (5.00%), "
            "e.g. (customer_id='cust001', rank=1)",
        ),
        (
            lambda df: _row(df, 10, reason=None),
            "recommendations: expect_column_values_to_not_be_null(reason) failed: 1 of 40 rows",
        ),
        (
            lambda df: _row(df, 11, score=None),
            "recommendations: expect_column_values_to_not_be_null(score) failed: 1 of 40 rows",
        ),
        (
            lambda df: _row(df, 12, article_id=None),
            "recommendations: expect_column_values_to_not_be_null(article_id) failed: 1 of 40 rows",
        ),
    ],
    "demand_forecast": [
        (
            lambda df: _row(df, 0, units_p10=3.0),
            "demand_forecast: expect_column_pair_values_a_to_be_greater_than_b(units_p50, units_p10, or equal) failed: "
            "1 of 21 rows (4.76%), e.g. (2, 3)",
        ),
        (
            lambda df: _row(df, 1, units_p90=1.0),
            "demand_forecast: expect_column_pair_values_a_to_be_greater_than_b(units_p90, units_p50, or equal) failed: 1 of 21 rows",
        ),
        (
            lambda df: _row(df, 2, units_p10=-1.0),
            "demand_forecast: expect_column_values_to_be_between(units_p10, min 0) failed: 1 of 21 rows (4.76%), e.g. -1",
        ),
        (
            lambda df: _row(df, 3, forecast_date=DAY),
            "demand_forecast: expect_column_values_to_be_between(forecast_date, min 2024-03-10, strict, max 2024-03-17) failed: "
            "2 of 21 rows (9.52%), e.g. 2024-03-10",
        ),
        (
            lambda df: _row(df, 7, forecast_date=DAY + timedelta(days=30)),
            None,
        ),  # beyond the horizon: same line
        (
            lambda df: _row(
                df, 10, forecast_date=DAY + timedelta(days=2)
            ),  # article 1 forecast twice for the 12th
            "demand_forecast: expect_compound_columns_to_be_unique(article_id, forecast_date) failed: 2 of 21 rows",
        ),
    ],
    "email_campaign_list": [
        (
            lambda df: _row(df, 0, customer_id="cust015"),  # fashion news NONE: opted out
            "email_campaign_list: expect_column_values_to_be_in_set(customer_is_opted_in, {True}) failed: 4 of 20 rows (20.00%), "
            "e.g. False [customer_id='cust015', rank=1]",
        ),
        (lambda df: _row(df, 2, customer_id="cust027"), None),  # no club status: opted out
        (lambda df: _row(df, 4, customer_id="stranger"), None),  # not a known customer
        (
            lambda df: _row(
                df, 6, customer_id=None
            ),  # not opted in either: 4th row of the line above
            "email_campaign_list: expect_column_values_to_not_be_null(customer_id) failed: 1 of 20 rows",
        ),
        (
            lambda df: _row(df, 7, price=0.0),
            "email_campaign_list: expect_column_values_to_be_between(price, min 0, strict) failed: 1 of 20 rows (5.00%), e.g. 0",
        ),
        (
            lambda df: _row(df, 9, rank=0),
            "email_campaign_list: expect_column_values_to_be_between(rank, min 1) failed: 1 of 20 rows",
        ),
    ],
    "similar_articles": [
        (
            lambda df: _row(df, 0, similar_article_id="0000000000"),  # article 0 like itself
            "similar_articles: expect_select_column_values_to_be_unique_within_record(article_id, similar_article_id) "
            "failed: 1 of 18 rows",
        ),
        (
            lambda df: _row(df, 1, rank=0),
            "similar_articles: expect_column_values_to_be_between(rank, min 1) failed: 1 of 18 rows (5.56%), "
            "e.g. 0 [article_id='0000000000', rank=0]",
        ),
        (
            lambda df: _row(df, 4, rank=1),  # article 1 has two rank 1s
            "similar_articles: expect_compound_columns_to_be_unique(article_id, rank) failed: 2 of 18 rows",
        ),
        (
            lambda df: _row(df, 6, score=INF),
            "similar_articles: expect_column_values_to_be_between(score, min -1.001, max 1.001) failed: 1 of 18 rows",
        ),
        (
            lambda df: _row(df, 7, score=None),
            "similar_articles: expect_column_values_to_not_be_null(score) failed: 1 of 18 rows",
        ),
        (
            lambda df: _row(df, 10, similar_article_id="0000000004"),  # article 3: 4 twice
            "similar_articles: expect_compound_columns_to_be_unique(article_id, similar_article_id) failed: 2 of 18 rows",
        ),
        (
            lambda df: _row(df, 12, similar_article_id=None),
            "similar_articles: expect_column_values_to_not_be_null(similar_article_id) failed: 1 of 18 rows",
        ),
    ],
    "outfit_complements": [
        (
            lambda df: _row(df, 0, complement_article_id="0000000000"),
            "outfit_complements: expect_select_column_values_to_be_unique_within_record(article_id, complement_article_id) "
            "failed: 1 of 12 rows",
        ),
        (
            lambda df: _row(df, 2, support=-1),
            "outfit_complements: expect_column_values_to_be_between(support, min 0) failed: 1 of 12 rows",
        ),
        (
            lambda df: _row(df, 3, score=-0.5),
            "outfit_complements: expect_column_values_to_be_between(score, min 0, max 1.79769e+308) failed: 2 of 12 rows",
        ),
        (lambda df: _row(df, 4, score=INF), None),  # not finite: the same line
        (
            lambda df: _row(df, 5, rank=0),
            "outfit_complements: expect_column_values_to_be_between(rank, min 1) failed: 1 of 12 rows",
        ),
        (
            lambda df: _row(df, 7, support=None),
            "outfit_complements: expect_column_values_to_not_be_null(support) failed: 1 of 12 rows",
        ),
    ],
    "model_metrics": [
        (
            lambda df: _row(df, 0, precision_at_k=1.2),
            "model_metrics: expect_column_values_to_be_between(precision_at_k, min 0, max 1) failed: 1 of 6 rows "
            "(16.67%), e.g. 1.2 [model='hybrid', k=5]",
        ),
        (
            lambda df: _row(df, 1, novelty=-0.1),
            "model_metrics: expect_column_values_to_be_between(novelty, min 0, max 1.79769e+308) failed: 1 of 6 rows",
        ),
        (
            lambda df: _row(df, 2, k=0),
            "model_metrics: expect_column_values_to_be_between(k, min 1) failed: 1 of 6 rows",
        ),
        (
            lambda df: _row(df, 5, model="baseline"),  # baseline at k=12 twice
            "model_metrics: expect_compound_columns_to_be_unique(model, k) failed: 2 of 6 rows",
        ),
        (
            lambda df: _row(df, 4, diversity=1.5),
            "model_metrics: expect_column_values_to_be_between(diversity, min 0, max 1) failed: 1 of 6 rows",
        ),
        (
            lambda df: _row(df, 3, catalog_coverage=-0.01),
            "model_metrics: expect_column_values_to_be_between(catalog_coverage, min 0, max 1) failed: 1 of 6 rows",
        ),
    ],
    "forecast_metrics": [
        (
            lambda df: _row(df, 0, wape=-0.2),
            "forecast_metrics: expect_column_values_to_be_between(wape, min 0, max 1.79769e+308) failed: 1 of 6 rows "
            "(16.67%), e.g. -0.2 [level='article', model='shopguide', horizon=7]",
        ),
        (
            lambda df: _row(df, 0, interval_coverage=1.5),
            "forecast_metrics: expect_column_values_to_be_between(interval_coverage, min 0, max 1) failed: 1 of 6 rows",
        ),
        (
            lambda df: _row(df, 2, horizon=0),
            "forecast_metrics: expect_column_values_to_be_between(horizon, min 1) failed: 1 of 6 rows",
        ),
        (
            lambda df: _row(df, 3, mase=INF, bias=-INF),
            "forecast_metrics: expect_column_values_to_be_between(mase, min 0, max 1.79769e+308) failed: 1 of 6 rows",
        ),
        (
            lambda df: df,  # the same row's bias
            "forecast_metrics: expect_column_values_to_be_between(bias, min -1.79769e+308, max 1.79769e+308) failed: "
            "1 of 6 rows",
        ),
        (
            lambda df: _row(df, 5, model="shopguide"),  # article_weekly/shopguide twice
            "forecast_metrics: expect_compound_columns_to_be_unique(level, model, horizon) failed: 2 of 6 rows",
        ),
        (
            lambda df: _row(df, 1, level=None),
            "forecast_metrics: expect_column_values_to_not_be_null(level) failed: 1 of 6 rows",
        ),
    ],
}


@pytest.mark.parametrize("table", list(OUTPUT_VIOLATIONS))
def test_each_kind_of_bad_output_row_stops_publication(settings, table):
    load_raw(settings)
    broken = _apply(CLEAN_OUTPUTS[table](), [mutate for mutate, _ in OUTPUT_VIOLATIONS[table]])
    load_candidates(settings, **{table: broken})
    with pytest.raises(validation.ValidationError) as exc:
        validation.validate_outputs(settings, RUN_DATE)
    lines = failure_lines(exc)
    expected = [e for _, e in OUTPUT_VIOLATIONS[table] if e is not None]
    for prefix in expected:
        assert any(line.startswith(prefix) for line in lines), (prefix, lines)
    assert len(lines) == len(expected), lines
    assert all(line.startswith(f"{table}: ") for line in lines), lines


def test_no_recommendations_stops_publication(settings):
    load_raw(settings)
    load_candidates(settings, recommendations=clean_recommendations().iloc[0:0])
    with pytest.raises(validation.ValidationError) as exc:
        validation.validate_outputs(settings, RUN_DATE)
    assert failure_lines(exc) == [
        "recommendations: expect_table_row_count_to_be_between(min 1) failed: observed 0"
    ]


def test_opted_out_failure_names_the_customer(settings):
    load_raw(settings)
    load_candidates(settings, email_campaign_list=_row(clean_email(), 0, customer_id="cust015"))
    with pytest.raises(validation.ValidationError, match="cust015"):
        validation.validate_outputs(settings, RUN_DATE)


def test_outputs_of_other_run_dates_are_ignored(settings):
    load_raw(settings)
    old = _row(clean_recommendations(), 0, rank=99).assign(run_date=DAY - timedelta(days=1))
    load_candidates(
        settings, recommendations=pd.concat([clean_recommendations(), old], ignore_index=True)
    )
    result = validation.validate_outputs(settings, RUN_DATE)
    assert result["recommendations"]["evaluated"] == 40


# -- the versioned project ---------------------------------------------------------------------
def test_versioned_project_matches_the_code(settings):
    """expectations/ in the repository is what the code generates (regenerate and commit)."""
    import yaml

    validation.get_context(settings)  # syncs the copy in tmp_path from the code
    repo = REPO_ROOT / "expectations"
    hint = "regenerate with `python -m shopguide.validation --sync` and commit expectations/"
    for sub in ("expectations", "checkpoints", "validation_definitions"):
        generated = sorted(p.name for p in (settings.expectations_dir / sub).glob("*.json"))
        assert generated, sub
        _, mismatch, missing = filecmp.cmpfiles(
            repo / sub, settings.expectations_dir / sub, generated, shallow=False
        )
        assert not mismatch and not missing, (
            f"expectations/{sub}: {mismatch + missing} differ from the code; {hint}"
        )
    versioned = yaml.safe_load((repo / "great_expectations.yml").read_text())
    synced = yaml.safe_load((settings.expectations_dir / "great_expectations.yml").read_text())
    assert versioned == synced, f"expectations/great_expectations.yml differs from the code; {hint}"
    assert (
        "${" + validation.VAR_DATA_DOCS_DIR + "}" in (repo / "great_expectations.yml").read_text()
    )
    assert str(settings.reports_dir) not in (repo / "great_expectations.yml").read_text()
