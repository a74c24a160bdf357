"""Forecast evaluation: ``shopguide evaluate forecast``.

Reads a real source, builds the Spark job's inputs (``daily_sales``, ``articles``)
the way the marts do, runs the very same Spark forecaster as the nightly job with
the run date = ``--train-end``, and scores it and the baselines against what was
sold in the ``--horizon`` days after it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys

import numpy as np
import pandas as pd

from spark_jobs.forecast import estimators

MODELS = ("shopguide", "seasonal_naive", "naive", "window_average")


class EvaluationError(ValueError):
    """The evaluation cannot run on the given data (the message says why and what to do)."""


def daily_sales_from_transactions(transactions: pd.DataFrame) -> pd.DataFrame:
    """The ``daily_sales`` mart in pandas: units, revenue and customers per article and day.

    Every sale counts as demand, including rows without a customer id.
    """
    tx = transactions.copy()
    quantity = pd.to_numeric(tx.get("quantity", 1), errors="coerce")
    tx["units"] = (
        (quantity if isinstance(quantity, pd.Series) else pd.Series(1, index=tx.index))
        .fillna(1)
        .astype(float)
    )
    tx["revenue"] = tx["units"] * pd.to_numeric(tx["price"], errors="coerce").fillna(0.0)
    tx["sale_date"] = pd.to_datetime(tx["t_dat"]).dt.normalize()
    tx["article_id"] = tx["article_id"].astype(str)
    out = tx.groupby(["article_id", "sale_date"], as_index=False).agg(
        units=("units", "sum"), revenue=("revenue", "sum"), customers=("customer_id", "nunique")
    )
    out["sale_date"] = out["sale_date"].dt.date
    return out


def top_articles(daily_sales: pd.DataFrame, train_end: dt.date, top: int | None) -> list[str]:
    """Articles sold up to ``train_end``, by units sold (all of them without ``top``)."""
    train = daily_sales[pd.to_datetime(daily_sales["sale_date"]) <= pd.Timestamp(train_end)]
    volume = train.groupby("article_id")["units"].sum().sort_values(ascending=False, kind="stable")
    volume = volume[volume > 0]
    return list(volume.index[:top] if top else volume.index)


def score(actual: np.ndarray, forecast: np.ndarray, scale: np.ndarray, p10=None, p90=None) -> dict:
    """Daily and weekly metrics of one model over (series, days) matrices."""
    daily = {
        "wape": estimators.wape(actual, forecast),
        "mase": estimators.mase(actual, forecast, scale),
        "bias": estimators.bias(actual, forecast),
    }
    if p10 is not None:
        daily["coverage_p10_p90"] = estimators.coverage(actual, p10, p90)
    yw, fw = estimators.to_weeks(actual), estimators.to_weeks(forecast)
    weekly = {"wape": estimators.wape(yw, fw), "bias": estimators.bias(yw, fw)}
    return {
        "daily": {k: round(v, 4) for k, v in daily.items()},
        "weekly": {k: round(v, 4) for k, v in weekly.items()},
    }


def _matrix(
    frame: pd.DataFrame, column: str, ids: list[str], dates: pd.DatetimeIndex
) -> np.ndarray:
    table = frame.pivot_table(
        index="article_id", columns="forecast_date", values=column, aggfunc="sum"
    )
    table.columns = pd.to_datetime(table.columns)
    return table.reindex(index=ids, columns=dates, fill_value=0.0).fillna(0.0).to_numpy(dtype=float)


def evaluate_forecast(args: argparse.Namespace) -> dict:
    """Run the nightly forecaster with run date = ``args.train_end`` and score it.

    ``args``: source, path, train_end (YYYY-MM-DD), horizon (days), top (None = all).
    Returns ``{"horizon", "series", "models": {model: {"daily": …, "weekly": …}}}``.
    """
    return score_matrices(forecast_matrices(args))


def score_matrices(m: dict) -> dict:
    """The metrics of :func:`forecast_matrices`' output, per model."""
    actual, scale = m["actual"], m["scale"]
    models = {
        "shopguide": score(actual, m["forecasts"]["shopguide"], scale, m["p10"], m["p90"]),
    }
    for name in ("seasonal_naive", "naive", "window_average"):
        models[name] = score(actual, m["forecasts"][name], scale)
    return {"horizon": m["horizon"], "series": len(actual), "models": models}


