"""The report's demand charts: actual units and this run's forecast for the shop, each
department and the top articles, and the forecast backtest over the runs."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from shopguide.report.page import Page, empty_chart, figure, line_chart, png, query
from shopguide.schema import PUBLISHED_SCHEMA, RAW_SCHEMA
from shopguide.warehouse import Warehouse

ACTUAL_DAYS = 56  # days of actual sales before the run date in the demand charts
TOP_ARTICLES = 6
MAX_DEPARTMENTS = 12


def demand(page: Page, wh: Warehouse, run_date: date) -> None:
    forecast, actual, dept = _demand_data(wh, run_date)
    if forecast.empty:
        title = "Demand: actual and forecast"
        page.chart(
            "demand-shop", empty_chart(title, "no forecast published for this run"), title, False
        )
        return
    for frame, column in ((forecast, "forecast_date"), (actual, "sale_date")):
        if not frame.empty:
            frame[column] = pd.to_datetime(frame[column])

    fig, ax = figure(9.0, 3.4)
    _demand_panel(
        ax, forecast, actual, f"Shop: actual units (last {ACTUAL_DAYS} days) and forecast", run_date
    )
    ax.legend(fontsize=7)
    ax.set_ylabel("units per day")
    fig.autofmt_xdate()
    page.chart(
        "demand-shop",
        png(fig),
        "Shop demand: actual and forecast (band: sum of the articles' p10 and p90)",
        True,
    )

    forecast["department"] = forecast["article_id"].map(dept).fillna("(unknown)")
    if not actual.empty:
        actual["department"] = actual["article_id"].map(dept).fillna("(unknown)")
    order = (forecast.groupby("department")["units_p50"].sum().sort_values(ascending=False).index)[
        :MAX_DEPARTMENTS
    ]
    _demand_panels(
        page,
        "demand-departments",
        f"Each department (the {len(order)} with the most forecast units): actual and forecast",
        (forecast, actual, run_date),
        "department",
        order,
        lambda name: str(name)[:40],
    )
    top = forecast.groupby("article_id")["units_p50"].sum().nlargest(TOP_ARTICLES).index
    _demand_panels(
        page,
        "demand-top-articles",
        f"The top {len(top)} articles by forecast units: actual and forecast with p10-p90",
        (forecast, actual, run_date),
        "article_id",
        top,
        lambda article: f"article {article}",
    )


def _demand_data(wh: Warehouse, run_date: date) -> tuple:
    """This run's forecast, the last ACTUAL_DAYS of actual units per article and day, and
    each article's department (a Series by article_id)."""
    forecast = query(
        wh,
        PUBLISHED_SCHEMA,
        "demand_forecast",
        "SELECT article_id, forecast_date, units_p10, units_p50, units_p90 FROM {t} "
        f"WHERE run_date = CAST({wh.param} AS DATE)",
        [run_date],
    )
    actual = query(
        wh,
        RAW_SCHEMA,
        "transactions",
        "SELECT article_id, t_dat AS sale_date, sum(coalesce(quantity, 1)) AS units FROM {t} "
        f"WHERE t_dat > CAST({wh.param} AS DATE) AND t_dat <= CAST({wh.param} AS DATE) "
        "GROUP BY article_id, t_dat",
        [run_date - timedelta(days=ACTUAL_DAYS), run_date],
    )
    departments = query(
        wh, RAW_SCHEMA, "articles", "SELECT DISTINCT article_id, department_name FROM {t}"
    )
    dept = (
        departments.drop_duplicates("article_id").set_index("article_id")["department_name"]
        if not departments.empty
        else pd.Series(dtype=object)
    )
    return forecast, actual, dept


def _demand_panel(ax, fc: pd.DataFrame, act: pd.DataFrame, title: str, day: date) -> None:
    """Actual units (when any) and the forecast's p50 with its p10-p90 band, summed per day."""
    f = fc.groupby("forecast_date")[["units_p10", "units_p50", "units_p90"]].sum()
    if not act.empty:
        a = act.groupby("sale_date")["units"].sum()
        a = a.reindex(pd.date_range(day - timedelta(days=ACTUAL_DAYS - 1), day), fill_value=0)
        ax.plot(a.index, a.to_numpy(), color="#34495e", linewidth=1, label="actual")
    ax.fill_between(
        f.index, f["units_p10"], f["units_p90"], color="#3498db", alpha=0.25, label="p10-p90"
    )
    ax.plot(f.index, f["units_p50"], color="#2980b9", linewidth=1.4, label="forecast p50")
    ax.axvline(pd.Timestamp(day), color="#999", linestyle=":", linewidth=1)
    ax.set_title(title, loc="left", fontsize=9)
    ax.tick_params(labelsize=7)


def _demand_panels(page: Page, name: str, caption: str, data: tuple, column, keys, title) -> None:
    """One small panel per value of ``column`` in ``keys``, three to a row.

    ``data`` is (forecast, actual, run day); ``title(key)`` is a panel's title."""
    import matplotlib.pyplot as plt

    forecast, actual, day = data
    cols = 3
    rows = -(-len(keys) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(10, 2.3 * rows), dpi=90, squeeze=False)
    for ax, key in zip(axes.flat, keys, strict=False):
        act = actual[actual[column] == key] if not actual.empty else actual
        _demand_panel(ax, forecast[forecast[column] == key], act, title(key), day)
    for ax in list(axes.flat)[len(keys) :]:
        ax.set_axis_off()
    fig.autofmt_xdate()
    page.chart(name, png(fig), caption, True)


def forecast_quality(page: Page, wh: Warehouse, run_date: date) -> None:
    df = query(
        wh,
        PUBLISHED_SCHEMA,
        "forecast_metrics",
        "SELECT run_date, level, model, horizon, wape, interval_coverage FROM {t} "
        f"WHERE run_date <= CAST({wh.param} AS DATE) AND level IN ('article', 'shop_weekly')",
        [run_date],
    )
    if not df.empty:
        df["run_date"] = pd.to_datetime(df["run_date"])
        df = df.groupby(["run_date", "level", "model"], as_index=False)[
            ["wape", "interval_coverage"]
        ].mean()
        df["series"] = df["model"] + " (" + df["level"] + ")"
    why = "no backtest metrics yet (SHOPGUIDE_FORECAST_BACKTEST_ORIGINS=0)"
    line_chart(
        page,
        "forecast-wape",
        "Forecast backtest WAPE: the model against its baselines",
        df.dropna(subset=["wape"]) if not df.empty else df,
        "run_date",
        "wape",
        "series",
        "WAPE",
        why,
    )
    coverage = df.dropna(subset=["interval_coverage"]) if not df.empty else df
    line_chart(
        page,
        "forecast-coverage",
        "Forecast p10-p90 interval coverage (target 0.8)",
        coverage,
        "run_date",
        "interval_coverage",
        "series",
        "coverage",
        why,
        percent=True,
    )
