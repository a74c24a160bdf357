"""The per-article inputs of the forecast: sales history, the shop calendar, weekday
profiles pooled per product type / department / shop, the origins, and the feature rows
of every article and origin (level estimates, demand class, baselines, actuals), fitted
in parallel with ``applyInPandas``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from spark_jobs.forecast import estimators
from spark_jobs.forecast.config import HISTORY_DAYS, ForecastConfig, _as_date

FEATURE_SCHEMA = (
    "article_id string, origin date, product_type_name string, department_name string, "
    "is_new boolean, n_hist int, mean_hist double, demand_class string, est array<double>, "
    "actual array<double>, base_naive double, base_snaive array<double>, base_wavg double, "
    "scale double"
)
FEATURE_COLUMNS = tuple(c.split()[0] for c in FEATURE_SCHEMA.split(", "))


# -- inputs ------------------------------------------------------------------------
def sellable_articles(articles: DataFrame) -> DataFrame:
    """The articles to forecast (all sellable ones; all, if the input has no flag) with
    the attributes the forecaster pools over."""
    if "is_sellable" in articles.columns:
        articles = articles.where(F.coalesce(F.col("is_sellable").cast("boolean"), F.lit(False)))
    cols = [F.col("article_id").cast("string").alias("article_id")]
    for name in ("product_type_name", "department_name"):
        source = F.col(name) if name in articles.columns else F.lit(None)
        cols.append(F.coalesce(source.cast("string"), F.lit("(unknown)")).alias(name))
    is_new = F.col("is_new").cast("boolean") if "is_new" in articles.columns else F.lit(False)
    cols.append(F.coalesce(is_new, F.lit(False)).alias("is_new"))
    return articles.select(*cols).dropDuplicates(["article_id"])


def sales_history(daily_sales: DataFrame, run_date, history_days: int = HISTORY_DAYS) -> DataFrame:
    """Units per article and day in the ``history_days`` up to and including the run date."""
    run_date = _as_date(run_date)
    start = run_date - dt.timedelta(days=history_days - 1)
    return (
        daily_sales.select(
            F.col("article_id").cast("string").alias("article_id"),
            F.col("sale_date").cast("date").alias("sale_date"),
            F.col("units").cast("double").alias("units"),
            (F.col("customers") if "customers" in daily_sales.columns else F.lit(None))
            .cast("double")
            .alias("customers"),
        )
        .where((F.col("sale_date") >= F.lit(start)) & (F.col("sale_date") <= F.lit(run_date)))
        .groupBy("article_id", "sale_date")
        .agg(F.sum("units").alias("units"), F.sum("customers").alias("customers"))
    )


# -- shop calendar -----------------------------------------------------------------
@dataclass(frozen=True)
class ShopCalendar:
    """Which days the shop was open, learnt from its own sales."""

    first_day: dt.date
    last_day: dt.date
    closed_days: frozenset  # dates with no sale in the whole shop
    closed_weekdays: tuple[int, ...]  # 0 = Monday; closed most weeks: forecast 0

    @property
    def open_weekdays(self) -> int:
        return 7 - len(self.closed_weekdays)

    def is_open(self, days: pd.DatetimeIndex) -> np.ndarray:
        closed = np.array([d.date() in self.closed_days for d in days], dtype=bool)
        return ~closed


def shop_calendar(shop_totals: pd.DataFrame, run_date) -> ShopCalendar:
    """Closed days and closed weekdays from the shop's units per day (sale_date, units).

    A day inside the shop's history on which nothing at all was sold is a closed day
    (a UK gift retailer has no Saturday sales and a Christmas break). A weekday closed
    in at least 6 of its last 8 occurrences is treated as closed in the future too.
    """
    run_date = _as_date(run_date)
    sold = shop_totals[shop_totals["units"] > 0]
    if sold.empty:
        return ShopCalendar(run_date, run_date, frozenset(), ())
    first = pd.Timestamp(pd.to_datetime(sold["sale_date"]).min()).date()
    days = pd.date_range(first, run_date, freq="D")
    open_days = set(pd.to_datetime(sold["sale_date"]).dt.date)
    closed = frozenset(d.date() for d in days if d.date() not in open_days)
    closed_weekdays = []
    if len(days) >= 28:
        recent = days[-56:]
        for weekday in range(7):
            same = [d for d in recent if d.weekday() == weekday]
            share = np.mean([d.date() in closed for d in same]) if same else 0.0
            if share >= 0.75:
                closed_weekdays.append(weekday)
    if len(closed_weekdays) == 7:  # a shop that sold nothing recently: assume all days open
        closed_weekdays = []
    return ShopCalendar(first, run_date, closed, tuple(closed_weekdays))


# -- weekday profiles (pooled per product type / department / shop) -----------------
def _dense(totals: pd.DataFrame, first_day: dt.date, n_days: int) -> np.ndarray:
    """Units per day (sale_date, units) as an array over the ``n_days`` from ``first_day``."""
    out = np.zeros(n_days)
    if len(totals):
        days = pd.to_datetime(totals["sale_date"]).to_numpy().astype("datetime64[D]")
        idx = (days - np.datetime64(first_day, "D")).astype(int)
        ok = (idx >= 0) & (idx < n_days)
        np.add.at(out, idx[ok], totals["units"].to_numpy(dtype=float)[ok])
    return out


class _Days:
    """The shop's history as arrays: weekday and open flag per day since its first sale."""

    def __init__(self, calendar: ShopCalendar):
        self.calendar = calendar
        self.first = calendar.first_day
        days = pd.date_range(calendar.first_day, calendar.last_day, freq="D")
        self.n = len(days)
        self.weekday = days.weekday.to_numpy()
        self.is_open = calendar.is_open(days)

    def profile(self, dense: np.ndarray, origin: dt.date, window: int) -> tuple[np.ndarray, float]:
        """Weekday factors and units sold in the ``window`` days up to ``origin``."""
        end = min((origin - self.first).days + 1, self.n)
        start = max(0, end - window)
        profile = np.ones(7)
        units = 0.0
        if end > start:
            sl = slice(start, end)
            keep = self.is_open[sl]
            wd = self.weekday[sl][keep]
            values = dense[sl][keep]
            units = float(values.sum())
            counts = np.bincount(wd, minlength=7)
            sums = np.bincount(wd, weights=values, minlength=7)
            seen = counts > 0
            if seen.any():
                means = np.where(seen, sums / np.maximum(counts, 1), np.nan)
                profile = np.where(seen, means, np.nanmean(means))
        closed = list(self.calendar.closed_weekdays)
        profile[closed] = 0.0
        open_days = [d for d in range(7) if d not in closed]
        mean = profile[open_days].mean() if open_days else 0.0
        return (profile / mean if mean > 0 else _flat(self.calendar)), units


