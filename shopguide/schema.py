"""Column names and types shared by every layer: one place, the shop's words.

The canonical input shape is the H&M Kaggle schema. Source adapters produce pandas
frames with exactly these columns (extra H&M columns are allowed on articles);
the warehouse's ``raw`` schema stores them with the load's run date.
"""

from __future__ import annotations

# Warehouse schemas, in the order data flows through them. ``raw``, ``staging``,
# ``intermediate``, ``marts`` and ``outputs`` are private; only ``published`` is for
# BI tools and marketing.
RAW_SCHEMA = "raw"
OUTPUTS_SCHEMA = "outputs"  # Spark results loaded for the run, before checks
CANDIDATE_SCHEMA = "publish_candidates"  # dbt-built, contract-checked, not yet published
PUBLISHED_SCHEMA = "published"

# Canonical raw columns -> SQL type (portable between DuckDB and PostgreSQL).
CUSTOMER_COLUMNS: dict[str, str] = {
    "customer_id": "VARCHAR",
    "fn": "DOUBLE PRECISION",
    "active": "DOUBLE PRECISION",
    "club_member_status": "VARCHAR",
    "fashion_news_frequency": "VARCHAR",
    "age": "DOUBLE PRECISION",
    "postal_code": "VARCHAR",
}

ARTICLE_COLUMNS: dict[str, str] = {
    "article_id": "VARCHAR",
    "product_code": "BIGINT",
    "prod_name": "VARCHAR",
    "product_type_name": "VARCHAR",
    "product_group_name": "VARCHAR",
    "graphical_appearance_name": "VARCHAR",
    "colour_group_name": "VARCHAR",
    "perceived_colour_master_name": "VARCHAR",
    "department_name": "VARCHAR",
    "index_name": "VARCHAR",
    "index_group_name": "VARCHAR",
    "section_name": "VARCHAR",
    "garment_group_name": "VARCHAR",
    "detail_desc": "VARCHAR",
    # Set by ingest, not read from sources: the run date the article first appeared in
    # the catalogue (the start of history for articles of the first load). A new
    # article is one that appeared lately, not one that never sold.
    "first_seen_date": "DATE",
}

TRANSACTION_COLUMNS: dict[str, str] = {
    "t_dat": "DATE",
    "customer_id": "VARCHAR",
    "article_id": "VARCHAR",
    "price": "DOUBLE PRECISION",  # unit price
    "sales_channel_id": "INTEGER",
    # Extension of the H&M shape: units in the row (H&M rows are one unit each, so 1).
    "quantity": "INTEGER",
}
# customer_id may be NULL in transactions: an anonymous sale counts for demand
# forecasts but not for recommendations (UCI Online Retail has such rows).

# Code lists of the H&M customer and transaction files. Ingest turns an unknown customer
# code into "unknown" (opted out) and quarantines a transaction with an unknown channel.
FASHION_NEWS_FREQUENCIES = ("NONE", "None", "Regularly", "Monthly")
CLUB_MEMBER_STATUSES = ("ACTIVE", "PRE-CREATE", "LEFT CLUB")
# Opt-in for marketing (docs/ARCHITECTURE.md): anyone else is opted out.
OPT_IN_FREQUENCIES = ("Regularly", "Monthly")
OPT_IN_STATUS = "ACTIVE"
SALES_CHANNELS = (1, 2)

# Columns a source file must carry (the rest may be missing and become NULL).
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": ("customer_id",),
    "articles": ("article_id", "prod_name", "product_type_name", "product_group_name"),
    "transactions": ("t_dat", "customer_id", "article_id", "price"),
}

RAW_TABLES: dict[str, dict[str, str]] = {
    "customers": CUSTOMER_COLUMNS,
    "articles": ARTICLE_COLUMNS,
    "transactions": TRANSACTION_COLUMNS,
}

# Every raw row carries the run date that loaded it: loads are keyed by it.
LOAD_COLUMN = "_run_date"

QUARANTINE_COLUMNS: dict[str, str] = {
    "run_date": "DATE",
    "source": "VARCHAR",  # file the row came from
    "entity": "VARCHAR",  # customers | articles | transactions
    "row_number": "BIGINT",
    "reason": "VARCHAR",
    "record": "VARCHAR",  # the offending row as JSON
}

