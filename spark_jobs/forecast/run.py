"""The whole run: ``run_forecast`` (the forecast at the run date, its baselines and, with
backtest origins, ``forecast_metrics``) and the seasonal-naive fallback model."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from spark_jobs.forecast import estimators
from spark_jobs.forecast.backtest import (
    articles_at,
    backtest_origins,
    baseline_matrices,
    score_models,
)
from spark_jobs.forecast.config import (
    BASELINE_MODEL,
    BASELINE_SCHEMA,
    BASELINES,
    FORECAST_SCHEMA,
    HISTORY_DAYS,
    METRICS_SCHEMA,
    ForecastConfig,
    _as_date,
)
from spark_jobs.forecast.ensemble import OriginForecast, forecast_origin
from spark_jobs.forecast.series import (
    ShopCalendar,
    WeekdayProfiles,
    article_features,
    origins_for,
    sales_history,
    sellable_articles,
    shop_calendar,
)
from spark_jobs.forecast.timing import timed


@dataclass
class ForecastResult:
    """What one run produces: Spark frames ready to write."""

    forecast: DataFrame  # demand_forecast
    baselines: DataFrame  # naive / seasonal_naive / window_average per article and day
    metrics: DataFrame | None  # forecast_metrics (only with backtest origins)


# -- the whole run ---------------------------------------------------------------------
def _group_totals(history: DataFrame, articles: DataFrame) -> pd.DataFrame:
    """Units per day per product type and department, and (level "shop") for the whole shop:
    columns level, key, sale_date, units.

    One Spark aggregation, units per day, type and department (at most days x type-department
    pairs rows), is collected; the three levels are summed from it on the driver: summing
    them in Spark would cost three more shuffles and a union. Sales of articles missing
    from the catalogue count for the shop only.
    """
    attrs = sellable_articles(
        articles.withColumn("is_sellable", F.lit(True))
        if "is_sellable" in articles.columns
        else articles
    ).select("article_id", "product_type_name", "department_name")
    per_day = (
        history.join(attrs, "article_id", "left")
        .groupBy("sale_date", "product_type_name", "department_name")
        .agg(F.sum("units").alias("units"))
        .toPandas()
    )
    levels = [
        ("shop", None),
        ("product_type", "product_type_name"),
        ("department", "department_name"),
    ]
    parts = []
    for level, column in levels:
        keys = ["sale_date"] if column is None else [column, "sale_date"]
        part = per_day.groupby(keys, as_index=False)["units"].sum()  # drops null keys
        key = "shop" if column is None else part.pop(column)
        parts.append(part.assign(level=level, key=key)[["level", "key", "sale_date", "units"]])
    return pd.concat(parts, ignore_index=True)


def _long(result: OriginForecast) -> pd.DataFrame:
    n, H = result.p50.shape
    return pd.DataFrame(
        {
            "article_id": np.repeat(result.frame["article_id"].to_numpy(), H),
            "forecast_date": np.tile(result.dates.date, n),
            "units_p10": result.p10.ravel(),
            "units_p50": result.p50.ravel(),
            "units_p90": result.p90.ravel(),
            "model": np.repeat(result.frame["model"].to_numpy(), H),
        }
    )


@dataclass
class _OriginState:
    """What a forecast made at ``origin`` knows: its articles and its shop calendar."""

    articles: pd.DataFrame  # article_id, is_new
    calendar: ShopCalendar
    profiles: WeekdayProfiles


def _at_origin(features: pd.DataFrame, state: _OriginState) -> pd.DataFrame:
    """The feature rows of the articles on sale at the state's origin, with their
    newness of that day."""
    is_new = state.articles.set_index("article_id")["is_new"]
    rows = features[features["article_id"].isin(is_new.index)]
    return rows.assign(is_new=rows["article_id"].map(is_new).astype(bool).to_numpy())


def _features_by_week(
    spark: SparkSession,
    history: DataFrame,
    articles: DataFrame,
    states: dict[dt.date, _OriginState],
    run_date: dt.date,
    config: ForecastConfig,
) -> dict[int, pd.DataFrame]:
    """The feature rows of :func:`run_forecast`: one feature pass per open-weekday count
    (the level estimators' week length), over every article on sale at some origin;
    usually one pass."""
    on_sale_any = pd.concat([s.articles for s in states.values()]).drop_duplicates("article_id")
    candidates = (
        articles.withColumn("_aid", F.col("article_id").cast("string"))
        .join(
            spark.createDataFrame(on_sale_any[["article_id"]], "_aid string"),
            "_aid",
            "left_semi",
        )
        .drop("_aid", "is_sellable")
        .withColumn("is_sellable", F.lit(True))
    )
    features_by_week: dict[int, pd.DataFrame] = {}
    for state in states.values():
        week = state.calendar.open_weekdays
        if week not in features_by_week:
            # Closed days are facts of the past (the run date's calendar holds them all);
            # only the weekdays taken as closed from now on depend on the origin.
            calendar = replace(
                states[run_date].calendar, closed_weekdays=state.calendar.closed_weekdays
            )
            features_by_week[week] = article_features(
                history, candidates, calendar, run_date, config
            ).toPandas()
    return features_by_week


def run_forecast(
    daily_sales: DataFrame, articles: DataFrame, run_date, config: ForecastConfig | None = None
) -> ForecastResult:
    """The forecaster: demand_forecast (+ baselines, + forecast_metrics with backtest origins).

    The forecast at the run date is made for the articles the run-date mart says are on
    sale. Each backtest origin is forecast as it would have been that day: the articles
    on sale then (:func:`articles_at`; one that stopped selling later is scored too) and
    the shop calendar known then (closed weekdays of the eight weeks before it), for
    the rows it is scored on and the fit windows it learns from alike."""
    config = config or ForecastConfig()
    run_date = _as_date(run_date)
    spark: SparkSession = daily_sales.sparkSession
    origins = origins_for(run_date, config)
    span = (run_date - origins[0]).days + config.history_days
    with timed("sales history and shop, product-type and department totals"):
        history = sales_history(daily_sales, run_date, span).cache()
        totals = _group_totals(history, articles)
    is_shop = totals["level"] == "shop"
    shop_totals = totals.loc[is_shop, ["sale_date", "units"]].reset_index(drop=True)
    group_totals = totals[~is_shop].reset_index(drop=True)
    states: dict[dt.date, _OriginState] = {}
    past = backtest_origins(run_date, config)
    with timed(f"articles on sale at the run date and {len(past)} backtest origins"):
        today = sellable_articles(articles).select("article_id", "is_new").toPandas()
        for origin in [run_date, *past]:
            known = shop_totals[pd.to_datetime(shop_totals["sale_date"]).dt.date <= origin]
            calendar = shop_calendar(known, origin)
            on_sale = (
                today if origin == run_date else articles_at(articles, daily_sales, origin, config)
            )
            states[origin] = _OriginState(
                on_sale, calendar, WeekdayProfiles(group_totals, shop_totals, calendar, config)
            )
    with timed("per-article features and level estimates (Python workers), collected"):
        features_by_week = _features_by_week(spark, history, articles, states, run_date, config)
    history.unpersist()

    def forecast_at(origin: dt.date) -> OriginForecast:
        state = states[origin]
        features = features_by_week[state.calendar.open_weekdays]
        return forecast_origin(_at_origin(features, state), origin, state.profiles, config)

    with timed("forecast at the run date (driver)"):
        final = forecast_at(run_date)
        forecast = spark.createDataFrame(_long(final), FORECAST_SCHEMA)
        base = baseline_matrices(final.frame, config.horizon)
        n = len(final.frame)
        baselines = spark.createDataFrame(
            pd.DataFrame(
                {
                    "article_id": np.repeat(final.frame["article_id"].to_numpy(), config.horizon),
                    "forecast_date": np.tile(final.dates.date, n),
                    **{name: base[name].ravel() for name in BASELINES},
                }
            ),
            BASELINE_SCHEMA,
        )
    metrics = None
    if config.backtest_origins:
        with timed(f"backtest: {len(past)} origins forecast and scored (driver)"):
            metrics = _backtest(spark, forecast_at, group_totals, shop_totals, run_date, config)
    return ForecastResult(forecast=forecast, baselines=baselines, metrics=metrics)


def _backtest(spark, forecast_at, group_totals, shop_totals, run_date, config) -> DataFrame:
    """forecast_metrics: each backtest origin forecast as it would have been that day and
    scored on the rows with actuals."""
    scored = []
    for origin in backtest_origins(run_date, config):
        result = forecast_at(origin)
        keep = result.frame["actual"].notna().to_numpy()
        scored.append(
            (
                origin,
                OriginForecast(
                    result.frame[keep].reset_index(drop=True),
                    result.p50[keep],
                    result.p10[keep],
                    result.p90[keep],
                    result.dates,
                ),
            )
        )
    return spark.createDataFrame(
        score_models(scored, group_totals, shop_totals, run_date, config), METRICS_SCHEMA
    )


def seasonal_naive_forecast(
    daily_sales: DataFrame,
    articles: DataFrame,
    run_date,
    horizon: int = 28,
    history_days: int = HISTORY_DAYS,
) -> DataFrame:
    """The seasonal-naive baseline (7 days, empirical interval) per sellable article.

    Kept as the fallback model (``--model seasonal_naive``) and as a reference in tests.
    """
    run_date = _as_date(run_date)
    if horizon < 1:
        raise ValueError(f"forecast horizon must be at least 1 day, got {horizon}")
    dates = [run_date + dt.timedelta(days=h) for h in range(1, horizon + 1)]
    grouped = (
        sellable_articles(articles)
        .select("article_id")
        .join(sales_history(daily_sales, run_date, history_days), "article_id", "left")
    )

    def per_article(pdf: pd.DataFrame) -> pd.DataFrame:
        sold = pdf.dropna(subset=["sale_date"])
        y = np.zeros(0)
        if not sold.empty:
            days = pd.to_datetime(sold["sale_date"])
            index = pd.date_range(days.min(), pd.Timestamp(run_date), freq="D")
            y = (
                sold.assign(sale_date=days)
                .groupby("sale_date")["units"]
                .sum()
                .reindex(index, fill_value=0.0)
                .to_numpy()
            )
        point = estimators.seasonal_naive(y, horizon)
        low, high = estimators.empirical_interval(point, estimators.seasonal_naive_residuals(y))
        return pd.DataFrame(
            {"article_id": pdf["article_id"].iloc[0], "forecast_date": dates, "units_p10": low,
             "units_p50": point, "units_p90": high, "model": BASELINE_MODEL}
        )  # fmt: skip

    return grouped.groupBy("article_id").applyInPandas(per_article, schema=FORECAST_SCHEMA)
