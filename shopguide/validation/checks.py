"""The checks: one Great Expectations suite per table, the expectations in it, and the
rows it validates (``RAW_CHECKS`` after ingest, ``OUTPUT_CHECKS`` before publication)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass

from shopguide.schema import (
    ARTICLE_COLUMNS,
    CANDIDATE_SCHEMA,
    CLUB_MEMBER_STATUSES,
    CUSTOMER_COLUMNS,
    FASHION_NEWS_FREQUENCIES,
    LOAD_COLUMN,
    OPT_IN_FREQUENCIES,
    OPT_IN_STATUS,
    PUBLISHED_TABLES,
    RAW_SCHEMA,
    SALES_CHANNELS,
    TRANSACTION_COLUMNS,
)
from shopguide.warehouse import qualified

# Code lists (anything else means a source adapter or the ingest let an unknown code
# through, and the opt-in rule would silently misread it) live in shopguide.schema.


def _raw_customers() -> list:
    import great_expectations.expectations as gxe

    return [
        *[gxe.ExpectColumnToExist(column=c) for c in CUSTOMER_COLUMNS],
        gxe.ExpectColumnValuesToNotBeNull(column="customer_id"),
        gxe.ExpectColumnValuesToBeUnique(column="customer_id"),
        # NULL age is allowed (unknown); the ingest turns impossible ages into NULL.
        gxe.ExpectColumnValuesToBeBetween(column="age", min_value=0, max_value=120),
        gxe.ExpectColumnValuesToBeInSet(
            column="fashion_news_frequency", value_set=list(FASHION_NEWS_FREQUENCIES)
        ),
        gxe.ExpectColumnValuesToBeInSet(
            column="club_member_status", value_set=list(CLUB_MEMBER_STATUSES)
        ),
    ]


def _raw_articles() -> list:
    import great_expectations.expectations as gxe

    return [
        *[gxe.ExpectColumnToExist(column=c) for c in ARTICLE_COLUMNS],
        gxe.ExpectColumnValuesToNotBeNull(column="article_id"),
        gxe.ExpectColumnValuesToBeUnique(column="article_id"),
        gxe.ExpectColumnValuesToNotBeNull(column="prod_name"),
        gxe.ExpectColumnValuesToNotBeNull(column="product_group_name"),
    ]


def _raw_transactions() -> list:
    import great_expectations.expectations as gxe

    return [
        *[gxe.ExpectColumnToExist(column=c) for c in TRANSACTION_COLUMNS],
        gxe.ExpectTableRowCountToBeBetween(min_value=1),
        gxe.ExpectColumnValuesToNotBeNull(column="t_dat"),
        # A sale after the day being processed is a clock or source error.
        gxe.ExpectColumnValuesToBeBetween(column="t_dat", max_value={"$PARAMETER": "run_date"}),
        gxe.ExpectColumnValuesToNotBeNull(column="article_id"),
        gxe.ExpectColumnValuesToBeBetween(column="price", min_value=0, strict_min=True),
        gxe.ExpectColumnValuesToBeBetween(column="quantity", min_value=1),
        gxe.ExpectColumnValuesToBeInSet(column="sales_channel_id", value_set=list(SALES_CHANNELS)),
    ]


def _columns_exist(table: str) -> list:
    import great_expectations.expectations as gxe

    return [gxe.ExpectColumnToExist(column=c) for c in PUBLISHED_TABLES[table]]


def _recommendations() -> list:
    import great_expectations.expectations as gxe

    return [
        *_columns_exist("recommendations"),
        gxe.ExpectTableRowCountToBeBetween(min_value=1),
        *[
            gxe.ExpectColumnValuesToNotBeNull(column=c)
            for c in ("customer_id", "article_id", "rank", "score", "reason")
        ],
        gxe.ExpectColumnValuesToBeBetween(
            column="rank", min_value=1, max_value={"$PARAMETER": "top_k"}
        ),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["customer_id", "rank"]),
    ]


def _demand_forecast() -> list:
    import great_expectations.expectations as gxe

    return [
        *_columns_exist("demand_forecast"),
        *[
            gxe.ExpectColumnValuesToNotBeNull(column=c)
            for c in ("article_id", "forecast_date", "units_p10", "units_p50", "units_p90")
        ],
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="units_p50", column_B="units_p10", or_equal=True
        ),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="units_p90", column_B="units_p50", or_equal=True
        ),
        *[
            gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0)
            for c in ("units_p10", "units_p50", "units_p90")
        ],
        # Forecasts start the day after the run date and cover the configured horizon.
        gxe.ExpectColumnValuesToBeBetween(
            column="forecast_date",
            min_value={"$PARAMETER": "run_date"},
            strict_min=True,
            max_value={"$PARAMETER": "last_forecast_date"},
        ),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["article_id", "forecast_date"]),
    ]


def _email_campaign_list() -> list:
    import great_expectations.expectations as gxe

    return [
        *_columns_exist("email_campaign_list"),
        gxe.ExpectColumnValuesToNotBeNull(column="customer_id"),
        gxe.ExpectColumnValuesToBeBetween(column="rank", min_value=1),
        gxe.ExpectColumnValuesToBeBetween(column="price", min_value=0, strict_min=True),
        # Computed by the validation query from raw.customers (see EMAIL_QUERY): FALSE for
        # an opted-out customer and for one the shop does not know (no customers row).
        gxe.ExpectColumnValuesToBeInSet(column="customer_is_opted_in", value_set=[True]),
    ]


# The largest finite double: "between -FINITE and FINITE" is how a suite says "a real
# number", since GX has no finiteness expectation. It fails for +/-Infinity, and for NaN
# on PostgreSQL (where NaN sorts above every number; pandas reads NaN as a missing value,
# which the not-null expectation catches).
FINITE = sys.float_info.max


def _ranked_pairs(table: str, other: str) -> list:
    """similar_articles and outfit_complements: an article's ranked list of other articles.

    No row count: a tiny shop can have no similar or complementary articles at all.
    """
    import great_expectations.expectations as gxe

    return [
        *_columns_exist(table),
        *[
            gxe.ExpectColumnValuesToNotBeNull(column=c)
            for c in ("article_id", "rank", other, "score")
        ],
        gxe.ExpectColumnValuesToBeBetween(column="rank", min_value=1),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["article_id", "rank"]),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["article_id", other]),
        # An article is never its own similar article or complement.
        gxe.ExpectSelectColumnValuesToBeUniqueWithinRecord(column_list=["article_id", other]),
    ]


def _similar_articles() -> list:
    import great_expectations.expectations as gxe

    return [
        *_ranked_pairs("similar_articles", "similar_article_id"),
        # Cosine similarity of unit vectors; a little slack for float32 rounding.
        gxe.ExpectColumnValuesToBeBetween(column="score", min_value=-1.001, max_value=1.001),
    ]


def _outfit_complements() -> list:
    import great_expectations.expectations as gxe

    return [
        *_ranked_pairs("outfit_complements", "complement_article_id"),
        # Shrunk lift: positive, unbounded (best-seller fallback rows score at most 0.01).
        gxe.ExpectColumnValuesToBeBetween(column="score", min_value=0, max_value=FINITE),
        # Baskets with both articles; 0 for the best-seller fallback.
        gxe.ExpectColumnValuesToNotBeNull(column="support"),
        gxe.ExpectColumnValuesToBeBetween(column="support", min_value=0),
    ]


# Recommender metrics that are shares (spark_jobs/recommend/metrics.py): 0..1. Novelty is
# mean self-information in bits: 0 or more, above 1 for anything but best sellers.
RATIO_METRICS = (
    "precision_at_k",
    "recall_at_k",
    "map_at_k",
    "ndcg_at_k",
    "catalog_coverage",
    "diversity",
)


def _model_metrics() -> list:
    """No row count: a run without a holdout (no --evaluate) has no metrics."""
    import great_expectations.expectations as gxe

    return [
        *_columns_exist("model_metrics"),
        *[gxe.ExpectColumnValuesToNotBeNull(column=c) for c in ("model", "k")],
        gxe.ExpectColumnValuesToBeBetween(column="k", min_value=1),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["model", "k"]),
        *[
            gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0, max_value=1)
            for c in RATIO_METRICS
        ],
        gxe.ExpectColumnValuesToBeBetween(column="novelty", min_value=0, max_value=FINITE),
    ]


def _forecast_metrics() -> list:
    """No row count: a run without a backtest has no metrics. A metric may be NULL where it
    is undefined (nothing sold, no seasonal-naive scale, no interval at the level)."""
    import great_expectations.expectations as gxe

    return [
        *_columns_exist("forecast_metrics"),
        *[gxe.ExpectColumnValuesToNotBeNull(column=c) for c in ("level", "model", "horizon")],
        gxe.ExpectColumnValuesToBeBetween(column="horizon", min_value=1),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["level", "model", "horizon"]),
        *[
            gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0, max_value=FINITE)
            for c in ("wape", "mase")
        ],
        gxe.ExpectColumnValuesToBeBetween(column="bias", min_value=-FINITE, max_value=FINITE),
        gxe.ExpectColumnValuesToBeBetween(column="interval_coverage", min_value=0, max_value=1),
    ]


# Every email row joined to the customer's current marketing consent. The consent is
# recomputed from raw.customers with the contract's rule instead of trusting the
# is_opted_in flag of the dbt mart that produced the list: the check stays independent
# of the code it checks, and sees every opted-out customer, not a sample of ids.
EMAIL_QUERY = (
    # COALESCE: a NULL status or frequency means "not opted in", never "unknown".
    "SELECT e.*, COALESCE(c.club_member_status = '" + OPT_IN_STATUS + "'"
    " AND c.fashion_news_frequency IN (" + ", ".join(f"'{v}'" for v in OPT_IN_FREQUENCIES) + "),"
    " FALSE) AS customer_is_opted_in"
    f" FROM {qualified(CANDIDATE_SCHEMA, 'email_campaign_list')} AS e"
    f" LEFT JOIN {qualified(RAW_SCHEMA, 'customers')} AS c ON c.customer_id = e.customer_id"
)


@dataclass(frozen=True)
class Check:
    """One suite and the rows it validates."""

    suite: str
    schema: str
    table: str
    expectations: Callable[[], list]
    run_column: str | None = None  # only rows of the run date; None: the whole table
    query: str | None = None  # SELECT to validate instead of the plain table
    key_columns: tuple[str, ...] = ()  # identify a bad row in the error message

    @property
    def source_sql(self) -> str:
        return self.query or f"SELECT * FROM {qualified(self.schema, self.table)}"

    @property
    def where(self) -> str:
        return f"{self.schema}.{self.table}" + (
            f" where {self.run_column} = run date" if self.run_column else ""
        )


RAW_CHECKS = (
    # Customers and articles are upserted: the whole current table is what dbt reads.
    Check("raw_customers", RAW_SCHEMA, "customers", _raw_customers),
    Check("raw_articles", RAW_SCHEMA, "articles", _raw_articles),
    Check(
        "raw_transactions",
        RAW_SCHEMA,
        "transactions",
        _raw_transactions,
        run_column=LOAD_COLUMN,
        key_columns=("t_dat", "customer_id", "article_id"),
    ),
)
OUTPUT_CHECKS = (
    Check(
        "recommendations",
        CANDIDATE_SCHEMA,
        "recommendations",
        _recommendations,
        run_column="run_date",
        key_columns=("customer_id", "rank"),
    ),
    Check(
        "demand_forecast",
        CANDIDATE_SCHEMA,
        "demand_forecast",
        _demand_forecast,
        run_column="run_date",
        key_columns=("article_id", "forecast_date"),
    ),
    Check(
        "email_campaign_list",
        CANDIDATE_SCHEMA,
        "email_campaign_list",
        _email_campaign_list,
        run_column="run_date",
        query=EMAIL_QUERY,
        key_columns=("customer_id", "rank"),
    ),
    Check(
        "similar_articles",
        CANDIDATE_SCHEMA,
        "similar_articles",
        _similar_articles,
        run_column="run_date",
        key_columns=("article_id", "rank"),
    ),
    Check(
        "outfit_complements",
        CANDIDATE_SCHEMA,
        "outfit_complements",
        _outfit_complements,
        run_column="run_date",
        key_columns=("article_id", "rank"),
    ),
    Check(
        "model_metrics",
        CANDIDATE_SCHEMA,
        "model_metrics",
        _model_metrics,
        run_column="run_date",
        key_columns=("model", "k"),
    ),
    Check(
        "forecast_metrics",
        CANDIDATE_SCHEMA,
        "forecast_metrics",
        _forecast_metrics,
        run_column="run_date",
        key_columns=("level", "model", "horizon"),
    ),
)