# Published tables: stable names and documented columns. Each is built by a dbt model
# with an enforced contract in ``publish_candidates`` and swapped into ``published``
# in one transaction. ``run_date`` is the first column of each.
PUBLISHED_TABLES: dict[str, dict[str, str]] = {
    "recommendations": {
        "run_date": "DATE",
        "customer_id": "VARCHAR",
        "rank": "INTEGER",
        "article_id": "VARCHAR",
        "score": "DOUBLE PRECISION",
        "reason": "VARCHAR",
    },
    "demand_forecast": {
        "run_date": "DATE",
        "article_id": "VARCHAR",
        "forecast_date": "DATE",
        "units_p10": "DOUBLE PRECISION",
        "units_p50": "DOUBLE PRECISION",
        "units_p90": "DOUBLE PRECISION",
        "model": "VARCHAR",
    },
    "email_campaign_list": {
        "run_date": "DATE",
        "customer_id": "VARCHAR",
        "age_band": "VARCHAR",
        "rank": "INTEGER",
        "article_id": "VARCHAR",
        "prod_name": "VARCHAR",
        "product_type_name": "VARCHAR",
        "colour_group_name": "VARCHAR",
        "price": "DOUBLE PRECISION",
        "reason": "VARCHAR",
        # 'treatment' (sent) | 'control' (held out, not sent: the uplift baseline).
        "campaign_group": "VARCHAR",
    },
}

# Published beside the recommendations and forecasts: what is similar,
# what completes the look, and how well the models did on the run's holdout/backtest.
PUBLISHED_TABLES.update(
    {
        "similar_articles": {
            "run_date": "DATE",
            "article_id": "VARCHAR",
            "rank": "INTEGER",
            "similar_article_id": "VARCHAR",
            "score": "DOUBLE PRECISION",
        },
        "outfit_complements": {
            "run_date": "DATE",
            "article_id": "VARCHAR",
            "rank": "INTEGER",
            "complement_article_id": "VARCHAR",
            "score": "DOUBLE PRECISION",
            "support": "INTEGER",
        },
        "model_metrics": {
            "run_date": "DATE",
            "model": "VARCHAR",
            "k": "INTEGER",
            "precision_at_k": "DOUBLE PRECISION",
            "recall_at_k": "DOUBLE PRECISION",
            "map_at_k": "DOUBLE PRECISION",
            "ndcg_at_k": "DOUBLE PRECISION",
            "catalog_coverage": "DOUBLE PRECISION",
            "novelty": "DOUBLE PRECISION",
            "diversity": "DOUBLE PRECISION",
        },
        "forecast_metrics": {
            "run_date": "DATE",
            "level": "VARCHAR",
            "model": "VARCHAR",
            "horizon": "INTEGER",
            "wape": "DOUBLE PRECISION",
            "mase": "DOUBLE PRECISION",
            "bias": "DOUBLE PRECISION",
            "interval_coverage": "DOUBLE PRECISION",
        },
    }
)

# Natural key of every published table, run_date first: primary keys (PostgreSQL) or
# unique indexes (DuckDB) in ``published``, and the rows a rerun of a date replaces.
# Helpers adding a published table add its key here too.
PUBLISHED_KEYS: dict[str, tuple[str, ...]] = {
    "recommendations": ("run_date", "customer_id", "rank"),
    "demand_forecast": ("run_date", "article_id", "forecast_date"),
    "email_campaign_list": ("run_date", "customer_id", "rank"),
    "similar_articles": ("run_date", "article_id", "rank"),
    "outfit_complements": ("run_date", "article_id", "rank"),
    "model_metrics": ("run_date", "model", "k"),
    "forecast_metrics": ("run_date", "level", "model", "horizon"),
}

# Email campaign groups: a deterministic share of eligible customers, hashed
# on customer and campaign period, is held out as the control group.
CAMPAIGN_GROUPS = ("treatment", "control")