def weekday_profile(
    totals: pd.DataFrame, calendar: ShopCalendar, origin: dt.date, days: int
) -> np.ndarray:
    """Seven factors (Monday first), mean 1 over the open weekdays, 0 on closed weekdays,
    from units per day (sale_date, units) in the ``days`` before ``origin``."""
    shop_days = _Days(calendar)
    return shop_days.profile(_dense(totals, calendar.first_day, shop_days.n), origin, days)[0]


def _flat(calendar: ShopCalendar) -> np.ndarray:
    flat = np.ones(7)
    for weekday in calendar.closed_weekdays:
        flat[weekday] = 0.0
    return flat


class WeekdayProfiles:
    """Weekday factors per product type, shrunk towards the department's and the shop's.

    A type with few sales borrows its week shape from its department and the shop:
    factor = (n·own + k·parent) / (n + k) with n = the type's units in the window.
    """

    def __init__(
        self, group_totals: pd.DataFrame, shop_totals: pd.DataFrame, calendar: ShopCalendar, config
    ):
        self.config = config
        self.days = _Days(calendar)
        first, n = calendar.first_day, self.days.n
        self.shop = _dense(shop_totals, first, n)
        self.groups = {
            key: _dense(frame, first, n) for key, frame in group_totals.groupby(["level", "key"])
        }
        self._cache: dict = {}

    def _own(self, level: str, key: str, origin: dt.date):
        dense = self.groups.get((level, key))
        if dense is None:
            return np.ones(7), 0.0
        return self.days.profile(dense, origin, self.config.profile_days)

    def factors(self, product_type: str, department: str, origin: dt.date) -> np.ndarray:
        key = (product_type, department, origin)
        if key not in self._cache:
            k = self.config.profile_shrink
            shop, _ = self.days.profile(self.shop, origin, self.config.profile_days)
            dept, n_dept = self._own("department", department, origin)
            dept = (n_dept * dept + k * shop) / (n_dept + k)
            own, n_type = self._own("product_type", product_type, origin)
            self._cache[key] = (n_type * own + k * dept) / (n_type + k)
        return self._cache[key]


# -- per-article features (the parallel part) ------------------------------------------
def origins_for(run_date: dt.date, config: ForecastConfig) -> list[dt.date]:
    """The run date and every weekly origin the fit and the backtest need (oldest first)."""
    H = config.horizon
    wanted = {run_date}
    evaluation = [run_date] + [
        run_date - dt.timedelta(days=H * b) for b in range(1, config.backtest_origins + 1)
    ]
    for origin in evaluation:
        wanted.add(origin)
        for origin_fit in fit_origins(origin, config):
            wanted.add(origin_fit)
    return sorted(wanted)


def fit_origins(origin: dt.date, config: ForecastConfig) -> list[dt.date]:
    """Origins whose whole horizon is known at ``origin``: the windows the weights are fit on."""
    last = origin - dt.timedelta(days=config.horizon)
    return [last - dt.timedelta(days=7 * i) for i in range(config.fit_windows)]


