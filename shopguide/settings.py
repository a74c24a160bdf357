"""All configuration, read from environment variables with defaults, in one place.

Nothing environment-specific is hard-coded elsewhere: the embedded default (a DuckDB
file, Spark in-process, a local lake directory) and production (PostgreSQL, a Spark
master, a Hadoop-compatible lake URI) differ only in these variables.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from shopguide.sources.registry import SOURCE_NAMES

REPO_ROOT = Path(__file__).resolve().parents[1]

RECOMMENDERS = ("hybrid", "baseline")


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _env_number(name: str, default, kind):
    raw = _env(name, str(default))
    try:
        return kind(raw)
    except ValueError as exc:
        what = "a whole number" if kind is int else "a number"
        raise ValueError(f"environment variable {name}={raw!r} is not {what}") from exc


def read_alert_webhook() -> str:
    """``SHOPGUIDE_ALERT_WEBHOOK`` alone ("" = log only). The DAG's failure callback reads
    just this field, so the alert still goes out when another setting is invalid and
    :func:`load_settings` raises."""
    return _env("SHOPGUIDE_ALERT_WEBHOOK", "")


# -- read by the DAG files when Airflow parses them: one field each, so a parse never
# fails on an unrelated invalid setting (the full Settings are loaded inside the tasks).
NIGHTLY_CRON = "0 2 * * *"


def read_nightly_schedule() -> str | None:
    """``SHOPGUIDE_NIGHTLY_SCHEDULE`` (UTC cron), default 02:00; ``none`` / ``off`` /
    ``manual``: no schedule, only manual and API triggers."""
    value = _env("SHOPGUIDE_NIGHTLY_SCHEDULE", NIGHTLY_CRON).strip()
    return None if value.lower() in ("none", "off", "manual") else value


def read_task_retries() -> tuple[int, float]:
    """(retries, seconds between them): ``SHOPGUIDE_TASK_RETRIES`` (default 1) and
    ``SHOPGUIDE_RETRY_DELAY_SECONDS`` (default 300)."""
    return (
        _env_number("SHOPGUIDE_TASK_RETRIES", 1, int),
        _env_number("SHOPGUIDE_RETRY_DELAY_SECONDS", 300, float),
    )


def read_export_dir(home) -> str:
    """Where the email export DAG writes its files: ``SHOPGUIDE_EXPORT_DIR``, default
    ``<home>/exports``."""
    return _env("SHOPGUIDE_EXPORT_DIR", str(Path(str(home)) / "exports"))


def _env_int(name: str, default: int) -> int:
    return _env_number(name, default, int)


def _env_float(name: str, default: float) -> float:
    return _env_number(name, default, float)


@dataclass(frozen=True)
class Settings:
    """The run's configuration. Build it with :func:`load_settings`."""

    home: Path
    warehouse_url: str
    lake: str
    reports_dir: Path
    source: str
    source_path: str
    spark_master: str
    spark_driver_memory: str
    spark_executor_memory: str
    top_k: int
    email_top_n: int
    forecast_horizon: int
    quarantine_max_rate: float
    shop_opened: str  # purchases dated before this are corrupt, not history
    alert_webhook: str  # URL that gets a JSON POST when a task fails ("" = log only)
    evaluate_recommendations: bool  # hold out the last days and publish model_metrics
    forecast_backtest_origins: int  # rolling-origin backtest origins (0 = none)
    recommender: str = "hybrid"  # hybrid (the shopping guide) or baseline (repurchase + popularity)
    # -- published layer and email marketing
    email_control_share: float = 0.10  # share of eligible customers held out as control
    retention_runs: int = 90  # published per-run tables keep the last N run dates
    product_url_template: str = "https://shop.example.com/product/{article_id}"
    # -- Spark event logs, where a history server reads them ("" = <home>/spark-events)
    spark_event_log_dir: str = ""
    # -- JVM options of the Spark driver and executors: "auto" picks them from the size of
    # the run's lake inputs (shopguide/spark.py java_options), "" none, else used as given
    spark_java_options: str = "auto"
    # -- the quality gate before publish (shopguide/gate.py)
    gate_map_tolerance: float = 0.0  # hybrid may trail the best baseline's MAP@K by this much
    volume_max_drop: float = 0.5  # a drop of this share vs the last good run stops publish
    accept_volume_change: bool = False  # publish despite such a drop (--accept-volume-change)
    role_prefix: str = "shopguide"  # PostgreSQL roles <prefix>_pipeline, _bi, _marketing
    dbt_project_dir: Path = field(default=REPO_ROOT / "dbt")
    expectations_dir: Path = field(default=REPO_ROOT / "expectations")
    spark_jobs_dir: Path = field(default=REPO_ROOT / "spark_jobs")

    @property
    def warehouse_kind(self) -> str:
        return (
            "postgres"
            if self.warehouse_url.startswith(("postgresql://", "postgres://"))
            else "duckdb"
        )

    @property
    def duckdb_path(self) -> Path:
        if self.warehouse_kind != "duckdb":
            raise ValueError("duckdb_path asked of a PostgreSQL warehouse")
        return Path(self.warehouse_url.removeprefix("duckdb://"))

    @property
    def spark_is_remote(self) -> bool:
        """True when jobs go to a cluster through spark-submit instead of in-process."""
        return not self.spark_master.startswith("local")

    def with_(self, **changes) -> Settings:
        return replace(self, **changes)