# BI dimensions: per-run snapshots beside the results, so BI names articles,
# charts forecasts against actual sales and slices by customer bands through
# ``published`` alone. No raw personal data (no age, no postal code).
PUBLISHED_TABLES.update(
    {
        "articles": {
            "run_date": "DATE",
            "article_id": "VARCHAR",
            "product_code": "BIGINT",
            "prod_name": "VARCHAR",
            "product_type_name": "VARCHAR",
            "product_group_name": "VARCHAR",
            "graphical_appearance_name": "VARCHAR",
            "colour_group_name": "VARCHAR",
            "perceived_colour_master_name": "VARCHAR",
            "department_name": "VARCHAR",
            "index_name": "VARCHAR",
            "index_group_name": "VARCHAR",
            "section_name": "VARCHAR",
            "garment_group_name": "VARCHAR",
            "price": "DOUBLE PRECISION",
            "price_band": "VARCHAR",
            "is_new": "BOOLEAN",
            "is_sellable": "BOOLEAN",
            "first_seen_date": "DATE",
            "first_sale_date": "DATE",
            "last_sale_date": "DATE",
            "units_7d": "BIGINT",
            "units_28d": "BIGINT",
            "units_total": "BIGINT",
        },
        "daily_sales": {
            "run_date": "DATE",
            "article_id": "VARCHAR",
            "sale_date": "DATE",
            "units": "BIGINT",
            "revenue": "DOUBLE PRECISION",
            "customers": "BIGINT",
        },
        "customer_segments": {
            "run_date": "DATE",
            "customer_id": "VARCHAR",
            "age_band": "VARCHAR",
            "segment": "VARCHAR",
            "price_band": "VARCHAR",
            "recency_band": "VARCHAR",
            "frequency_band": "VARCHAR",
            "monetary_band": "VARCHAR",
            "is_opted_in": "BOOLEAN",
        },
    }
)
PUBLISHED_KEYS.update(
    {
        "articles": ("run_date", "article_id"),
        "daily_sales": ("run_date", "article_id", "sale_date"),
        "customer_segments": ("run_date", "customer_id"),
    }
)
# dbt model of a published table when its name differs (marts.daily_sales owns the name).
PUBLISHED_MODELS: dict[str, str] = {"daily_sales": "pub_daily_sales"}

PIPELINE_RUNS_COLUMNS: dict[str, str] = {
    "run_date": "DATE",
    "status": "VARCHAR",
    "source": "VARCHAR",
    "started_at": "TIMESTAMP",
    "finished_at": "TIMESTAMP",
    "duration_seconds": "DOUBLE PRECISION",
    "row_counts": "VARCHAR",  # JSON: table -> rows published / loaded
    "task_durations": "VARCHAR",  # JSON: task -> seconds
    "message": "VARCHAR",
}

# Spark job outputs written back to the lake (the inputs and the relations they are
# exported from: shopguide.pipeline.SPARK_INPUT_RELATIONS).
# Layout: {lake}/run_date=YYYY-MM-DD/inputs/<name>.parquet and
#         {lake}/run_date=YYYY-MM-DD/outputs/<name>/ (Spark parquet directories).
SPARK_OUTPUTS = (
    "recommendations",
    "demand_forecast",
    "similar_articles",
    "outfit_complements",
    "model_metrics",
    "forecast_metrics",
)

# -- did it work? Realized performance of earlier runs (shopguide/feedback.py) --
# Their ``run_date`` is the scored run's date R (earlier than the run that scores it,
# ``scored_on``): each night rescores the run dates whose follow-up window closed, and
# publish replaces those run dates' rows (feedback.publish_statements).
RECOMMENDATION_PERFORMANCE_COLUMNS: dict[str, str] = {
    "run_date": "DATE",
    "window_days": "INTEGER",
    "slice": "VARCHAR",
    "customers": "INTEGER",
    "pairs": "INTEGER",
    "hits": "INTEGER",
    "hit_rate": "DOUBLE PRECISION",
    "converted_customers": "INTEGER",
    "conversion_rate": "DOUBLE PRECISION",
    "units": "INTEGER",
    "revenue": "DOUBLE PRECISION",
    "scored_on": "DATE",
}
CAMPAIGN_PERFORMANCE_COLUMNS: dict[str, str] = {
    "run_date": "DATE",
    "window_days": "INTEGER",
    "metric": "VARCHAR",
    "treatment_customers": "INTEGER",
    "control_customers": "INTEGER",
    "treatment_value": "DOUBLE PRECISION",
    "control_value": "DOUBLE PRECISION",
    "uplift": "DOUBLE PRECISION",
    "uplift_ci_low": "DOUBLE PRECISION",
    "uplift_ci_high": "DOUBLE PRECISION",
    "scored_on": "DATE",
}
PUBLISHED_TABLES["recommendation_performance"] = RECOMMENDATION_PERFORMANCE_COLUMNS
PUBLISHED_TABLES["campaign_performance"] = CAMPAIGN_PERFORMANCE_COLUMNS
PUBLISHED_KEYS["recommendation_performance"] = ("run_date", "window_days", "slice")
PUBLISHED_KEYS["campaign_performance"] = ("run_date", "window_days", "metric")

# -- Spark outputs loaded into ``outputs.*`` for the run but never published --
# baseline_recommendations: the best baseline's lists (the recommendations' columns +
# the model's name); the quality gate publishes them when the hybrid loses the holdout.
PRIVATE_SPARK_OUTPUTS: dict[str, dict[str, str]] = {
    "baseline_recommendations": {**PUBLISHED_TABLES["recommendations"], "model": "VARCHAR"},
}
