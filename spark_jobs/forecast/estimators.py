"""Per-series forecasting models and metrics on plain numpy arrays (no Spark here).

Spark calls these inside ``applyInPandas`` (one article at a time); the driver uses
the pooled fitting helpers on the collected backtest rows; the evaluation command and
the benchmark call the very same functions.

Vocabulary:
- *calendar series*: one value per calendar day, zero-filled (closed days are 0).
- *open-day series*: the calendar series with the shop's closed days removed, so a
  closed day does not look like a day without demand.
- *level*: expected units per open day; a daily forecast is level x weekday factor.
"""

from __future__ import annotations

import numpy as np

SEASON = 7

# Level estimators, all "units per open day". The ensemble averages them with weights
# from their pooled backtest error (see fit_weights); one of them, the anchor, sets the
# total (see ensemble.anchor_ratio).
ESTIMATORS = (
    "mean_7",
    "mean_28",
    "mean_56",
    "mean_112",
    "weekly_trimmed_mean",
    "weekly_median",
    "capped_mean_91",
    "croston_classic",
    "croston_sba",
    "tsb",
    "buyers_x_median_basket",
    "buyers_trend_capped_mean",
    "capped_mean_182",
    "tight_capped_mean_56",
    "winsorised_weekly_mean",
)
# statsforecast models among the estimators (fitted on the last STATS_WINDOW open days).
STATS_WINDOW = 182
DEMAND_CLASSES = ("smooth", "erratic", "intermittent", "lumpy")


# -- numpy's mean and median of a 1-D float array, without their per-call overhead ----
# The per-article features call them some 30 times per article and origin (about 380k
# series-origins at 20k articles); np.mean's and np.median's argument handling cost more
# than the arithmetic. Same operations, same results (tests compare them bit for bit).
def _mean(a: np.ndarray) -> np.float64:
    """``np.mean(a)`` of a non-empty 1-D float array: its sum (numpy's pairwise sum, as
    np.mean takes it) divided by its length."""
    return a.sum() / a.size


def _median(a: np.ndarray) -> np.float64:
    """``np.median(a)`` of a non-empty 1-D float array: the middle order statistic, or the
    mean of the two middle ones; nan when ``a`` holds a nan (numpy's own check)."""
    half = a.size // 2
    if a.size % 2:
        part = np.partition(a, (half, -1))
        middle = part[half]
    else:
        part = np.partition(a, (half - 1, half, -1))
        middle = (part[half - 1] + part[half]) / 2
    return np.float64(np.nan) if np.isnan(part[-1]) else middle


# -- baselines on the calendar series ---------------------------------------------
def naive(y: np.ndarray, horizon: int) -> np.ndarray:
    """Last observed value, repeated."""
    last = float(y[-1]) if len(y) else 0.0
    return np.full(horizon, last)


def seasonal_naive(y: np.ndarray, horizon: int, season: int = SEASON) -> np.ndarray:
    """The value one season back, repeated season after season."""
    if len(y) == 0:
        return np.zeros(horizon)
    if len(y) < season:
        return naive(y, horizon)
    last_season = np.asarray(y[-season:], dtype=float)
    return np.resize(last_season, horizon)


def window_average(y: np.ndarray, horizon: int, window: int = 28) -> np.ndarray:
    """Mean of the last ``window`` days, flat."""
    if len(y) == 0:
        return np.zeros(horizon)
    return np.full(horizon, float(np.mean(y[-window:])))


def seasonal_naive_residuals(
    y: np.ndarray, season: int = SEASON, lookback: int = 182
) -> np.ndarray:
    """In-sample errors of the seasonal-naive forecast over the last ``lookback`` days."""
    y = np.asarray(y, dtype=float)
    if len(y) <= season:
        return np.zeros(0)
    errors = y[season:] - y[:-season]
    return errors[-lookback:]


def mase_scale(y: np.ndarray, season: int = SEASON) -> float:
    """In-sample mean absolute error of seasonal naive: the MASE denominator (nan if undefined)."""
    y = np.asarray(y, dtype=float)
    if len(y) <= season:
        return float("nan")
    return float(_mean(np.abs(y[season:] - y[:-season])))


