"""Great Expectations checks on the raw loads and on the tables about to be published.

``validate_raw`` runs after ingest, ``validate_outputs`` after the ``publish_candidates``
models are built and before publication. Both raise :class:`ValidationError` when any
expectation fails, which stops the run before anything reaches ``published``.

The GX project is a File Data Context in ``expectations/`` (``settings.expectations_dir``):
suites, validation definitions, checkpoints and the data sources are (re)written from
the code below on every run, so the versioned JSON always matches the code. Run-time
paths and credentials never enter the versioned files: ``great_expectations.yml`` refers
to them as ``${SHOPGUIDE_GX_...}`` variables that each context receives through its
runtime environment (validation results and Data Docs go under ``settings.reports_dir``,
the PostgreSQL URL is ``settings.warehouse_url``).

DuckDB is not a GX data source, so on DuckDB the run's rows are read into pandas and
validated as dataframes; on PostgreSQL GX's Postgres data source validates the tables in
place (queries partitioned by the run date).
"""

from __future__ import annotations

import logging
import math
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

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
from shopguide.settings import Settings
from shopguide.warehouse import open_warehouse, qident, qualified

log = logging.getLogger(__name__)

# Code lists (anything else means a source adapter or the ingest let an unknown code
# through, and the opt-in rule would silently misread it) live in shopguide.schema.

# Dataframes read from the warehouse: every DuckDB run, and the PostgreSQL runs whose run
# date has no rows (the name is kept: it is part of the versioned project's ids).
PANDAS_SOURCE = "shopguide_duckdb_frames"
POSTGRES_SOURCE = "shopguide_postgres"
DATA_DOCS_SITE = "shopguide_data_docs"
# Variables great_expectations.yml refers to; their values come from the settings.
VAR_RESULTS_DIR = "SHOPGUIDE_GX_VALIDATIONS_DIR"
VAR_DATA_DOCS_DIR = "SHOPGUIDE_GX_DATA_DOCS_DIR"
VAR_POSTGRES_URL = "SHOPGUIDE_GX_POSTGRES_URL"

# Example values shown per failed expectation in the error message.
EXAMPLES = 5

GX_YML = f"""\
# Great Expectations project of shopguide (GX 1.x File Data Context).
# Suites, validation definitions, checkpoints and data sources are regenerated from
# shopguide/validation.py on every run: change them there, not here.
# ${{...}} values are supplied at run time from the shopguide settings
# (shopguide.validation.runtime_environment), so no path or credential is versioned.
config_version: 4.0
analytics_enabled: false
progress_bars:
  globally: false
config_variables_file_path: uncommitted/config_variables.yml
plugins_directory:
stores:
  expectations_store:
    class_name: ExpectationsStore
    store_backend:
      class_name: TupleFilesystemStoreBackend
      base_directory: expectations/
  validation_results_store:
    class_name: ValidationResultsStore
    store_backend:
      class_name: TupleFilesystemStoreBackend
      base_directory: ${{{VAR_RESULTS_DIR}}}
  checkpoint_store:
    class_name: CheckpointStore
    store_backend:
      class_name: TupleFilesystemStoreBackend
      suppress_store_backend_id: true
      base_directory: checkpoints/
  validation_definition_store:
    class_name: ValidationDefinitionStore
    store_backend:
      class_name: TupleFilesystemStoreBackend
      base_directory: validation_definitions/
expectations_store_name: expectations_store
validation_results_store_name: validation_results_store
checkpoint_store_name: checkpoint_store
data_docs_sites:
  {DATA_DOCS_SITE}:
    class_name: SiteBuilder
    show_how_to_buttons: false
    store_backend:
      class_name: TupleFilesystemStoreBackend
      base_directory: ${{{VAR_DATA_DOCS_DIR}}}
    site_index_builder:
      class_name: DefaultSiteIndexBuilder
      # The index lists the newest results only (~2 weeks of nightly runs), so building
      # it stays fast after years of runs; older result pages stay in the site.
      validation_results_limit: 100
fluent_datasources: {{}}
"""


class ValidationError(Exception):
    """A suite failed: the message has one line per failed expectation."""


# -- the suites ----------------------------------------------------------------------------
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


# Recommender metrics that are shares (spark_jobs/recs_metrics.py): 0..1. Novelty is
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


