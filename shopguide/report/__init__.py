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

Modules: ``page`` (the page, chart helpers), ``sections`` (data, recommendation and
pipeline charts), ``demand`` (demand and forecast charts); this module writes the pages.
"""

from __future__ import annotations

import html
import logging
import os
from datetime import date
from pathlib import Path

from shopguide.report.demand import demand, forecast_quality
from shopguide.report.page import Page, query
from shopguide.report.sections import (
    durations,
    model_metrics,
    published_runs,
    quarantine,
    realized,
    row_counts,
)
from shopguide.schema import PUBLISHED_SCHEMA
from shopguide.settings import Settings
from shopguide.warehouse import Warehouse, open_warehouse

__all__ = ["build_report", "report_path", "report_task", "runs_dir", "write_index"]

log = logging.getLogger("shopguide.report")


def runs_dir(settings: Settings) -> Path:
    return Path(settings.reports_dir) / "runs"


def report_path(settings: Settings, run_date: date) -> Path:
    return runs_dir(settings) / run_date.isoformat() / "index.html"


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


def build_report(settings: Settings, run_date: date) -> Path:
    """Write the run's report page (and the runs index); return the page's path."""
    wh = open_warehouse(settings)
    runs = published_runs(wh, run_date)
    out = report_path(settings, run_date)
    out.parent.mkdir(parents=True, exist_ok=True)
    page = Page()
    status = "not published"
    this = runs[runs["run_date"] == run_date] if not runs.empty else runs
    if not this.empty:
        status = f"published, {float(this['duration_seconds'].iloc[0]):.0f} s"
    reports = Path(settings.reports_dir)
    page.html(
        f"<h1>shopguide run {run_date.isoformat()}</h1><p>Status: {html.escape(status)}. "
        f"Warehouse: {html.escape(settings.warehouse_kind)}. Links: "
        f"{_link(reports / 'data_docs' / 'index.html', out.parent, 'Great Expectations Data Docs')}; "
        f"{_link(reports / 'dbt' / 'index.html', out.parent, 'dbt docs')}; "
        f'<a href="../index.html">all runs</a>.</p>'
    )
    page.section("Data", "What each run published and what ingest set aside.")
    row_counts(page, runs, run_date)
    quarantine(page, wh, run_date)
    page.section(
        "Recommendations",
        "Offline (the nightly 7-day holdout) and realized (what customers bought after a "
        "run's lists were published, once the window closed).",
    )
    model_metrics(page, wh, run_date)
    realized(page, wh, run_date)
    page.section("Demand forecasts")
    demand(page, wh, run_date)
    forecast_quality(page, wh, run_date)
    page.section("Pipeline")
    durations(page, runs)
    body = "\n".join(page.parts)
    out.write_text(
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>shopguide run {run_date.isoformat()}</title><style>{CSS}</style></head>"
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
    status = query(
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


def report_task(settings: Settings, run_date: date) -> dict:
    """The pipeline's last task: the report is a by-product, so a failure to draw it is
    logged and returned, never a failed run (the data is already published)."""
    try:
        path = build_report(settings, run_date)
    except Exception as exc:  # noqa: BLE001 - see docstring
        log.warning("run report for %s not written: %s", run_date, exc)
        return {"report": None, "error": str(exc).splitlines()[0] if str(exc) else repr(exc)}
    return {"report": str(path)}
