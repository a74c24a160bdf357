"""The report's data, recommendation and pipeline charts: rows published, quarantined
rows, the nightly holdout, realized performance and task durations."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd

from shopguide.report.page import Page, date_axis, empty_chart, figure, line_chart, png, query
from shopguide.schema import PUBLISHED_SCHEMA, PUBLISHED_TABLES, RAW_SCHEMA
from shopguide.warehouse import Warehouse

HISTORY_RUNS = 30  # runs shown in the over-time charts


def published_runs(wh: Warehouse, run_date: date) -> pd.DataFrame:
    """The latest successful pipeline_runs row per run date, up to ``run_date``."""
    df = query(
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


def row_counts(page: Page, runs: pd.DataFrame, run_date: date) -> None:
    title = "Rows published per table"
    if runs.empty:
        page.chart("row-counts", empty_chart(title, "no successful run yet"), title, False)
        return
    counts = pd.DataFrame(
        [json.loads(r or "{}") for r in runs["row_counts"]], index=runs["run_date"]
    ).fillna(0)
    tables = [t for t in PUBLISHED_TABLES if t in counts.columns and counts[t].sum() > 0]
    if not tables:
        page.chart("row-counts", empty_chart(title, "no rows published"), title, False)
        return
    fig, ax = figure(9.0, 3.8)
    current = run_date
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
    page.chart("row-counts", png(fig), title, True)


def quarantine(page: Page, wh: Warehouse, run_date: date) -> None:
    title = "Quarantined rows by reason"
    df = query(
        wh,
        RAW_SCHEMA,
        "quarantine",
        f"SELECT entity, reason, count(*) AS n FROM {{t}} WHERE run_date = CAST({wh.param} AS DATE) "
        "GROUP BY entity, reason ORDER BY n DESC",
        [run_date],
    )
    if df.empty:
        page.chart(
            "quarantine", empty_chart(title, "no row was quarantined by this run"), title, False
        )
        return
    df = df.head(15)
    fig, ax = figure(9.0, 0.8 + 0.3 * len(df))
    labels = [f"{e}: {r[:60]}" for e, r in zip(df["entity"], df["reason"], strict=False)]
    ax.barh(labels[::-1], df["n"].to_numpy()[::-1], color="#e67e22")
    ax.set_xlabel("rows")
    ax.set_title(title, loc="left", fontsize=11)
    ax.tick_params(axis="y", labelsize=8)
    page.chart("quarantine", png(fig), title, True)


def model_metrics(page: Page, wh: Warehouse, run_date: date) -> None:
    df = query(
        wh,
        PUBLISHED_SCHEMA,
        "model_metrics",
        f"SELECT run_date, model, map_at_k FROM {{t}} WHERE run_date <= CAST({wh.param} AS DATE)",
        [run_date],
    )
    if not df.empty:
        df["run_date"] = pd.to_datetime(df["run_date"])
        df = df[df["run_date"] >= df["run_date"].max() - pd.Timedelta(days=HISTORY_RUNS)]
    line_chart(
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


def realized(page: Page, wh: Warehouse, run_date: date) -> None:
    df = query(
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
    line_chart(
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
    camp = query(
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
            "campaign-uplift",
            empty_chart(title, "no email list's window has closed yet"),
            title,
            False,
        )
        return
    camp["run_date"] = pd.to_datetime(camp["run_date"])
    fig, ax = figure()
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
    date_axis(ax, camp["run_date"])
    fig.autofmt_xdate()
    page.chart("campaign-uplift", png(fig), title, True)


def durations(page: Page, runs: pd.DataFrame) -> None:
    title = "Task durations per run"
    if runs.empty:
        page.chart("task-durations", empty_chart(title, "no successful run yet"), title, False)
        return
    d = pd.DataFrame(
        [json.loads(r or "{}") for r in runs["task_durations"]], index=runs["run_date"]
    ).fillna(0)
    if d.empty or d.to_numpy().sum() <= 0:
        page.chart("task-durations", empty_chart(title, "no task durations recorded"), title, False)
        return
    fig, ax = figure(9.0, 3.6)
    bottom = pd.Series(0.0, index=d.index)
    labels = [str(x) for x in d.index]
    for task in d.columns:
        ax.bar(labels, d[task], bottom=bottom, label=task)
        bottom += d[task]
    ax.set_ylabel("seconds")
    ax.set_title(title, loc="left", fontsize=11)
    ax.legend(fontsize=7, ncol=4)
    ax.tick_params(axis="x", labelrotation=30, labelsize=7)
    page.chart("task-durations", png(fig), title, True)