# -- the context ---------------------------------------------------------------------------
def runtime_environment(settings: Settings) -> dict[str, str]:
    """Values of the ``${...}`` variables in great_expectations.yml for these settings."""
    reports = Path(settings.reports_dir).resolve()
    env = {
        VAR_RESULTS_DIR: str(reports / "gx_validations"),
        VAR_DATA_DOCS_DIR: str(reports / "data_docs"),
    }
    if settings.warehouse_kind == "postgres":
        env[VAR_POSTGRES_URL] = settings.warehouse_url.replace("postgres://", "postgresql://", 1)
    return env


_contexts: dict[tuple, Any] = {}
_lock = threading.Lock()


def get_context(settings: Settings):
    """The GX File Data Context for these settings, set up from code; one per process."""
    key = (
        str(Path(settings.expectations_dir).resolve()),
        str(settings.reports_dir),
        settings.warehouse_url,
    )
    with _lock:
        context = _contexts.get(key)
        if context is None:
            context = _build_context(settings)
            _contexts[key] = context
        return context


def _build_context(settings: Settings):
    import great_expectations as gx

    root = Path(settings.expectations_dir).resolve()
    root.mkdir(parents=True, exist_ok=True)
    _write_project_config(root / "great_expectations.yml")
    context = gx.get_context(
        mode="file", context_root_dir=str(root), runtime_environment=runtime_environment(settings)
    )
    _sync(context, settings)
    return context


def _write_project_config(path: Path) -> None:
    """Make great_expectations.yml say what GX_YML says, keeping GX's own entries.

    GX adds the data sources (``fluent_datasources``) and ``data_context_id``; everything
    else (stores, Data Docs site, flags) comes from GX_YML, so a change there reaches the
    versioned file on the next run.
    """
    import yaml

    wanted = yaml.safe_load(GX_YML)
    if not path.exists():
        path.write_text(GX_YML)
        return
    current = yaml.safe_load(path.read_text()) or {}
    if {k: v for k, v in current.items() if k not in ("fluent_datasources", "data_context_id")} == {
        k: v for k, v in wanted.items() if k != "fluent_datasources"
    }:
        return
    kept = {k: current[k] for k in ("fluent_datasources", "data_context_id") if current.get(k)}
    path.write_text(
        GX_YML.replace("fluent_datasources: {}\n", "")
        + (yaml.safe_dump(kept, sort_keys=False) if kept else "fluent_datasources: {}\n")
    )


# How a suite's rows reach GX: "frame" (a pandas dataframe read from the warehouse; DuckDB,
# and PostgreSQL when the run date has no rows) or "postgres" (validated in place).
FRAME = "frame"
POSTGRES = "postgres"


def _definition_name(check: Check, engine: str) -> str:
    return f"{check.suite}__{engine}"


def _sync(context, settings: Settings) -> None:
    """Write data source, suites, validation definitions and checkpoints from the code."""
    import great_expectations as gx

    # Reuse what is already there when it matches the code: add_or_update would mint new
    # ids, and the versioned JSON would change on every run without any real change.
    sources = {
        FRAME: _existing_source(context, PANDAS_SOURCE)
        or context.data_sources.add_pandas(PANDAS_SOURCE)
    }
    if settings.warehouse_kind == "postgres":
        source = _existing_source(context, POSTGRES_SOURCE)
        url = f"${{{VAR_POSTGRES_URL}}}"  # resolved from the runtime environment, never stored
        if source is None or str(getattr(source, "connection_string", "")) != url:
            source = context.data_sources.add_or_update_postgres(
                POSTGRES_SOURCE, connection_string=url
            )
        sources[POSTGRES] = source

    for check in RAW_CHECKS + OUTPUT_CHECKS:
        suite = _suite(context, check)
        for engine, source in sources.items():
            batch_definition = _batch_definition(source, check, engine)
            name = _definition_name(check, engine)
            definition = _existing(context.validation_definitions, name)
            if definition is None or (definition.batch_definition.id, definition.suite.id) != (
                batch_definition.id,
                suite.id,
            ):
                definition = context.validation_definitions.add_or_update(
                    gx.ValidationDefinition(name=name, data=batch_definition, suite=suite)
                )
            # No Data Docs action per checkpoint: each would rebuild the site's index over
            # every stored validation; _validate builds the docs once for all its checks.
            checkpoint = gx.Checkpoint(
                name=name,
                validation_definitions=[definition],
                actions=[],
                result_format=_result_format(check),
            )
            existing = _existing(context.checkpoints, name)
            if existing is None or _checkpoint_json(existing) != _checkpoint_json(checkpoint):
                context.checkpoints.add_or_update(checkpoint)
    # ValidationDefinition.add_or_update saves a copy of the data source that has lost its
    # link to the context (GX 1.24), and batches of it then fail with "Missing
    # DataContext": put the context's own data sources back.
    for source in sources.values():
        context.data_sources.all().set_datasource(source.name, source)


