"""The run report: one self-contained HTML page per run, for people who do not write SQL.

``var/reports/runs/<run_date>/index.html`` holds every chart as an inline PNG (matplotlib,
base64 ``data:`` URIs), inline CSS and no scripts: it opens from disk or a mail
attachment and makes no network request. ``var/reports/runs/index.html`` lists the runs.

Charts (each from the warehouse; a chart whose data does not exist yet says so):

- rows per published table for this run against the previous runs; quarantined rows by
  reason;
- the recommender's nightly holdout (MAP@K) per model over the runs; the realized hit
  rate of the published lists and of the best baseline (published.recommendation_performance)
  and the email campaign's uplift with its 95% interval (published.campaign_performance);
- demand: actual daily units of the last 56 days and this run's forecast (p50, with the
  p10-p90 band) for the shop, each department and the top articles; the forecaster's
  interval coverage and WAPE against its baselines over the runs (forecast_metrics);
- task durations over the runs; links to Great Expectations Data Docs and dbt docs.
"""

from __future__ import annotations

import base64
import html
import io
import json
import logging
import os
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from shopguide.schema import PUBLISHED_SCHEMA, PUBLISHED_TABLES, RAW_SCHEMA
from shopguide.settings import Settings
from shopguide.warehouse import Warehouse, open_warehouse, qualified

log = logging.getLogger("shopguide.report")

HISTORY_RUNS = 30  # runs shown in the over-time charts
ACTUAL_DAYS = 56  # days of actual sales before the run date in the demand charts
TOP_ARTICLES = 6
MAX_DEPARTMENTS = 12


def runs_dir(settings: Settings) -> Path:
    return Path(settings.reports_dir) / "runs"


def report_path(settings: Settings, run_date: str) -> Path:
    return runs_dir(settings) / run_date / "index.html"


# -- data ------------------------------------------------------------------------------------
def _query(wh: Warehouse, schema: str, table: str, sql: str, params=None) -> pd.DataFrame:
    """``sql`` (with ``{t}`` for the table) or an empty frame when the table is missing."""
    if not wh.table_exists(schema, table):
        return pd.DataFrame()
    return wh.query_df(sql.format(t=qualified(schema, table)), params)


def _runs(wh: Warehouse, run_date: str) -> pd.DataFrame:
    """The latest successful pipeline_runs row per run date, up to ``run_date``."""
    df = _query(
        wh,
        PUBLISHED_SCHEMA,
        "pipeline_runs",
        "SELECT run_date, status, finished_at, duration_seconds, row_counts, task_durations "
        f"FROM {{t}} WHERE status = 'success' AND run_date <= CAST({wh.param} AS DATE) "
        "ORDER BY run_date, finished_at",
        [run_date],
    )
    if df.empty:
        return df
    df["run_date"] = pd.to_datetime(df["run_date"]).dt.date
    df = df.drop_duplicates("run_date", keep="last")
    return df.tail(HISTORY_RUNS).reset_index(drop=True)


# -- charts ----------------------------------------------------------------------------------
def _figure(width: float = 8.0, height: float = 3.4):
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(width, height), dpi=90)
    return fig, ax


def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _empty(title: str, why: str) -> str:
    fig, ax = _figure(8.0, 1.6)
    ax.set_axis_off()
    ax.set_title(title, loc="left", fontsize=11)
    ax.text(0.5, 0.4, why, ha="center", va="center", fontsize=10, color="#666")
    return _png(fig)