# About 85 lines: the split, the pipeline inputs, the nightly job and the baselines on
# the same series, in the order the evaluation's protocol states them.
def forecast_matrices(args: argparse.Namespace, settings: dict | None = None) -> dict:
    """The (series x days) matrices :func:`evaluate_forecast` scores: ``actual``, the p50
    of ``forecasts[model]`` for shopguide and the baselines, shopguide's ``p10``/``p90``,
    the MASE ``scale`` per series, and the series' article ``ids`` and ``names`` (same
    ``args``). ``settings``: ForecastConfig fields other than the defaults (the benchmark
    compares variants with it)."""
    from shopguide.sources import read_source
    from spark_jobs.common import get_spark
    from spark_jobs.forecast.config import ForecastConfig
    from spark_jobs.forecast.run import run_forecast

    try:
        train_end = dt.date.fromisoformat(str(args.train_end))
    except ValueError as exc:
        raise EvaluationError(
            f"--train-end {args.train_end!r} is not a date: give YYYY-MM-DD"
        ) from exc
    horizon = int(args.horizon)
    if horizon < 7:
        raise EvaluationError(f"--horizon {horizon}: give at least 7 days so weekly metrics exist")
    top = getattr(args, "top", None)

    data = read_source(args.source, args.path)
    daily = daily_sales_from_transactions(data.transactions)
    last_day = pd.to_datetime(daily["sale_date"]).max().date()
    test_end = train_end + dt.timedelta(days=horizon)
    if last_day < test_end:
        raise EvaluationError(
            f"{args.path}: sales end on {last_day}, but --train-end {train_end} + --horizon {horizon} "
            f"needs them up to {test_end}; choose an earlier --train-end or a shorter --horizon"
        )
    ids = top_articles(daily, train_end, top)
    if not ids:
        raise EvaluationError(f"{args.path}: no sales on or before --train-end {train_end}")

    articles = data.articles.copy()
    articles["article_id"] = articles["article_id"].astype(str)
    articles = articles[articles["article_id"].isin(ids)]
    keep = [
        c for c in ("article_id", "product_type_name", "department_name") if c in articles.columns
    ]
    articles = articles[keep].drop_duplicates("article_id").assign(is_sellable=True, is_new=False)
    missing = sorted(set(ids) - set(articles["article_id"]))
    if missing:  # sold but not in the catalogue: still forecast them
        articles = pd.concat(
            [articles, pd.DataFrame({"article_id": missing, "is_sellable": True, "is_new": False})]
        )

    # Spark's Python workers must run this interpreter (pandas, statsforecast), not "python3" on PATH.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = get_spark("shopguide-evaluate-forecast")
    history = daily[pd.to_datetime(daily["sale_date"]) <= pd.Timestamp(train_end)]
    result = run_forecast(
        spark.createDataFrame(history),
        spark.createDataFrame(articles),
        train_end,
        ForecastConfig(**{**(settings or {}), "horizon": horizon}),
    )
    forecast = result.forecast.toPandas()
    baselines = result.baselines.toPandas()

    dates = pd.date_range(train_end + dt.timedelta(days=1), periods=horizon, freq="D")
    test = daily[
        (pd.to_datetime(daily["sale_date"]) > pd.Timestamp(train_end))
        & (pd.to_datetime(daily["sale_date"]) <= pd.Timestamp(test_end))
    ]
    actual = (
        test.assign(forecast_date=test["sale_date"]).pipe(_matrix, "units", ids, dates)
        if len(test)
        else np.zeros((len(ids), horizon))
    )
    forecasts = {"shopguide": _matrix(forecast, "units_p50", ids, dates)}
    for name in ("seasonal_naive", "naive", "window_average"):
        forecasts[name] = _matrix(baselines, name, ids, dates)
    return {
        "horizon": horizon,
        "actual": actual,
        "forecasts": forecasts,
        "p10": _matrix(forecast, "units_p10", ids, dates),
        "p90": _matrix(forecast, "units_p90", ids, dates),
        "scale": _scales(history, ids, train_end),
        "ids": ids,
        "names": _names(data.articles, ids),
    }


def _names(articles: pd.DataFrame, ids: list[str]) -> list[str]:
    """Each article's ``prod_name``, "" where the catalogue has none."""
    if "prod_name" not in articles.columns:
        return [""] * len(ids)
    names = articles.astype({"article_id": str}).drop_duplicates("article_id")
    return names.set_index("article_id")["prod_name"].reindex(ids).fillna("").astype(str).tolist()


def _scales(
    history: pd.DataFrame, ids: list[str], train_end: dt.date, history_days: int = 364
) -> np.ndarray:
    """Per article: in-sample seasonal-naive(7) MAE on its zero-filled daily series (MASE scale)."""
    scales = {}
    for article_id, rows in history[history["article_id"].isin(ids)].groupby("article_id"):
        days = pd.to_datetime(rows["sale_date"])
        index = pd.date_range(days.min(), pd.Timestamp(train_end), freq="D")
        y = (
            rows.assign(sale_date=days)
            .groupby("sale_date")["units"]
            .sum()
            .reindex(index, fill_value=0.0)
        )
        scales[article_id] = estimators.mase_scale(y.to_numpy()[-history_days:])
    return np.array([scales.get(i, np.nan) for i in ids])