def _existing(factory, name: str):
    """The stored object, or None. Unchanged objects are not rewritten: another run reading
    the project at that moment would otherwise see a half-written file."""
    from great_expectations.exceptions import DataContextError

    try:
        return factory.get(name)
    except DataContextError:
        return None


def _checkpoint_json(checkpoint) -> str:
    import json

    config = checkpoint.dict()
    config.pop("id", None)
    return json.dumps(config, sort_keys=True, default=str)


def _result_format(check: Check) -> dict:
    result_format: dict[str, Any] = {
        "result_format": "SUMMARY",
        "partial_unexpected_count": EXAMPLES,
    }
    if check.key_columns:
        # GX then reports these columns of the first bad rows, e.g. which customer.
        result_format["unexpected_index_column_names"] = list(check.key_columns)
    return result_format


def _existing_source(context, name: str):
    try:
        # get() (not .all().get()) hands out the source wired to this context.
        return context.data_sources.get(name)
    except KeyError:
        return None


def _suite(context, check: Check):
    import great_expectations as gx
    from great_expectations.exceptions import DataContextError

    wanted = check.expectations()
    try:
        existing = context.suites.get(check.suite)
    except DataContextError:
        existing = None
    if existing is not None and _configs(existing.expectations) == _configs(wanted):
        return existing
    return context.suites.add_or_update(gx.ExpectationSuite(name=check.suite, expectations=wanted))


def _configs(expectations: list) -> list:
    """What an expectation checks, without its generated id."""
    out = []
    for expectation in expectations:
        config = expectation.configuration.to_json_dict()
        config.pop("id", None)
        out.append(config)
    return out


def _batch_definition(source, check: Check, engine: str):
    """Get or create the asset and batch definition; reuse keeps their ids (and JSON) stable."""
    name, kind = ("run_date", "daily") if check.run_column else ("whole", "whole")
    asset = next((a for a in source.assets if a.name == check.suite), None)
    if asset is not None and engine == POSTGRES and not _same_asset(asset, check):
        source.delete_asset(check.suite)
        asset = None
    if asset is None:
        if engine == POSTGRES:
            # Query assets even for plain tables: GX checks that a table asset's table exists
            # when it is added, and the candidates do not exist yet when validate_raw runs.
            asset = source.add_query_asset(check.suite, query=check.source_sql)
        else:
            asset = source.add_dataframe_asset(check.suite)
    existing = next((b for b in asset.batch_definitions if b.name == name), None)
    if existing is not None:
        return existing
    if engine == FRAME:
        # The run's rows are selected in DuckDB; GX gets exactly those as one dataframe.
        return asset.add_batch_definition_whole_dataframe(name)
    if kind == "daily":
        # validate_batchable=False: GX would read a sample row now, before the table exists.
        return asset.add_batch_definition_daily(
            name, column=check.run_column, validate_batchable=False
        )
    return asset.add_batch_definition_whole_table(name)


def _same_asset(asset, check: Check) -> bool:
    return getattr(asset, "query", None) == check.source_sql


# -- running -------------------------------------------------------------------------------
def validate_raw(settings: Settings, run_date: str) -> dict:
    """Validate the raw tables after ingest; raise :class:`ValidationError` on any failure."""
    return _validate(settings, run_date, RAW_CHECKS)


def validate_outputs(settings: Settings, run_date: str) -> dict:
    """Validate ``publish_candidates`` for the run date; raise :class:`ValidationError` on failure."""
    return _validate(settings, run_date, OUTPUT_CHECKS)


def _parameters(settings: Settings, day: date) -> dict[str, Any]:
    # Dates as datetimes at midnight: they compare with pandas datetime64 columns (DuckDB
    # DATE read into pandas) and with SQL DATE columns alike; an ISO string compares with
    # neither in pandas.
    midnight = datetime.combine(day, datetime.min.time())
    return {
        "run_date": midnight,
        "last_forecast_date": midnight + timedelta(days=settings.forecast_horizon),
        "top_k": settings.top_k,
    }