def empirical_interval(
    point: np.ndarray,
    residuals: np.ndarray,
    low: float = 0.1,
    high: float = 0.9,
    season: int = SEASON,
) -> tuple[np.ndarray, np.ndarray]:
    """p10/p90 from residual quantiles, widened with the square root of the seasons ahead.

    A forecast k seasons ahead repeats a value k seasons old, so its error is
    roughly a sum of k one-season errors: spread grows like sqrt(k).
    """
    horizon = len(point)
    if len(residuals) == 0:
        return point.copy(), point.copy()
    q_low, q_high = np.quantile(residuals, [low, high])
    seasons_ahead = np.sqrt(np.arange(horizon) // season + 1)
    lower = np.maximum(point + q_low * seasons_ahead, 0.0)
    upper = np.maximum(point + q_high * seasons_ahead, lower)
    return np.minimum(lower, point), np.maximum(upper, point)


# -- the shopguide ensemble: level estimators on the open-day series ---------------
def _finite_or_mean(value: float, y: np.ndarray) -> float:
    return value if np.isfinite(value) else float(np.mean(y))


# -- intermittent-demand models: statsforecast's CrostonClassic, CrostonSBA and TSB -------
# The same recursions as statsforecast.models (_ses_forecast, _croston_classic, _tsb),
# operation for operation, so the numbers are identical
# (tests/unit/forecast/test_estimators.py compares them on random series).
# statsforecast itself is not imported on the nightly path: its import (numba) costs
# every Spark Python worker seconds of CPU.
def ses_forecast(x: np.ndarray, alpha: float) -> float:
    """One-step-ahead forecast of simple exponential smoothing started at ``x[0]``:
    s_0 = x_0, s_i = alpha * x_(i-1) + (1 - alpha) * s_(i-1), forecast alpha * x_last + (1 - alpha) * s_last."""
    values = np.asarray(x, dtype=float).tolist()
    complement = 1 - alpha
    level = values[0]
    # a plain loop over at most a few hundred floats: faster than a vectorised filter's
    # call overhead, and no import (scipy.signal costs every Spark Python worker seconds)
    for value in values[:-1]:
        level = alpha * value + complement * level
    return alpha * values[-1] + complement * level


def croston_classic(y: np.ndarray) -> float:
    """Croston's method (alpha 0.1 for sizes and intervals): the next value's forecast."""
    y = np.asarray(y, dtype=float)
    sizes = y[y > 0]
    if not sizes.size:
        return float(y[-1])
    size = ses_forecast(sizes, 0.1)
    # np.diff(np.where(y != 0)[0] + 1, prepend=0), without np.diff's call overhead
    days = np.flatnonzero(y) + 1
    intervals = np.empty(days.size)
    intervals[0] = days[0]
    intervals[1:] = days[1:] - days[:-1]
    interval = ses_forecast(intervals, 0.1)
    return size / interval if interval != 0.0 else size


def croston_sba(y: np.ndarray) -> float:
    """Syntetos-Boylan approximation: Croston's forecast times 0.95."""
    return float(np.float64(croston_classic(y)) * 0.95)


def tsb(y: np.ndarray, alpha_d: float, alpha_p: float) -> float:
    """Teunter-Syntetos-Babai: smoothed demand probability times smoothed demand size."""
    y = np.asarray(y, dtype=float)
    if (y == 0).all():
        return 0.0
    probability = ses_forecast((y != 0).astype(float), alpha_p)
    size = ses_forecast(y[y > 0], alpha_d)
    return probability * size


def level_estimates(
    y_open: np.ndarray, week: int = 6, buyers_open: np.ndarray | None = None
) -> np.ndarray:
    """Every estimator's units per open day for an open-day history (oldest first).

    ``week`` is the number of open days per week: weekly sums use blocks of it, so
    a week always holds each open weekday once. ``buyers_open`` (customers per day,
    same days) drives the two buyer-based estimators: the number of buyers is far
    less lumpy than units, which one wholesale order can multiply.
    """
    y = np.asarray(y_open, dtype=float)
    out = np.zeros(len(ESTIMATORS))
    n = len(y)
    if n == 0 or not y.any():
        return out
    out[0], out[1], out[2], out[3] = _mean(y[-7:]), _mean(y[-28:]), _mean(y[-56:]), _mean(y[-112:])
    weeks = min(8, n // week)
    if weeks >= 1:
        sums = np.sort(y[n - weeks * week :].reshape(weeks, week).sum(axis=1))
        # Trimming the best and worst week keeps one wholesale order from setting the level.
        out[4] = (_mean(sums[1:-1]) if weeks >= 4 else _mean(sums)) / week
        out[5] = _median(sums) / week
    else:
        out[4] = out[5] = _mean(y)
    recent = y[-91:]
    sold = recent[recent > 0]
    sold_median = float(_median(sold)) if len(sold) else None
    cap = max(5.0 * sold_median, 1.0) if len(sold) else 1.0
    out[6] = _mean(np.minimum(recent, cap))
    window = y[-STATS_WINDOW:]
    if len(window) >= 14 and np.count_nonzero(window) >= 2:
        # Not IMAPA or ADIDA: they get no weight on the Online Retail backtests and their
        # optimised smoothing dominates the per-series time, so the cheap fixed-parameter
        # intermittent-demand models stand in.
        out[7] = _finite_or_mean(croston_classic(window), window)
        out[8] = _finite_or_mean(croston_sba(window), window)
        out[9] = _finite_or_mean(tsb(window, alpha_d=0.1, alpha_p=0.1), window)
    else:
        out[7:10] = out[1]
    buyers = (y > 0).astype(float) if buyers_open is None else np.asarray(buyers_open, dtype=float)
    # anonymous sales have no customer id: count a day with units but no known buyer as one buyer
    buyers = np.where((y > 0) & (buyers <= 0), 1.0, buyers)
    long = slice(-182, None)
    days_with_buyers = buyers[long] > 0
    if days_with_buyers.any():
        basket = float(_median(y[long][days_with_buyers] / buyers[long][days_with_buyers]))
        out[10] = _mean(buyers[-56:]) * basket
        long_buyers = _mean(buyers[long])
        capped_long = _mean(np.minimum(y[long], cap))
        out[11] = (
            capped_long * (_mean(buyers[-56:]) / long_buyers) if long_buyers > 0 else capped_long
        )
    out[12] = _mean(np.minimum(y[-182:], cap))
    tight = max(3.0 * sold_median, 1.0) if len(sold) else 1.0
    out[13] = _mean(np.minimum(y[-56:], tight))
    weeks = min(13, n // week)
    if weeks >= 1:
        sums = y[n - weeks * week :].reshape(weeks, week).sum(axis=1)
        out[14] = _mean(np.minimum(sums, 2.0 * max(float(_median(sums)), 1.0))) / week
    else:
        out[14] = _mean(y)
    return np.maximum(out, 0.0)


def demand_class(y_open: np.ndarray, lookback: int = 91) -> str:
    """Syntetos-Boylan class of the recent open-day demand (ADI 1.32, CV² 0.49 cut-offs)."""
    y = np.asarray(y_open[-lookback:], dtype=float)
    sold = y[y > 0]
    if len(sold) == 0:
        return "lumpy"
    adi = len(y) / len(sold)
    cv2 = float(np.var(sold) / np.mean(sold) ** 2) if len(sold) > 1 else 0.0
    if adi < 1.32:
        return "smooth" if cv2 < 0.49 else "erratic"
    return "intermittent" if cv2 < 0.49 else "lumpy"


def fit_weights(
    X: np.ndarray,
    y: np.ndarray,
    bias_ratio: float = 1.0,
    iters: int = 40,
    sample_weight=None,
    convex: bool = False,
) -> np.ndarray:
    """Non-negative weights w minimising Σ|y − Xw| subject to Σ Xw = bias_ratio · Σ y
    (or, with ``convex``, subject to Σ w = 1).

    Pooled over many articles and backtest windows, so each weight reflects how well
    an estimator did on this shop's data. Absolute error (what WAPE measures) is
    minimised by iteratively reweighted least squares. The total constraint keeps the
    fitted total on target (the L1 optimum alone is a median and under-forecasts skewed
    demand); the convex constraint makes the mix a weighted average of the estimators,
    which only splits a total that is set elsewhere (see ``ensemble.anchor_ratio``).
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    n, k = X.shape
    if n == 0 or not np.any(y):
        return np.full(k, 1.0 / k)
    sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    if convex:
        c, target = np.ones(k), 1.0
    else:
        c, target = sw @ X, bias_ratio * float(y @ sw)
    floor = 1e-3 * max(float(np.mean(np.abs(y))), 1e-9)
    w = np.full(k, 1.0 / k)
    for _ in range(iters):
        r = np.abs(y - X @ w)
        s = sw / np.maximum(r, floor)
        w_new = _constrained_nonneg_lsq(X, y, s, c, target)
        if np.allclose(w_new, w, atol=1e-7):
            w = w_new
            break
        w = w_new
    return w


def _constrained_nonneg_lsq(X, y, s, c, target) -> np.ndarray:
    """argmin Σ s(y−Xw)² s.t. c·w = target, w ≥ 0 (active set; k is small).

    The weighted Gram matrix and X's weighted products with y are computed once over
    all k columns; each active set solves on their rows and columns. Recomputing them
    from X's active columns on every pass over the rows took 39 of the 45 s the 100k
    shop's forecast spent on the driver (160 calls, about 12 active sets each)."""
    k = X.shape[1]
    weighted = X * s[:, None]
    gram = X.T @ weighted
    moment = weighted.T @ y
    active = list(range(k))
    while active:
        G = gram[np.ix_(active, active)] + 1e-9 * np.eye(len(active))
        kkt = np.zeros((len(active) + 1, len(active) + 1))
        kkt[:-1, :-1] = 2 * G
        kkt[:-1, -1] = c[active]
        kkt[-1, :-1] = c[active]
        rhs = np.r_[2 * moment[active], target]
        sol = np.linalg.lstsq(kkt, rhs, rcond=None)[0][:-1]
        if (sol >= -1e-12).all():
            w = np.zeros(k)
            w[active] = np.maximum(sol, 0.0)
            return w
        active.pop(int(np.argmin(sol)))
    return np.zeros(k)


def interval_table(
    forecast: np.ndarray,
    actual: np.ndarray,
    bins: int = 10,
    coverage: float = 0.8,
    min_per_bin: int = 200,
):
    """Conformal-style multipliers of the point forecast, per forecast-size bucket.

    Returns (edges, low, high): for a forecast f in bucket b, p10 = f·low[b] and
    p90 = f·high[b]. Within a bucket the bounds are quantiles of actual/forecast on
    the backtest, chosen so that ``coverage`` of the actuals fall inside; many zero
    days push the lower bound to 0, and then the upper quantile moves down so the
    interval does not cover more than asked.
    """
    f = np.asarray(forecast, dtype=float).ravel()
    y = np.asarray(actual, dtype=float).ravel()
    keep = f > 0
    f, y = f[keep], y[keep]
    if len(f) < 20:
        return np.array([0.0]), np.array([0.0, 0.0]), np.array([3.0, 3.0])
    # at least min_per_bin backtest days per bucket: a thin bucket's quantiles are noise
    bins = max(1, min(bins, len(f) // min_per_bin))
    edges = np.unique(np.quantile(f, np.linspace(0, 1, bins + 1)[1:-1]))
    bucket = np.searchsorted(edges, f, side="right")
    low = np.zeros(len(edges) + 1)
    high = np.zeros(len(edges) + 1)
    tail = (1.0 - coverage) / 2
    for b in range(len(edges) + 1):
        ratio = np.sort(y[bucket == b] / f[bucket == b])
        if len(ratio) == 0:
            low[b], high[b] = 0.0, 3.0
            continue
        low[b] = np.quantile(ratio, tail)
        below = np.mean(ratio < low[b])
        high[b] = np.quantile(ratio, min(below + coverage, 1.0))
    return edges, low, np.maximum(high, 1.0)


def apply_intervals(forecast: np.ndarray, table) -> tuple[np.ndarray, np.ndarray]:
    edges, low, high = table
    f = np.asarray(forecast, dtype=float)
    bucket = np.searchsorted(edges, f, side="right")
    return np.minimum(f * low[bucket], f), np.maximum(f * high[bucket], f)


# -- metrics -------------------------------------------------------------------------
def wape(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Σ|y−ŷ| / Σ|y| (nan when nothing was sold)."""
    total = float(np.sum(np.abs(actual)))
    return (
        float(np.sum(np.abs(np.asarray(actual) - np.asarray(forecast))) / total)
        if total
        else float("nan")
    )


def bias(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Σ(ŷ−y) / Σy: positive means over-forecast."""
    total = float(np.sum(actual))
    return (
        float(np.sum(np.asarray(forecast) - np.asarray(actual)) / total) if total else float("nan")
    )


def mase(actual: np.ndarray, forecast: np.ndarray, scale: np.ndarray) -> float:
    """Mean over series of MAE / in-sample seasonal-naive(7) MAE (series with no scale skipped).

    ``actual`` and ``forecast`` are (series, days); ``scale`` is per series.
    """
    actual = np.atleast_2d(actual)
    forecast = np.atleast_2d(forecast)
    scale = np.asarray(scale, dtype=float).ravel()
    ok = np.isfinite(scale) & (scale > 0)
    if not ok.any():
        return float("nan")
    mae = np.mean(np.abs(actual[ok] - forecast[ok]), axis=1)
    return float(np.mean(mae / scale[ok]))


def coverage(actual: np.ndarray, low: np.ndarray, high: np.ndarray) -> float:
    """Share of actuals inside [low, high]."""
    actual = np.asarray(actual)
    return float(np.mean((actual >= low) & (actual <= high))) if actual.size else float("nan")


def to_weeks(daily: np.ndarray) -> np.ndarray:
    """(series, days) -> (series, whole weeks): sums of consecutive 7-day blocks from day 1."""
    daily = np.atleast_2d(daily)
    weeks = daily.shape[1] // 7
    return daily[:, : weeks * 7].reshape(daily.shape[0], weeks, 7).sum(axis=2)
