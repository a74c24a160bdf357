"""Fit and forecast on the driver, pooled over articles: the estimators' weights, the
anchor that sets the total, each article's level (cold start included) and the forecast
of every article at one origin with its interval."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from spark_jobs.forecast import estimators
from spark_jobs.forecast.config import ForecastConfig, _as_date
from spark_jobs.forecast.series import WeekdayProfiles, fit_origins


# -- fit and forecast on the driver (pooled over articles) ------------------------------
@dataclass
class OriginForecast:
    """Forecast of every article at one origin, as arrays (rows follow ``frame``)."""

    frame: pd.DataFrame  # article_id, product_type_name, department_name, model, ...
    p50: np.ndarray  # (articles, horizon)
    p10: np.ndarray
    p90: np.ndarray
    dates: pd.DatetimeIndex


def _factor_matrix(
    frame: pd.DataFrame, origin: dt.date, profiles: WeekdayProfiles, horizon: int
) -> np.ndarray:
    dates = pd.date_range(origin + dt.timedelta(days=1), periods=horizon, freq="D")
    weekdays = dates.weekday.to_numpy()
    rows = [
        profiles.factors(t, d, origin)[weekdays]
        for t, d in zip(frame["product_type_name"], frame["department_name"], strict=True)
    ]
    return np.array(rows).reshape(len(frame), horizon)


def _estimates(frame: pd.DataFrame) -> np.ndarray:
    return np.array(frame["est"].tolist(), dtype=float).reshape(
        len(frame), len(estimators.ESTIMATORS)
    )


def _actuals(frame: pd.DataFrame, horizon: int) -> np.ndarray:
    return np.array(frame["actual"].tolist(), dtype=float).reshape(len(frame), horizon)


def fit_ensemble(
    fit_rows: pd.DataFrame, factors: np.ndarray, config: ForecastConfig
) -> dict[str, np.ndarray]:
    """Estimator weights per demand class from backtest rows (global weights as fallback).

    Each row contributes its weekly actuals against level x the week's weekday factors.
    The weights sum to 1: they choose how the estimators split the total over articles,
    and ``anchor_ratio`` sets the total: weights that also had to hit the fit windows'
    total would learn the growth of those weeks and carry it on into the forecast.
    """
    X = _estimates(fit_rows)
    Y = _actuals(fit_rows, config.horizon)
    blocks = [slice(s, min(s + 7, config.horizon)) for s in range(0, config.horizon, 7)]
    A = np.concatenate([X * factors[:, b].sum(axis=1, keepdims=True) for b in blocks])
    b = np.concatenate([Y[:, blk].sum(axis=1) for blk in blocks])
    classes = np.tile(fit_rows["demand_class"].to_numpy(), len(blocks))
    weights = {"_all": estimators.fit_weights(A, b, convex=True)}
    for name in estimators.DEMAND_CLASSES if config.per_class_weights else ():
        mask = classes == name
        if mask.sum() >= config.class_min_rows * len(blocks):
            weights[name] = estimators.fit_weights(A[mask], b[mask], convex=True)
    return weights


def _anchor_units(frame: pd.DataFrame, factors: np.ndarray, config: ForecastConfig) -> np.ndarray:
    """Per row: the anchor estimator's units over the horizon (its level x the weekday factors)."""
    j = estimators.ESTIMATORS.index(config.total_anchor)
    return _estimates(frame)[:, j] * factors.sum(axis=1)


def anchor_ratio(fit_rows: pd.DataFrame, fit_factors: np.ndarray, config: ForecastConfig) -> float:
    """Units sold per unit of the anchor estimator's forecast on the fit windows, x bias_ratio.

    The anchor (``config.total_anchor``, by default the 91-day mean with one-off orders
    capped) forecasts each article's level x its weekday factors; pooled over the fit
    windows' articles, ``bias_ratio`` x actual / anchor total is the factor that turns
    the anchor's total at the origin into the forecast total. Capping makes the anchor
    low on a shop whose large orders recur (the ratio is above 1) and a long window makes
    it high where demand fades (below 1): the ratio learns either from the shop's own
    recent weeks. 1.0 when the fit windows hold no anchor forecast.
    """
    anchor = float(_anchor_units(fit_rows, fit_factors, config).sum())
    sold = float(_actuals(fit_rows, config.horizon).sum())
    return config.bias_ratio * sold / anchor if anchor > 0 else 1.0


def _anchored(
    levels: np.ndarray,
    models: list[str],
    frame: pd.DataFrame,
    factors: np.ndarray,
    ratio: float,
    config: ForecastConfig,
) -> np.ndarray:
    """The ensemble rows' levels scaled so their total is ``ratio`` x the anchor's total.

    Rows of one origin only (``factors`` are that origin's). Cold-start rows keep their
    level: the anchor has nothing to say about an article without history.
    """
    ensemble = np.array([m.startswith("shopguide_ensemble") for m in models], dtype=bool)
    if not ensemble.any():
        return levels
    target = ratio * float(_anchor_units(frame, factors, config)[ensemble].sum())
    current = float((levels * factors.sum(axis=1))[ensemble].sum())
    out = levels.copy()
    if current > 0:
        out[ensemble] *= target / current
    return out