def load_settings(**overrides) -> Settings:
    """Read the settings from the environment; keyword arguments override single fields."""
    home = Path(_env("SHOPGUIDE_HOME", str(REPO_ROOT / "var"))).resolve()
    warehouse = _env("SHOPGUIDE_WAREHOUSE", f"duckdb://{home / 'warehouse' / 'shopguide.duckdb'}")
    if not warehouse.startswith(("duckdb:///", "postgresql://", "postgres://")):
        raise ValueError(
            f"SHOPGUIDE_WAREHOUSE={warehouse!r} is neither duckdb:///abs/path/file.duckdb "
            "nor a postgresql:// URL"
        )
    settings = Settings(
        home=home,
        warehouse_url=warehouse,
        lake=_env("SHOPGUIDE_LAKE", str(home / "lake")),
        reports_dir=Path(_env("SHOPGUIDE_REPORTS", str(home / "reports"))),
        source=_env("SHOPGUIDE_SOURCE", "generated"),
        source_path=_env("SHOPGUIDE_SOURCE_PATH", str(home / "data" / "generated")),
        spark_master=_env("SPARK_MASTER", "local[*]"),
        spark_driver_memory=_env("SHOPGUIDE_SPARK_DRIVER_MEMORY", "4g"),
        spark_executor_memory=_env("SHOPGUIDE_SPARK_EXECUTOR_MEMORY", ""),
        top_k=_env_int("SHOPGUIDE_TOP_K", 12),
        email_top_n=_env_int("SHOPGUIDE_EMAIL_TOP_N", 5),
        forecast_horizon=_env_int("SHOPGUIDE_FORECAST_HORIZON", 28),
        quarantine_max_rate=_env_float("SHOPGUIDE_QUARANTINE_MAX_RATE", 0.05),
        shop_opened=_env("SHOPGUIDE_SHOP_OPENED", "1995-01-01"),
        alert_webhook=read_alert_webhook(),
        evaluate_recommendations=_env("SHOPGUIDE_EVALUATE_RECOMMENDATIONS", "1")
        not in ("0", "false", "no"),
        forecast_backtest_origins=_env_int("SHOPGUIDE_FORECAST_BACKTEST_ORIGINS", 3),
        recommender=_env("SHOPGUIDE_RECOMMENDER", "hybrid"),
        email_control_share=_env_float("SHOPGUIDE_EMAIL_CONTROL_SHARE", 0.10),
        retention_runs=_env_int("SHOPGUIDE_RETENTION_RUNS", 90),
        product_url_template=_env(
            "SHOPGUIDE_PRODUCT_URL_TEMPLATE", "https://shop.example.com/product/{article_id}"
        ),
        spark_event_log_dir=_env("SHOPGUIDE_SPARK_EVENT_LOG_DIR", ""),
        spark_java_options=os.environ.get("SHOPGUIDE_SPARK_JAVA_OPTIONS", "auto").strip(),
        gate_map_tolerance=_env_float("SHOPGUIDE_GATE_MAP_TOLERANCE", 0.0),
        volume_max_drop=_env_float("SHOPGUIDE_VOLUME_MAX_DROP", 0.5),
        accept_volume_change=_env("SHOPGUIDE_ACCEPT_VOLUME_CHANGE", "0").lower()
        in ("1", "true", "yes"),
        role_prefix=_env("SHOPGUIDE_ROLE_PREFIX", "shopguide"),
    )
    if not 0 <= settings.email_control_share < 1:
        raise ValueError(
            f"SHOPGUIDE_EMAIL_CONTROL_SHARE={settings.email_control_share}: a share from 0 to below 1"
        )
    if settings.retention_runs < 1:
        raise ValueError(f"SHOPGUIDE_RETENTION_RUNS={settings.retention_runs}: at least 1")
    if settings.recommender not in RECOMMENDERS:
        raise ValueError(
            f"SHOPGUIDE_RECOMMENDER={settings.recommender!r}: choose one of {', '.join(RECOMMENDERS)}"
        )
    if settings.source not in SOURCE_NAMES:
        raise ValueError(
            f"SHOPGUIDE_SOURCE={settings.source!r}: choose one of {', '.join(SOURCE_NAMES)}"
        )
    return settings.with_(**overrides) if overrides else settings