def _validate(settings: Settings, run_date: str, checks: tuple[Check, ...]) -> dict:
    try:
        day = date.fromisoformat(run_date)
    except ValueError as exc:
        raise ValueError(f"run_date {run_date!r} is not a date in YYYY-MM-DD form") from exc
    context = get_context(settings)
    warehouse = open_warehouse(settings)
    parameters = _parameters(settings, day)
    results: dict[str, Any] = {}
    problems: list[str] = []
    documented: list = []  # the validation results and suites of this call, for Data Docs
    for check in checks:
        if not warehouse.table_exists(check.schema, check.table):
            problems.append(
                f"{check.suite}: table {check.schema}.{check.table} does not exist "
                "(run the steps that build it before validating)"
            )
            results[check.suite] = {
                "success": False,
                "evaluated": 0,
                "expectations": 0,
                "failed": [problems[-1]],
            }
            continue
        outcome = _run_checkpoint(context, settings, warehouse, check, day, parameters)
        summary = _summarise(check, outcome)
        documented += _docs_resources(outcome)
        log.info(
            "%s on %s: %s, %d rows, %d expectations, %d failed",
            check.suite,
            check.where,
            "passed" if summary["success"] else "FAILED",
            summary["evaluated"],
            summary["expectations"],
            len(summary["failed"]),
        )
        results[check.suite] = summary
        problems.extend(summary["failed"])
    if documented:
        context.build_data_docs(site_names=[DATA_DOCS_SITE], resource_identifiers=documented)
    results["data_docs"] = _data_docs_index(settings)
    if problems:
        raise ValidationError(
            f"{len(problems)} expectation(s) failed for run date {run_date} "
            f"(Data Docs: {results['data_docs']}):\n" + "\n".join(problems)
        )
    return results


def _run_checkpoint(
    context, settings: Settings, warehouse, check: Check, day: date, parameters: dict
):
    if settings.warehouse_kind == "postgres":
        from great_expectations.exceptions.exceptions import NoAvailableBatchesError

        checkpoint = context.checkpoints.get(_definition_name(check, POSTGRES))
        batch_parameters = (
            {"year": day.year, "month": day.month, "day": day.day} if check.run_column else None
        )
        try:
            return checkpoint.run(
                batch_parameters=batch_parameters, expectation_parameters=parameters
            )
        except NoAvailableBatchesError:
            # No rows for the run date: GX has no batch to give. Validate the empty set of
            # rows instead, so "no sales loaded" fails the row-count expectation like on DuckDB.
            pass
    frame = _read_rows(warehouse, check, day)
    checkpoint = context.checkpoints.get(_definition_name(check, FRAME))
    return checkpoint.run(batch_parameters={"dataframe": frame}, expectation_parameters=parameters)


def _docs_resources(outcome) -> list:
    """The identifiers Data Docs renders for one checkpoint result: each validation result
    and its suite (what GX's UpdateDataDocsAction passes)."""
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
    )

    resources: list = []
    for identifier, result in outcome.run_results.items():
        resources += [identifier, ExpectationSuiteIdentifier(name=result.suite_name)]
    return resources


def _read_rows(warehouse, check: Check, day: date) -> pd.DataFrame:
    sql = check.source_sql
    if check.run_column:
        mark = warehouse.param
        sql = f"SELECT * FROM ({sql}) AS v WHERE CAST(v.{qident(check.run_column)} AS DATE) = CAST({mark} AS DATE)"
    return warehouse.query_df(sql, [day.isoformat()] if check.run_column else None)


def _data_docs_index(settings: Settings) -> str:
    return str(Path(runtime_environment(settings)[VAR_DATA_DOCS_DIR]) / "index.html")


def _summarise(check: Check, outcome) -> dict:
    """success / rows evaluated / one line per failed expectation for one checkpoint run."""
    failed: list[str] = []
    rows = 0
    evaluated = 0
    success = bool(outcome.success)
    for suite_result in outcome.run_results.values():
        evaluated += suite_result.statistics.get("evaluated_expectations", 0)
        for r in suite_result.results:
            res = r.result or {}
            rows = max(rows, int(res.get("element_count") or 0))
            if r.expectation_config.type == "expect_table_row_count_to_be_between":
                rows = max(rows, int(res.get("observed_value") or 0))
            if not r.success:
                failed.append(f"{check.suite}: {describe_failure(r)}")
    if not success and not failed:  # defensive: GX said no without naming an expectation
        failed.append(f"{check.suite}: suite failed on {check.where} (see Data Docs)")
    return {
        "success": success and not failed,
        "evaluated": rows,
        "expectations": evaluated,
        "failed": failed,
    }