def article_rows(
    pdf: pd.DataFrame,
    run_date: dt.date,
    origins: list,
    closed: np.ndarray,
    week: int,
    config: ForecastConfig,
) -> pd.DataFrame:
    """The feature rows of one article (``pdf``: its sales rows, or one row with no sale_date).

    Spark runs this per article inside ``applyInPandas``; the benchmark runs the very
    same function in one plain Python process to measure Spark's overhead.
    """
    H = config.horizon
    first = pdf.iloc[0]
    sold = pdf[pdf["sale_date"].notna().to_numpy()]
    rows = []
    if not sold.empty:
        days = pd.to_datetime(sold["sale_date"]).to_numpy().astype("datetime64[D]")
        start = days.min()
        idx = (days - start).astype(int)
        n_days = int((np.datetime64(run_date, "D") - start).astype(int)) + 1
        keep = idx < n_days
        y = np.zeros(n_days)
        np.add.at(y, idx[keep], sold["units"].to_numpy(dtype=float)[keep])
        customers = sold["customers"].to_numpy(dtype=float)
        if np.isfinite(customers).any():
            buyers = np.zeros(n_days)
            np.add.at(buyers, idx[keep], np.nan_to_num(customers[keep]))
        else:  # no customer counts in the input: one buyer per day with sales
            buyers = (y > 0).astype(float)
        is_open = ~np.isin(start + np.arange(n_days), closed)
        start_date = start.astype(dt.date)
    article = {
        "article_id": first["article_id"],
        "product_type_name": first["product_type_name"], "department_name": first["department_name"],
        "is_new": bool(first["is_new"]),
    }  # fmt: skip
    for origin in origins:
        base = {**article, "origin": origin}
        if sold.empty or origin < start_date:
            if origin == run_date:
                rows.append({**base, "n_hist": 0, "mean_hist": 0.0, "demand_class": "none",
                             "est": [0.0] * len(estimators.ESTIMATORS), "actual": None,
                             "base_naive": 0.0, "base_snaive": [0.0] * 7, "base_wavg": 0.0,
                             "scale": float("nan")})  # fmt: skip
            continue
        cut = (origin - start_date).days + 1
        hist = y[:cut]
        hist_open = hist[is_open[:cut]]
        hist_open = hist_open[-config.history_days :]
        buyers_open = buyers[:cut][is_open[:cut]][-config.history_days :]
        actual = None
        if origin + dt.timedelta(days=H) <= run_date:
            actual = y[cut : cut + H].tolist()
        rows.append(
            {
                **base,
                "n_hist": int(len(hist_open)),
                "mean_hist": float(hist_open.mean()) if len(hist_open) else 0.0,
                "demand_class": estimators.demand_class(hist_open),
                "est": estimators.level_estimates(hist_open, week, buyers_open).tolist(),
                "actual": actual,
                "base_naive": float(hist[-1]),
                "base_snaive": estimators.seasonal_naive(hist, 7).tolist(),
                "base_wavg": float(hist[-28:].mean()),
                "scale": estimators.mase_scale(hist[-config.history_days :]),
            }
        )
    # column-wise construction: a frame from a list of dicts costs more than the models
    return pd.DataFrame({name: [row[name] for row in rows] for name in FEATURE_COLUMNS})


def _parallelism(spark: SparkSession) -> int:
    """Task slots of the session (local[2] -> 2, a cluster -> its cores)."""
    try:
        return max(1, int(spark.sparkContext.defaultParallelism))
    except Exception:  # e.g. Spark Connect has no SparkContext
        return max(1, int(spark.conf.get("spark.sql.shuffle.partitions", "8")))


def article_features(
    history: DataFrame,
    articles: DataFrame,
    calendar: ShopCalendar,
    run_date,
    config: ForecastConfig,
) -> DataFrame:
    """One row per article and origin: level estimates, demand class, baselines, actuals.

    Runs with ``groupBy(bucket).applyInPandas``: articles are hashed into
    ``buckets_per_task`` x (task slots) buckets, and each call fits every article of its
    bucket one by one (``article_rows``). One call per article would pay Arrow and
    pandas conversion per article; buckets keep the per-article work identical and the
    calls few. The rows are repartitioned to exactly the task slots by bucket, so
    adaptive execution cannot coalesce a small input into one task (which left one of
    two cores idle). Every sellable article gets a row at the run date even without
    sales (n_hist = 0).
    """
    run_date = _as_date(run_date)
    origins = origins_for(run_date, config)
    week = max(calendar.open_weekdays, 1)
    closed = np.array(sorted(calendar.closed_days), dtype="datetime64[D]")
    slots = _parallelism(history.sparkSession)
    buckets = slots * config.buckets_per_task
    grouped = (
        sellable_articles(articles)
        .join(history, "article_id", "left")
        .withColumn("_bucket", F.pmod(F.xxhash64("article_id"), F.lit(buckets)))
        .repartition(slots, "_bucket")
    )

    def per_bucket(pdf: pd.DataFrame) -> pd.DataFrame:
        parts = [
            article_rows(part, run_date, origins, closed, week, config)
            for _, part in pdf.groupby("article_id", sort=False)
        ]
        if not parts:
            return pd.DataFrame({name: [] for name in FEATURE_COLUMNS})
        return pd.concat(parts, ignore_index=True)

    return grouped.groupBy("_bucket").applyInPandas(per_bucket, schema=FEATURE_SCHEMA)