def _levels(
    frame: pd.DataFrame, weights: dict, config: ForecastConfig
) -> tuple[np.ndarray, list[str]]:
    """Units per open day for each row, and the model that produced it."""
    X = _estimates(frame)
    levels = np.zeros(len(frame))
    models = []
    n_hist = frame["n_hist"].to_numpy()
    mean_hist = frame["mean_hist"].to_numpy(dtype=float)
    classes = frame["demand_class"].to_numpy()
    # A new article's early rate is noisy: shrink it to the launch rate of its product type.
    young = (n_hist > 0) & (n_hist < config.min_history)
    launch_rate = (
        pd.Series(mean_hist[(n_hist > 0) & (n_hist < 91)])
        .groupby(frame["product_type_name"].to_numpy()[(n_hist > 0) & (n_hist < 91)])
        .median()
    )
    overall_launch = (
        float(np.median(mean_hist[(n_hist > 0) & (n_hist < 91)]))
        if ((n_hist > 0) & (n_hist < 91)).any()
        else 0.0
    )
    k = config.cold_start_shrink
    for i in range(len(frame)):
        if n_hist[i] == 0:
            rate = (
                float(launch_rate.get(frame["product_type_name"].iat[i], overall_launch))
                if frame["is_new"].iat[i]
                else 0.0
            )
            levels[i] = rate
            models.append("cold_start_type_launch" if rate > 0 else "no_sales")
        elif young[i]:
            rate = float(launch_rate.get(frame["product_type_name"].iat[i], overall_launch))
            levels[i] = (n_hist[i] * mean_hist[i] + k * rate) / (n_hist[i] + k)
            models.append("cold_start_type_profile")
        else:
            w = weights.get(classes[i], weights["_all"])
            levels[i] = float(X[i] @ w)
            models.append(
                f"shopguide_ensemble_{classes[i]}"
                if classes[i] in weights
                else "shopguide_ensemble"
            )
    return np.maximum(levels, 0.0), models


def forecast_origin(
    features: pd.DataFrame, origin: dt.date, profiles: WeekdayProfiles, config: ForecastConfig
) -> OriginForecast:
    """Fit on the windows known at ``origin`` and forecast every article from ``origin``."""
    H = config.horizon
    origin_ts = pd.Timestamp(origin)
    fit_set = {pd.Timestamp(o) for o in fit_origins(origin, config)}
    origin_col = pd.to_datetime(features["origin"])
    fit_rows = (
        features[
            origin_col.isin(fit_set)
            & features["actual"].notna()
            & (features["n_hist"] >= config.min_history)
        ]
        .sort_values(["origin", "article_id"], kind="stable")
        .reset_index(drop=True)
    )
    weights = {"_all": np.full(len(estimators.ESTIMATORS), 1.0 / len(estimators.ESTIMATORS))}
    table = (np.array([0.0]), np.array([0.0, 0.0]), np.array([3.0, 3.0]))
    ratio = config.bias_ratio
    if len(fit_rows):
        # rows are sorted by origin, so the per-origin blocks stack in row order
        parts = [(_as_date(o), part) for o, part in fit_rows.groupby("origin", sort=True)]
        part_factors = [_factor_matrix(part, o, profiles, H) for o, part in parts]
        fit_factors = np.concatenate(part_factors)
        weights = fit_ensemble(fit_rows, fit_factors, config)
        ratio = anchor_ratio(fit_rows, fit_factors, config)
        # the interval is fitted on the fit windows' forecasts made the same way
        fit_levels = []
        for (_, part), part_f in zip(parts, part_factors, strict=True):
            part_levels, part_models = _levels(part, weights, config)
            fit_levels.append(_anchored(part_levels, part_models, part, part_f, ratio, config))
        table = estimators.interval_table(
            np.concatenate(fit_levels)[:, None] * fit_factors,
            _actuals(fit_rows, H),
            coverage=config.coverage,
        )
    frame = features[origin_col == origin_ts].reset_index(drop=True)
    levels, models = _levels(frame, weights, config)
    factors = _factor_matrix(frame, origin, profiles, H)
    levels = _anchored(levels, models, frame, factors, ratio, config)
    p50 = levels[:, None] * factors
    p10, p90 = estimators.apply_intervals(p50, table)
    frame = frame.assign(model=models)
    dates = pd.date_range(origin + dt.timedelta(days=1), periods=H, freq="D")
    return OriginForecast(frame, p50, p10, p90, dates)
