"""The rolling-origin backtest: the baselines' forecasts, the backtest origins and the
articles on sale at each, and the ``forecast_metrics`` rows scoring every model."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from spark_jobs.forecast import estimators
from spark_jobs.forecast.config import LEVELS, METRICS_SCHEMA, ForecastConfig
from spark_jobs.forecast.ensemble import OriginForecast, _actuals


def baseline_matrices(frame: pd.DataFrame, horizon: int) -> dict[str, np.ndarray]:
    """The three baselines' daily forecasts for the rows of ``frame``."""
    n = len(frame)
    snaive = np.array(frame["base_snaive"].tolist(), dtype=float).reshape(n, 7)
    return {
        "naive": np.repeat(frame["base_naive"].to_numpy(dtype=float)[:, None], horizon, axis=1),
        "seasonal_naive": np.tile(snaive, (1, -(-horizon // 7)))[:, :horizon],
        "window_average": np.repeat(
            frame["base_wavg"].to_numpy(dtype=float)[:, None], horizon, axis=1
        ),
    }


# -- backtest metrics ------------------------------------------------------------------
def _group_scale(totals: pd.DataFrame, origin: dt.date, history_days: int) -> float:
    if totals.empty:
        return float("nan")
    days = pd.to_datetime(totals["sale_date"])
    series = totals.assign(sale_date=days).groupby("sale_date")["units"].sum()
    series = series[series.index <= pd.Timestamp(origin)]
    if series.empty:
        return float("nan")
    index = pd.date_range(series.index.min(), pd.Timestamp(origin), freq="D")
    return estimators.mase_scale(series.reindex(index, fill_value=0.0).to_numpy()[-history_days:])


def score_models(
    scored: list[tuple[dt.date, OriginForecast]],
    group_totals: pd.DataFrame,
    shop_totals: pd.DataFrame,
    run_date: dt.date,
    config: ForecastConfig,
) -> pd.DataFrame:
    """forecast_metrics rows: shopguide and the baselines at every level, pooled over origins.

    Daily rows have level = article | product_type | department | shop; weekly rows
    (daily forecasts summed to 7-day weeks from the origin) the same with ``_weekly``.
    """
    H = config.horizon
    by_group = {key: frame for key, frame in group_totals.groupby(["level", "key"])}
    collected: dict[tuple[str, str], list] = {}
    for origin, result in scored:
        frame = result.frame
        if frame.empty:
            # A short history: nothing had sold yet at this origin, so nothing to score.
            continue
        actual = _actuals(frame, H)
        forecasts = {"shopguide": result.p50, **baseline_matrices(frame, H)}
        for level in LEVELS:
            if level == "article":
                keys = frame["article_id"].to_numpy()
            elif level == "shop":
                keys = np.full(len(frame), "shop", dtype=object)
            else:
                keys = frame[f"{level}_name"].to_numpy()
            codes, uniques = pd.factorize(keys)
            n_groups = len(uniques)

            def agg(matrix, codes=codes, n=n_groups):
                out = np.zeros((n, matrix.shape[1]))
                np.add.at(out, codes, matrix)
                return out

            if level == "article":
                scale = frame["scale"].to_numpy(dtype=float)
            elif level == "shop":
                scale = np.array([_group_scale(shop_totals, origin, config.history_days)])
            else:
                scale = np.array(
                    [
                        _group_scale(
                            by_group.get((level, key), pd.DataFrame()), origin, config.history_days
                        )
                        for key in uniques
                    ]
                )
            y = agg(actual)
            for model, matrix in forecasts.items():
                entry = {"actual": y, "forecast": agg(matrix), "scale": scale}
                if model == "shopguide":
                    entry["p10"], entry["p90"] = agg(result.p10), agg(result.p90)
                collected.setdefault((level, model), []).append(entry)
    return _metric_rows(collected, run_date, H)


def _metric_rows(collected: dict[tuple[str, str], list], run_date: dt.date, H: int) -> pd.DataFrame:
    """The rows of :func:`score_models` from its matrices per (level, model), pooled over
    origins: daily metrics, and weekly ones (no MASE, no coverage) when the horizon holds
    a whole week."""
    rows = []
    for (level, model), parts in collected.items():
        y = np.concatenate([p["actual"] for p in parts])
        f = np.concatenate([p["forecast"] for p in parts])
        scale = np.concatenate([p["scale"] for p in parts])
        cover = None
        if "p10" in parts[0] and level == "article":
            # Intervals are per article; sums of article bounds are not an aggregate's interval.
            cover = estimators.coverage(
                y,
                np.concatenate([p["p10"] for p in parts]),
                np.concatenate([p["p90"] for p in parts]),
            )
        rows.append(
            (
                run_date,
                level,
                model,
                H,
                estimators.wape(y, f),
                estimators.mase(y, f, scale),
                estimators.bias(y, f),
                cover,
            )
        )
        yw, fw = estimators.to_weeks(y), estimators.to_weeks(f)
        if yw.shape[1]:
            rows.append(
                (
                    run_date,
                    f"{level}_weekly",
                    model,
                    H,
                    estimators.wape(yw, fw),
                    None,
                    estimators.bias(yw, fw),
                    None,
                )
            )
    return pd.DataFrame(rows, columns=[c.split()[0] for c in METRICS_SCHEMA.split(", ")])


def backtest_origins(run_date: dt.date, config: ForecastConfig) -> list[dt.date]:
    """The rolling origins the backtest scores, newest first."""
    return [
        run_date - dt.timedelta(days=config.horizon * b)
        for b in range(1, config.backtest_origins + 1)
    ]


def articles_at(
    articles: DataFrame, daily_sales: DataFrame, origin: dt.date, config: ForecastConfig
) -> pd.DataFrame:
    """(article_id, is_new) of the articles on sale at ``origin``, as the
    ``article_features`` mart would have said that day: listed by it (first_seen_date),
    sold within ``sellable_days`` before it or new and not sold yet
    (:func:`spark_jobs.recommend.asof.articles_as_of`, the recommender's rule too)."""
    from spark_jobs.recommend.asof import articles_as_of
    from spark_jobs.recommend.columns import PURCHASE_DATE

    sales = daily_sales.select(
        F.col("article_id").cast("string").alias("article_id"),
        F.col("sale_date").cast("date").alias(PURCHASE_DATE),
        F.col("units").cast("double").alias("quantity"),
    )
    flags = articles_as_of(articles, sales, origin.isoformat(), config)
    return (
        flags.where(F.col("is_sellable"))
        .select(F.col("article_id").cast("string").alias("article_id"), "is_new")
        .dropDuplicates(["article_id"])
        .toPandas()
    )