class Page:
    """The page's sections and charts, in order."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def section(self, title: str, text: str = "") -> None:
        self.parts.append(f"<h2>{html.escape(title)}</h2>")
        if text:
            self.parts.append(f"<p>{html.escape(text)}</p>")

    def chart(self, name: str, png: str, caption: str, has_data: bool) -> None:
        self.parts.append(
            f'<figure><img class="chart" id="chart-{name}" data-has-data="{str(has_data).lower()}" '
            f'alt="{html.escape(caption)}" src="data:image/png;base64,{png}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )

    def html(self, text: str) -> None:
        self.parts.append(text)


def _row_counts(page: Page, runs: pd.DataFrame, run_date: str) -> None:
    title = "Rows published per table"
    if runs.empty:
        page.chart("row-counts", _empty(title, "no successful run yet"), title, False)
        return
    counts = pd.DataFrame(
        [json.loads(r or "{}") for r in runs["row_counts"]], index=runs["run_date"]
    ).fillna(0)
    tables = [t for t in PUBLISHED_TABLES if t in counts.columns and counts[t].sum() > 0]
    if not tables:
        page.chart("row-counts", _empty(title, "no rows published"), title, False)
        return
    fig, ax = _figure(9.0, 3.8)
    current = date.fromisoformat(run_date)
    previous = counts.loc[[d for d in counts.index if d != current], tables]
    positions = range(len(tables))
    if not previous.empty:
        ax.boxplot(
            [previous[t].to_numpy() for t in tables],
            positions=list(positions),
            widths=0.5,
            patch_artist=True,
            boxprops={"facecolor": "#dde6f0"},
        )
    if current in counts.index:
        ax.scatter(
            list(positions),
            counts.loc[current, tables],
            color="#c0392b",
            zorder=3,
            label=f"this run ({run_date})",
        )
    ax.set_xticks(list(positions), tables, rotation=30, ha="right", fontsize=8)
    ax.set_yscale("symlog")
    ax.set_ylim(bottom=0)
    ax.set_ylabel("rows (log scale)")
    ax.set_title(
        f"{title}: this run against the previous {len(previous)} run(s)", loc="left", fontsize=11
    )
    ax.legend(fontsize=8)
    page.chart("row-counts", _png(fig), title, True)


def _quarantine(page: Page, wh: Warehouse, run_date: str) -> None:
    title = "Quarantined rows by reason"
    df = _query(
        wh,
        RAW_SCHEMA,
        "quarantine",
        f"SELECT entity, reason, count(*) AS n FROM {{t}} WHERE run_date = CAST({wh.param} AS DATE) "
        "GROUP BY entity, reason ORDER BY n DESC",
        [run_date],
    )
    if df.empty:
        page.chart("quarantine", _empty(title, "no row was quarantined by this run"), title, False)
        return
    df = df.head(15)
    fig, ax = _figure(9.0, 0.8 + 0.3 * len(df))
    labels = [f"{e}: {r[:60]}" for e, r in zip(df["entity"], df["reason"], strict=False)]
    ax.barh(labels[::-1], df["n"].to_numpy()[::-1], color="#e67e22")
    ax.set_xlabel("rows")
    ax.set_title(title, loc="left", fontsize=11)
    ax.tick_params(axis="y", labelsize=8)
    page.chart("quarantine", _png(fig), title, True)


def _date_axis(ax, dates) -> None:
    """Readable day ticks; a short range (e.g. one run) is padded to a week either side."""
    from matplotlib.dates import AutoDateLocator, DateFormatter

    days = pd.to_datetime(pd.Series(list(dates))).dropna()
    if not days.empty and (days.max() - days.min()) < pd.Timedelta(days=7):
        ax.set_xlim(days.min() - pd.Timedelta(days=7), days.max() + pd.Timedelta(days=7))
    ax.xaxis.set_major_locator(AutoDateLocator(maxticks=8))
    ax.xaxis.set_major_formatter(DateFormatter("%Y-%m-%d"))


def _lines(page, name, title, frame, x, y, series, ylabel, why_empty, percent=False) -> None:
    if frame.empty:
        page.chart(name, _empty(title, why_empty), title, False)
        return
    fig, ax = _figure()
    for key, group in frame.groupby(series, sort=True):
        group = group.sort_values(x)
        ax.plot(group[x], group[y], marker="o", markersize=3, label=str(key))
    ax.set_ylabel(ylabel)
    ax.set_title(title, loc="left", fontsize=11)
    if percent:
        from matplotlib.ticker import PercentFormatter

        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.legend(fontsize=7, ncol=3)
    _date_axis(ax, frame[x])
    fig.autofmt_xdate()
    page.chart(name, _png(fig), title, True)


def _models(page: Page, wh: Warehouse, run_date: str) -> None:
    df = _query(
        wh,
        PUBLISHED_SCHEMA,
        "model_metrics",
        f"SELECT run_date, model, map_at_k FROM {{t}} WHERE run_date <= CAST({wh.param} AS DATE)",
        [run_date],
    )
    if not df.empty:
        df["run_date"] = pd.to_datetime(df["run_date"])
        df = df[df["run_date"] >= df["run_date"].max() - pd.Timedelta(days=HISTORY_RUNS)]
    _lines(
        page,
        "model-metrics",
        "Nightly holdout: MAP@K, hybrid against the baselines",
        df,
        "run_date",
        "map_at_k",
        "model",
        "MAP@K",
        "no holdout metrics yet (SHOPGUIDE_EVALUATE_RECOMMENDATIONS=0 or the baseline recommender)",
    )


def _realized(page: Page, wh: Warehouse, run_date: str) -> None:
    df = _query(
        wh,
        PUBLISHED_SCHEMA,
        "recommendation_performance",
        "SELECT run_date, window_days, slice, hit_rate FROM {t} "
        f"WHERE scored_on <= CAST({wh.param} AS DATE) AND (slice = 'all' OR slice LIKE 'baseline:%')",
        [run_date],
    )
    if not df.empty:
        df["run_date"] = pd.to_datetime(df["run_date"])
        df["series"] = df["slice"].str.replace("all", "published lists") + (
            " (" + df["window_days"].astype(str) + " days)"
        )
    _lines(
        page,
        "realized-hit-rate",
        "Realized hit rate: share of recommended pairs bought in the window",
        df,
        "run_date",
        "hit_rate",
        "series",
        "hit rate",
        "no run's follow-up window has closed yet (the first needs a run 7 days later)",
        percent=True,
    )
    camp = _query(
        wh,
        PUBLISHED_SCHEMA,
        "campaign_performance",
        "SELECT run_date, window_days, metric, uplift, uplift_ci_low, uplift_ci_high FROM {t} "
        f"WHERE scored_on <= CAST({wh.param} AS DATE) AND metric IN ('conversion_rate', 'listed_conversion_rate')",
        [run_date],
    )
    title = "Email campaign uplift (treatment - control) with 95% interval"
    if camp.empty:
        page.chart(
            "campaign-uplift", _empty(title, "no email list's window has closed yet"), title, False
        )
        return
    camp["run_date"] = pd.to_datetime(camp["run_date"])
    fig, ax = _figure()
    for i, ((metric, window), g) in enumerate(camp.groupby(["metric", "window_days"], sort=True)):
        g = g.sort_values("run_date")
        shift = pd.Timedelta(hours=6 * i)  # side by side, not on top of each other
        err = [
            (g["uplift"] - g["uplift_ci_low"]).fillna(0).to_numpy(),
            (g["uplift_ci_high"] - g["uplift"]).fillna(0).to_numpy(),
        ]
        ax.errorbar(
            g["run_date"] + shift, g["uplift"], yerr=err, fmt="o-", capsize=3, markersize=3,
            label=f"{metric} ({window} days)",
        )  # fmt: skip
    ax.axhline(0, color="#444", linewidth=0.8)
    from matplotlib.ticker import PercentFormatter

    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylabel("uplift (points)")
    ax.set_title(title, loc="left", fontsize=11)
    ax.legend(fontsize=7)
    _date_axis(ax, camp["run_date"])
    fig.autofmt_xdate()
    page.chart("campaign-uplift", _png(fig), title, True)


def _demand(page: Page, wh: Warehouse, run_date: str) -> None:
    day = date.fromisoformat(run_date)
    forecast, actual, dept = _demand_data(wh, run_date, day)
    if forecast.empty:
        title = "Demand: actual and forecast"
        page.chart("demand-shop", _empty(title, "no forecast published for this run"), title, False)
        return
    for frame, column in ((forecast, "forecast_date"), (actual, "sale_date")):
        if not frame.empty:
            frame[column] = pd.to_datetime(frame[column])

    fig, ax = _figure(9.0, 3.4)
    _demand_panel(
        ax, forecast, actual, f"Shop: actual units (last {ACTUAL_DAYS} days) and forecast", day
    )
    ax.legend(fontsize=7)
    ax.set_ylabel("units per day")
    fig.autofmt_xdate()
    page.chart(
        "demand-shop",
        _png(fig),
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
        (forecast, actual, day),
        "department",
        order,
        lambda name: str(name)[:40],
    )
    top = forecast.groupby("article_id")["units_p50"].sum().nlargest(TOP_ARTICLES).index
    _demand_panels(
        page,
        "demand-top-articles",
        f"The top {len(top)} articles by forecast units: actual and forecast with p10-p90",
        (forecast, actual, day),
        "article_id",
        top,
        lambda article: f"article {article}",
    )


def _demand_data(wh: Warehouse, run_date: str, day: date) -> tuple:
    """This run's forecast, the last ACTUAL_DAYS of actual units per article and day, and
    each article's department (a Series by article_id)."""
    forecast = _query(
        wh,
        PUBLISHED_SCHEMA,
        "demand_forecast",
        "SELECT article_id, forecast_date, units_p10, units_p50, units_p90 FROM {t} "
        f"WHERE run_date = CAST({wh.param} AS DATE)",
        [run_date],
    )
    actual = _query(
        wh,
        RAW_SCHEMA,
        "transactions",
        "SELECT article_id, t_dat AS sale_date, sum(coalesce(quantity, 1)) AS units FROM {t} "
        f"WHERE t_dat > CAST({wh.param} AS DATE) AND t_dat <= CAST({wh.param} AS DATE) "
        "GROUP BY article_id, t_dat",
        [(day - timedelta(days=ACTUAL_DAYS)).isoformat(), run_date],
    )
    departments = _query(
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
    page.chart(name, _png(fig), caption, True)


def _forecast_quality(page: Page, wh: Warehouse, run_date: str) -> None:
    df = _query(
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
    _lines(
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
    _lines(
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


def _durations(page: Page, runs: pd.DataFrame) -> None:
    title = "Task durations per run"
    if runs.empty:
        page.chart("task-durations", _empty(title, "no successful run yet"), title, False)
        return
    d = pd.DataFrame(
        [json.loads(r or "{}") for r in runs["task_durations"]], index=runs["run_date"]
    ).fillna(0)
    if d.empty or d.to_numpy().sum() <= 0:
        page.chart("task-durations", _empty(title, "no task durations recorded"), title, False)
        return
    fig, ax = _figure(9.0, 3.6)
    bottom = pd.Series(0.0, index=d.index)
    labels = [str(x) for x in d.index]
    for task in d.columns:
        ax.bar(labels, d[task], bottom=bottom, label=task)
        bottom += d[task]
    ax.set_ylabel("seconds")
    ax.set_title(title, loc="left", fontsize=11)
    ax.legend(fontsize=7, ncol=4)
    ax.tick_params(axis="x", labelrotation=30, labelsize=7)
    page.chart("task-durations", _png(fig), title, True)


# -- the page --------------------------------------------------------------------------------
CSS = """
body { font-family: sans-serif; margin: 2em auto; max-width: 1000px; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 2em; border-bottom: 1px solid #ccc; }
figure { margin: 1em 0; } img.chart { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: 0.85em; color: #555; } table { border-collapse: collapse; }
td, th { padding: 2px 8px; border-bottom: 1px solid #eee; text-align: left; font-size: 0.9em; }
"""


def _link(target: Path, start: Path, text: str) -> str:
    if not target.exists():
        return f"{html.escape(text)}: not generated yet ({html.escape(str(target))})"
    rel = os.path.relpath(target, start)
    return f'<a href="{html.escape(rel)}">{html.escape(text)}</a>'


def build_report(settings: Settings, run_date: str) -> Path:
    """Write the run's report page (and the runs index); return the page's path."""
    date.fromisoformat(run_date)
    wh = open_warehouse(settings)
    runs = _runs(wh, run_date)
    out = report_path(settings, run_date)
    out.parent.mkdir(parents=True, exist_ok=True)
    page = Page()
    status = "not published"
    this = runs[runs["run_date"] == date.fromisoformat(run_date)] if not runs.empty else runs
    if not this.empty:
        status = f"published, {float(this['duration_seconds'].iloc[0]):.0f} s"
    reports = Path(settings.reports_dir)
    page.html(
        f"<h1>shopguide run {html.escape(run_date)}</h1><p>Status: {html.escape(status)}. "
        f"Warehouse: {html.escape(settings.warehouse_kind)}. Links: "
        f"{_link(reports / 'data_docs' / 'index.html', out.parent, 'Great Expectations Data Docs')}; "
        f"{_link(reports / 'dbt' / 'index.html', out.parent, 'dbt docs')}; "
        f'<a href="../index.html">all runs</a>.</p>'
    )
    page.section("Data", "What each run published and what ingest set aside.")
    _row_counts(page, runs, run_date)
    _quarantine(page, wh, run_date)
    page.section(
        "Recommendations",
        "Offline (the nightly 7-day holdout) and realized (what customers bought after a "
        "run's lists were published, once the window closed).",
    )
    _models(page, wh, run_date)
    _realized(page, wh, run_date)
    page.section("Demand forecasts")
    _demand(page, wh, run_date)
    _forecast_quality(page, wh, run_date)
    page.section("Pipeline")
    _durations(page, runs)
    body = "\n".join(page.parts)
    out.write_text(
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>shopguide run {html.escape(run_date)}</title><style>{CSS}</style></head>"
        f"<body>{body}</body></html>",
        encoding="utf-8",
    )
    write_index(settings, wh)
    return out


def write_index(settings: Settings, wh: Warehouse | None = None) -> Path:
    """``runs/index.html``: every run with a report, newest first, with its status."""
    wh = wh or open_warehouse(settings)
    root = runs_dir(settings)
    root.mkdir(parents=True, exist_ok=True)
    days = sorted((p.parent.name for p in root.glob("*/index.html")), reverse=True)
    status = _query(
        wh,
        PUBLISHED_SCHEMA,
        "pipeline_runs",
        "SELECT run_date, status, finished_at, duration_seconds FROM {t} ORDER BY finished_at",
    )
    latest = {}
    for _, r in status.iterrows():
        latest[str(r["run_date"])[:10]] = r
    rows = []
    for d in days:
        r = latest.get(d)
        state = "" if r is None else html.escape(str(r["status"]))
        secs = "" if r is None else f"{float(r['duration_seconds'] or 0):.0f} s"
        rows.append(
            f'<tr><td><a href="{html.escape(d)}/index.html">{html.escape(d)}</a></td>'
            f"<td>{state}</td><td>{secs}</td></tr>"
        )
    path = root / "index.html"
    path.write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>shopguide runs</title>"
        f"<style>{CSS}</style></head><body><h1>shopguide runs</h1>"
        "<table><tr><th>run date</th><th>last status</th><th>duration</th></tr>"
        f"{''.join(rows)}</table></body></html>",
        encoding="utf-8",
    )
    return path


def report_task(settings: Settings, run_date: str) -> dict:
    """The pipeline's last task: the report is a by-product, so a failure to draw it is
    logged and returned, never a failed run (the data is already published)."""
    try:
        path = build_report(settings, run_date)
    except Exception as exc:  # noqa: BLE001 - see docstring
        log.warning("run report for %s not written: %s", run_date, exc)
        return {"report": None, "error": str(exc).splitlines()[0] if str(exc) else repr(exc)}
    return {"report": str(path)}