def describe_failure(r) -> str:
    """One line: expectation(arguments) failed: how many rows, which values."""
    config = r.expectation_config
    head = f"{config.type}({_describe_kwargs(config.kwargs)}) failed"
    error = _exception_message(r.exception_info)
    if error is not None:
        return f"{head}: could not be evaluated: {error}"
    res = r.result or {}
    if config.type == "expect_column_to_exist":
        return (
            f"{head}: the column is missing (a source, ingest or dbt model dropped or renamed it)"
        )
    if res.get("unexpected_count") is not None:
        unexpected = res["unexpected_count"]
        total = res.get("element_count") or 0
        pct = res.get("unexpected_percent_total")
        if pct is None:
            pct = 100.0 * unexpected / total if total else 0.0
        line = f"{head}: {unexpected} of {total} rows ({pct:.2f}%)"
        examples = res.get("partial_unexpected_list") or []
        rows = res.get("partial_unexpected_index_list") or []
        keys = res.get("unexpected_index_column_names") or []
        shown = []
        for i, value in enumerate(examples[:EXAMPLES]):
            text = _show(value)
            # A compound value (dict) already names its row; others get the row's keys.
            if i < len(rows) and isinstance(rows[i], dict) and keys and not isinstance(value, dict):
                text += " [" + ", ".join(f"{k}={_show(rows[i].get(k))}" for k in keys) + "]"
            shown.append(text)
        if shown:
            line += ", e.g. " + ", ".join(shown)
        return line
    if "observed_value" in res:
        return f"{head}: observed {_show(res['observed_value'])}"
    return f"{head}: {res or 'no details'}"


def _exception_message(info: Any) -> str | None:
    """The first error GX caught while computing the expectation's metrics, if any."""
    if not isinstance(info, dict):
        return None
    # GX reports either one {raised_exception, exception_message} or one per metric.
    candidates = [info] + [v for v in info.values() if isinstance(v, dict)]
    for item in candidates:
        if item.get("raised_exception"):
            lines = str(item.get("exception_message") or "").strip().splitlines()
            return lines[0] if lines else "unknown error"
    return None


def _describe_kwargs(kwargs: dict) -> str:
    parts: list[str] = []
    for key in ("column", "column_A", "column_B"):
        if kwargs.get(key) is not None:
            parts.append(str(kwargs[key]))
    if kwargs.get("column_list"):
        parts.extend(str(c) for c in kwargs["column_list"])
    if kwargs.get("min_value") is not None:
        parts.append(
            f"min {_show(kwargs['min_value'])}" + (", strict" if kwargs.get("strict_min") else "")
        )
    if kwargs.get("max_value") is not None:
        parts.append(
            f"max {_show(kwargs['max_value'])}" + (", strict" if kwargs.get("strict_max") else "")
        )
    if kwargs.get("or_equal"):
        parts.append("or equal")
    if kwargs.get("value_set") is not None:
        values = list(kwargs["value_set"])
        shown = ", ".join(_show(v) for v in values[:8]) + (", …" if len(values) > 8 else "")
        parts.append("{" + shown + "}")
    return ", ".join(parts)


def _show(value: Any) -> str:
    if isinstance(value, dict) and "$PARAMETER" in value:
        return str(value["$PARAMETER"])
    if hasattr(value, "item") and not isinstance(value, (list, tuple, dict, str)):
        try:
            value = value.item()  # numpy scalar -> Python
        except (ValueError, AttributeError):
            pass
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "NULL"
    if isinstance(value, (datetime, pd.Timestamp)):
        return (
            value.date().isoformat()
            if value == datetime.combine(value.date(), datetime.min.time())
            else value.isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(_show(v) for v in value) + ")"
    if isinstance(value, dict):
        return "(" + ", ".join(f"{k}={_show(v)}" for k, v in value.items()) + ")"
    return str(value) if not isinstance(value, str) else repr(value)


def main(argv: list[str] | None = None) -> int:
    """``python -m shopguide.validation --sync``: regenerate the GX project from the code."""
    import argparse

    from shopguide.settings import load_settings

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument(
        "--sync", action="store_true", help="write suites, validation definitions and checkpoints"
    )
    args = parser.parse_args(argv)
    if not args.sync:
        parser.print_help()
        return 2
    settings = load_settings()
    get_context(settings)
    print(f"GX project in {settings.expectations_dir} is in step with shopguide/validation.py")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
