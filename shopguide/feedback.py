"""Did it work? Realized performance of the published lists, and the email campaign's uplift.

A shopping guide is judged by what customers buy after it spoke. Each night, for every
earlier run date R whose follow-up window (R, R + w] has closed by the run date D
(R + w <= D), this module scores

- ``recommendation_performance``: the lists published for R (``published.recommendations``)
  against the purchases in the window (``raw.transactions``, rows dated up to D only),
  per slice: ``all``; ``model:<model>`` (the model that made the published lists);
  ``reason:<family>`` (repurchase, similar, complements, itemitem, als, content, trending,
  popularity, other: the reason text's source); ``cold_start`` (customers who had bought
  nothing up to R); and ``baseline:<model>``, the best baseline's lists for the same
  customers (the private ``outputs.baseline_recommendations``, never sent), so the
  realized lift of the published model over the baseline is visible night by night.
- ``campaign_performance``: the email list of R (``published.email_campaign_list``), its
  ``treatment`` (sent) against its ``control`` (held out) customers: conversion (any
  purchase), conversion on the listed articles, listed units and revenue per customer,
  and the uplift (treatment - control) with a 95% confidence interval.

Definitions (also in the dbt docs of the published tables, which become the warehouse
comments):

- a *pair* is a recommended (customer, article) of R; a *hit* is a pair the customer
  bought in (R, R + w]; ``hit_rate`` = hits / pairs; ``converted_customers`` = customers
  with at least one hit; ``conversion_rate`` = converted_customers / customers; ``units``
  and ``revenue`` (units x unit price) are of the hits' purchases in the window.
- uplift CI: normal approximation, uplift +- 1.96 x se with the unpooled standard error
  sqrt(p_t (1 - p_t) / n_t + p_c (1 - p_c) / n_c) for shares (Wald two-proportion) and
  sqrt(s_t^2 / n_t + s_c^2 / n_c) (sample variances) for per-customer means (Welch);
  NULL when a group has fewer than two customers.

Rescoring: a run date is scored once its first window closes and rescored every night
while its last window closed within ``RESCORE_DAYS`` (late purchase files change the
figures), or while one of its closed windows has no published row yet. The rows are
written by the ``score_feedback`` task into the private ``outputs`` tables (keyed by the
scoring run date ``scored_on``), become contract-checked candidates through dbt, and
replace the published rows of the same run dates inside the publish transaction
(:func:`publish_statements`). A rerun of a night computes the same rows.
"""

from __future__ import annotations

import json
import math
from datetime import date, timedelta

import pandas as pd

from shopguide.schema import (
    CAMPAIGN_PERFORMANCE_COLUMNS,
    CANDIDATE_SCHEMA,
    OUTPUTS_SCHEMA,
    PUBLISHED_SCHEMA,
    RAW_SCHEMA,
    RECOMMENDATION_PERFORMANCE_COLUMNS,
)
from shopguide.warehouse import Warehouse, open_warehouse, qident, qualified

WINDOWS = (7, 14)  # follow-up windows in days after the run date
RESCORE_DAYS = 28  # late data: rescore while the last window closed this recently
Z95 = 1.959963984540054  # two-sided 95% normal quantile

# Reason text -> source family by its start, first match wins (texts from
# spark_jobs/recs_*.py; the quality gate's fallback rows end in " [baseline: <model>]").
REASON_FAMILIES: tuple[tuple[str, str, str], ...] = (
    ("prefix", "you bought this before", "repurchase"),
    ("prefix", "similar to ", "similar"),
    ("prefix", "completes the look with ", "complements"),
    ("prefix", "bought together with what you bought", "itemitem"),
    ("prefix", "customers with your taste bought this", "als"),
    ("prefix", "matches your style", "content"),
    ("prefix", "trending now", "trending"),
    ("prefix", "popular with customers like you", "popularity"),
    ("prefix", "popular in the shop right now", "popularity"),
)
CAMPAIGN_METRICS = (
    "conversion_rate",  # share of customers with any purchase in the window
    "listed_conversion_rate",  # share who bought at least one of their listed articles
    "listed_units_per_customer",  # units of their listed articles bought, per customer
    "revenue_per_customer",  # revenue of all their purchases, per customer
)
PROPORTIONS = {"conversion_rate", "listed_conversion_rate"}

RECOMMENDATION_TABLE = "recommendation_performance"
CAMPAIGN_TABLE = "campaign_performance"
BASELINE_TABLE = "baseline_recommendations"  # private, written by load_outputs


def reason_family(reason: str | None) -> str:
    """The source family of a recommendation's reason text (``other`` if unknown)."""
    text = reason or ""
    for kind, pattern, family in REASON_FAMILIES:
        if (kind == "exact" and text == pattern) or (kind == "prefix" and text.startswith(pattern)):
            return family
    return "other"


def _family_sql(column: str) -> str:
    def lit(text: str) -> str:
        return "'" + text.replace("'", "''") + "'"

    whens = []
    for kind, pattern, family in REASON_FAMILIES:
        test = (
            f"{column} = {lit(pattern)}"
            if kind == "exact"
            else f"substr({column}, 1, {len(pattern)}) = {lit(pattern)}"
        )
        whens.append(f"WHEN {test} THEN {lit(family)}")
    return f"CASE {' '.join(whens)} ELSE 'other' END"


def _windows_sql() -> str:
    return " UNION ALL ".join(f"SELECT {w} AS window_days" for w in WINDOWS)


def _date_list(wh: Warehouse, days: list[date]) -> tuple[str, list[str]]:
    return ", ".join(f"CAST({wh.param} AS DATE)" for _ in days), [d.isoformat() for d in days]


# -- which run dates to score ----------------------------------------------------------
def dates_to_score(
    available: list[date], scored: set[tuple[date, int]], run_date: date
) -> list[date]:
    """Run dates (of ``available`` lists) to (re)score at ``run_date``: at least one window
    closed, and either a closed window not yet scored or the last window closed within
    RESCORE_DAYS. ``scored``: (run date, window) pairs already published."""
    out = []
    for r in sorted(set(available)):
        closed = [w for w in WINDOWS if r + timedelta(days=w) <= run_date]
        if not closed:
            continue
        missing = any((r, w) not in scored for w in closed)
        recent = r + timedelta(days=max(WINDOWS)) > run_date - timedelta(days=RESCORE_DAYS)
        if missing or recent:
            out.append(r)
    return out


def _published_dates(wh: Warehouse, table: str, before: date) -> list[date]:
    if not wh.table_exists(PUBLISHED_SCHEMA, table):
        return []
    df = wh.query_df(
        f"SELECT DISTINCT run_date FROM {qualified(PUBLISHED_SCHEMA, table)} "
        f"WHERE run_date < CAST({wh.param} AS DATE)",
        [before.isoformat()],
    )
    return [pd.Timestamp(v).date() for v in df["run_date"]]


def _scored(wh: Warehouse, table: str) -> set[tuple[date, int]]:
    if not wh.table_exists(PUBLISHED_SCHEMA, table):
        return set()
    df = wh.query_df(
        f"SELECT DISTINCT run_date, window_days FROM {qualified(PUBLISHED_SCHEMA, table)}"
    )
    return {
        (pd.Timestamp(r).date(), int(w))
        for r, w in zip(df["run_date"], df["window_days"], strict=False)
    }


# -- recommendation performance ----------------------------------------------------------
# One name per night's baseline lists: the recommend job tops a short list (repurchase,
# ALS) up with popularity rows labelled "popularity", so the list is the model other
# than popularity when there is one.
_BASELINE_LIST_MODEL = (
    "SELECT run_date, coalesce(max(CASE WHEN model <> 'popularity' THEN model END), "
    "'popularity') AS list_model FROM {base} GROUP BY run_date"
)


def _published_models(wh: Warehouse, days: list[date]) -> dict[date, str]:
    """The model that made each run's published lists: the baseline the quality gate
    fell back to (its rows' reasons end in " [baseline: <model>]"), else the recommender
    of the run's task log."""
    if not days:
        return {}
    marks, params = _date_list(wh, days)
    # A gated night's rows are marked with the model that made each one; the popularity
    # top-up rows name popularity, the list is the other model when there is one.
    fallback = wh.query_df(
        "SELECT run_date, coalesce(max(CASE WHEN reason NOT LIKE '%[baseline: popularity]' "
        "THEN reason END), min(reason)) AS reason "
        f"FROM {qualified(PUBLISHED_SCHEMA, 'recommendations')} "
        f"WHERE run_date IN ({marks}) AND reason LIKE '%[baseline: %]' GROUP BY run_date",
        params,
    )
    gated = {
        pd.Timestamp(r).date(): text.rsplit("[baseline: ", 1)[1].rstrip("]").strip()
        for r, text in zip(fallback["run_date"], fallback["reason"], strict=True)
    }
    if not wh.table_exists(OUTPUTS_SCHEMA, "task_runs"):
        return gated
    df = wh.query_df(
        f"SELECT run_date, result FROM {qualified(OUTPUTS_SCHEMA, 'task_runs')} "
        f"WHERE task = 'recommend' AND status = 'success' AND run_date IN ({marks})",
        params,
    )
    models = {}
    for run_date, result in zip(df["run_date"], df["result"], strict=False):
        try:
            model = json.loads(result).get("model")
        except (TypeError, ValueError):
            model = None
        if model:
            models[pd.Timestamp(run_date).date()] = str(model)
    return {**models, **gated}


def recommendation_performance(wh: Warehouse, run_date: date, days: list[date]) -> pd.DataFrame:
    """Rows of ``recommendation_performance`` for the run dates ``days``, as of ``run_date``."""
    columns = list(RECOMMENDATION_PERFORMANCE_COLUMNS)
    if not days:
        return pd.DataFrame(columns=columns)
    tx = qualified(RAW_SCHEMA, "transactions")
    has_model = "model" in wh.columns(PUBLISHED_SCHEMA, "recommendations")
    lists, list_params = _lists_sql(wh, days, "r.model" if has_model else "'published'")
    d = f"CAST({wh.param} AS DATE)"
    union = _slices_sql()
    sql = f"""
    WITH lists AS ({lists}),
    windows AS ({_windows_sql()}),
    first_buys AS (
        SELECT customer_id, min(t_dat) AS first_day FROM {tx}
        WHERE customer_id IS NOT NULL AND t_dat <= {d} GROUP BY customer_id
    ),
    bought AS (
        SELECT l.run_date, l.list_name, l.customer_id, l.article_id, w.window_days,
               sum(coalesce(t.quantity, 1)) AS units,
               sum(coalesce(t.quantity, 1) * t.price) AS revenue
        FROM lists AS l CROSS JOIN windows AS w
        JOIN {tx} AS t ON t.customer_id = l.customer_id AND t.article_id = l.article_id
         AND t.t_dat > l.run_date AND t.t_dat <= l.run_date + w.window_days AND t.t_dat <= {d}
        GROUP BY l.run_date, l.list_name, l.customer_id, l.article_id, w.window_days
    ),
    scored AS (
        SELECT l.run_date, w.window_days, l.list_name, l.family, l.is_published, l.customer_id,
               CASE WHEN f.first_day IS NULL OR f.first_day > l.run_date THEN 1 ELSE 0 END AS cold,
               CASE WHEN b.units IS NULL THEN 0 ELSE 1 END AS hit,
               coalesce(b.units, 0) AS units, coalesce(b.revenue, 0) AS revenue
        FROM lists AS l CROSS JOIN windows AS w
        LEFT JOIN first_buys AS f ON f.customer_id = l.customer_id
        LEFT JOIN bought AS b ON b.run_date = l.run_date AND b.list_name = l.list_name
         AND b.customer_id = l.customer_id AND b.article_id = l.article_id
         AND b.window_days = w.window_days
        WHERE l.run_date + w.window_days <= {d}
    )
    {union}
    """
    df = wh.query_df(
        sql, [*list_params, run_date.isoformat(), run_date.isoformat(), run_date.isoformat()]
    )
    if df.empty:
        return pd.DataFrame(columns=columns)
    df["run_date"] = pd.to_datetime(df["run_date"]).dt.date
    if not has_model:  # one model per run: name it from the run's task log
        models = _published_models(wh, days)
        published = df["slice"] == "model:published"
        df.loc[published, "slice"] = [
            f"model:{models.get(r, 'unknown')}" for r in df.loc[published, "run_date"]
        ]
    return finish_recommendation_rows(df, run_date)


def _lists_sql(wh: Warehouse, days: list[date], model: str) -> tuple[str, list]:
    """The published lists of ``days`` (``model`` names each row's list) and, when logged,
    the baseline lists of the same customers: one SELECT and its parameters."""
    recs = qualified(PUBLISHED_SCHEMA, "recommendations")
    marks, params = _date_list(wh, days)
    lists = [
        f"SELECT r.run_date, r.customer_id, r.article_id, {_family_sql('r.reason')} AS family, "
        f"{model} AS list_name, 1 AS is_published FROM {recs} AS r WHERE r.run_date IN ({marks})"
    ]
    list_params = list(params)
    if wh.table_exists(OUTPUTS_SCHEMA, BASELINE_TABLE):
        base = qualified(OUTPUTS_SCHEMA, BASELINE_TABLE)
        lists.append(
            f"SELECT b.run_date, b.customer_id, b.article_id, 'baseline' AS family, "
            f"'baseline:' || m.list_model AS list_name, 0 AS is_published FROM {base} AS b "
            f"JOIN ({_BASELINE_LIST_MODEL.format(base=base)}) AS m ON m.run_date = b.run_date "
            f"WHERE b.run_date IN ({marks}) AND EXISTS (SELECT 1 FROM {recs} AS r "
            "WHERE r.run_date = b.run_date AND r.customer_id = b.customer_id)"
        )
        list_params += params
    return " UNION ALL ".join(lists), list_params


def _slices_sql() -> str:
    """The measures of the scored pairs per run date, window and slice (all, per model,
    per reason family, cold start, each baseline list)."""
    measures = (
        "count(DISTINCT customer_id) AS customers, count(*) AS pairs, sum(hit) AS hits, "
        "count(DISTINCT CASE WHEN hit = 1 THEN customer_id END) AS converted_customers, "
        "sum(units) AS units, sum(revenue) AS revenue"
    )
    sliced = [
        ("'all'", "is_published = 1"),
        ("'model:' || list_name", "is_published = 1"),
        ("'reason:' || family", "is_published = 1"),
        ("'cold_start'", "is_published = 1 AND cold = 1"),
        ("list_name", "is_published = 0"),
    ]
    union = " UNION ALL ".join(
        f"SELECT run_date, window_days, {name} AS slice, {measures} FROM scored WHERE {where} "
        "GROUP BY run_date, window_days, 3"
        for name, where in sliced
    )
    return union


def finish_recommendation_rows(df: pd.DataFrame, run_date: date) -> pd.DataFrame:
    """Ratios, types, order and the scoring date of the aggregated rows."""
    out = df.copy()
    for c in ("window_days", "customers", "pairs", "hits", "converted_customers", "units"):
        out[c] = pd.to_numeric(out[c]).fillna(0).astype("int64")
    out["revenue"] = pd.to_numeric(out["revenue"]).fillna(0.0).astype(float)
    out["hit_rate"] = out["hits"] / out["pairs"].where(out["pairs"] > 0)
    out["conversion_rate"] = out["converted_customers"] / out["customers"].where(
        out["customers"] > 0
    )
    out["scored_on"] = run_date
    out = out.sort_values(["run_date", "window_days", "slice"]).reset_index(drop=True)
    return out[list(RECOMMENDATION_PERFORMANCE_COLUMNS)]


# -- campaign performance ----------------------------------------------------------------
def campaign_customers(wh: Warehouse, run_date: date, days: list[date]) -> pd.DataFrame:
    """One row per list date, window and listed customer: campaign_group, purchases,
    listed_units (of the customer's listed articles) and revenue in the window."""
    cols = ["run_date", "window_days", "customer_id", "campaign_group"]
    cols += ["purchases", "listed_units", "revenue"]
    email = qualified(PUBLISHED_SCHEMA, "email_campaign_list")
    if not days or "campaign_group" not in wh.columns(PUBLISHED_SCHEMA, "email_campaign_list"):
        return pd.DataFrame(columns=cols)
    tx = qualified(RAW_SCHEMA, "transactions")
    marks, params = _date_list(wh, days)
    d = f"CAST({wh.param} AS DATE)"
    sql = f"""
    WITH lists AS (
        SELECT run_date, customer_id, article_id, campaign_group FROM {email}
        WHERE run_date IN ({marks}) AND campaign_group IS NOT NULL
    ),
    people AS (SELECT DISTINCT run_date, customer_id, campaign_group FROM lists),
    windows AS ({_windows_sql()}),
    spend AS (
        SELECT p.run_date, p.customer_id, w.window_days, count(*) AS purchases,
               sum(coalesce(t.quantity, 1) * t.price) AS revenue
        FROM people AS p CROSS JOIN windows AS w
        JOIN {tx} AS t ON t.customer_id = p.customer_id
         AND t.t_dat > p.run_date AND t.t_dat <= p.run_date + w.window_days AND t.t_dat <= {d}
        GROUP BY p.run_date, p.customer_id, w.window_days
    ),
    listed AS (
        SELECT l.run_date, l.customer_id, w.window_days,
               sum(coalesce(t.quantity, 1)) AS listed_units
        FROM lists AS l CROSS JOIN windows AS w
        JOIN {tx} AS t ON t.customer_id = l.customer_id AND t.article_id = l.article_id
         AND t.t_dat > l.run_date AND t.t_dat <= l.run_date + w.window_days AND t.t_dat <= {d}
        GROUP BY l.run_date, l.customer_id, w.window_days
    )
    SELECT p.run_date, w.window_days, p.customer_id, p.campaign_group,
           coalesce(s.purchases, 0) AS purchases, coalesce(l.listed_units, 0) AS listed_units,
           coalesce(s.revenue, 0) AS revenue
    FROM people AS p CROSS JOIN windows AS w
    LEFT JOIN spend AS s ON s.run_date = p.run_date AND s.customer_id = p.customer_id
     AND s.window_days = w.window_days
    LEFT JOIN listed AS l ON l.run_date = p.run_date AND l.customer_id = p.customer_id
     AND l.window_days = w.window_days
    WHERE p.run_date + w.window_days <= {d}
    """
    iso = run_date.isoformat()
    df = wh.query_df(sql, [*params, iso, iso, iso])
    if df.empty:
        return pd.DataFrame(columns=cols)
    df["run_date"] = pd.to_datetime(df["run_date"]).dt.date
    return df[cols]


def uplift_ci(
    treatment: pd.Series, control: pd.Series, proportion: bool
) -> tuple[float, float, float, float, float]:
    """(treatment mean, control mean, uplift, CI low, CI high) of two groups' per-customer
    values; 95% normal approximation with the unpooled standard error (Wald for 0/1
    shares, Welch for means). CI NaN when a group has fewer than two customers."""
    t = pd.to_numeric(treatment, errors="coerce").astype(float)
    c = pd.to_numeric(control, errors="coerce").astype(float)
    nt, nc = len(t), len(c)
    mt = float(t.mean()) if nt else math.nan
    mc = float(c.mean()) if nc else math.nan
    uplift = mt - mc
    if nt < 2 or nc < 2:
        return mt, mc, uplift, math.nan, math.nan
    if proportion:
        var_t, var_c = mt * (1 - mt), mc * (1 - mc)
    else:
        var_t, var_c = float(t.var(ddof=1)), float(c.var(ddof=1))
    se = math.sqrt(var_t / nt + var_c / nc)
    return mt, mc, uplift, uplift - Z95 * se, uplift + Z95 * se


def campaign_rows(per_customer: pd.DataFrame, run_date: date) -> pd.DataFrame:
    """``campaign_performance`` rows from :func:`campaign_customers`' per-customer rows."""
    rows = []
    frame = per_customer.assign(
        conversion_rate=(pd.to_numeric(per_customer["purchases"]) > 0).astype(float),
        listed_conversion_rate=(pd.to_numeric(per_customer["listed_units"]) > 0).astype(float),
        listed_units_per_customer=pd.to_numeric(per_customer["listed_units"]).astype(float),
        revenue_per_customer=pd.to_numeric(per_customer["revenue"]).astype(float),
    )
    for (day, window), group in frame.groupby(["run_date", "window_days"], sort=True):
        treated = group[group["campaign_group"] == "treatment"]
        control = group[group["campaign_group"] == "control"]
        for metric in CAMPAIGN_METRICS:
            mt, mc, uplift, low, high = uplift_ci(
                treated[metric], control[metric], metric in PROPORTIONS
            )
            rows.append(
                {
                    "run_date": day,
                    "window_days": int(window),
                    "metric": metric,
                    "treatment_customers": len(treated),
                    "control_customers": len(control),
                    "treatment_value": mt,
                    "control_value": mc,
                    "uplift": uplift,
                    "uplift_ci_low": low,
                    "uplift_ci_high": high,
                    "scored_on": run_date,
                }
            )
    out = pd.DataFrame(rows, columns=list(CAMPAIGN_PERFORMANCE_COLUMNS))
    for c in ("treatment_value", "control_value", "uplift", "uplift_ci_low", "uplift_ci_high"):
        out[c] = out[c].astype(float)  # NaN (undefined) is stored as NULL
    return out


# -- the nightly task and its part of the publish transaction ---------------------------
def score_feedback(settings, run_date: date) -> dict:
    """The pipeline task: score every earlier run whose window closed; write the rows to
    ``outputs.recommendation_performance`` / ``outputs.campaign_performance`` (this
    run's rows replace an earlier attempt's), for dbt to build the candidates from."""
    wh = open_warehouse(settings)
    rec_days = dates_to_score(
        _published_dates(wh, "recommendations", run_date),
        _scored(wh, RECOMMENDATION_TABLE),
        run_date,
    )
    camp_days = dates_to_score(
        _published_dates(wh, "email_campaign_list", run_date), _scored(wh, CAMPAIGN_TABLE), run_date
    )
    has_tx = wh.table_exists(RAW_SCHEMA, "transactions")
    recs = recommendation_performance(wh, run_date, rec_days if has_tx else [])
    campaign = campaign_rows(
        campaign_customers(wh, run_date, camp_days if has_tx else []), run_date
    )
    with wh.transaction() as con:
        for table, frame, columns in (
            (RECOMMENDATION_TABLE, recs, RECOMMENDATION_PERFORMANCE_COLUMNS),
            (CAMPAIGN_TABLE, campaign, CAMPAIGN_PERFORMANCE_COLUMNS),
        ):
            wh.replace_rows(OUTPUTS_SCHEMA, table, frame, columns, "scored_on", [run_date], con)
    return {
        "recommendation_run_dates": [d.isoformat() for d in rec_days],
        "campaign_run_dates": [d.isoformat() for d in camp_days],
        RECOMMENDATION_TABLE: len(recs),
        CAMPAIGN_TABLE: len(campaign),
    }


def ensure_outputs(wh: Warehouse) -> None:
    """Create the private feedback tables empty when missing (dbt's sources must exist)."""
    with wh.transaction() as con:
        wh.ensure_table(
            con, OUTPUTS_SCHEMA, RECOMMENDATION_TABLE, RECOMMENDATION_PERFORMANCE_COLUMNS
        )
        wh.ensure_table(con, OUTPUTS_SCHEMA, CAMPAIGN_TABLE, CAMPAIGN_PERFORMANCE_COLUMNS)


def publish_statements(wh: Warehouse, run_date: date) -> list[tuple[str, list]]:
    """Statements for the publish transaction of ``run_date`` (D): each (R, window) this
    run scored replaces the published rows of an earlier or equal scoring; a scoring by
    a later run stays (a backfill of an older D never overwrites newer figures). These
    tables are left out of the generic swap keyed on D: their run_date is R, so that
    swap would delete D's own realized performance on a rerun of D."""
    out: list[tuple[str, list]] = []
    d = f"CAST({wh.param} AS DATE)"
    for table, columns in (
        (RECOMMENDATION_TABLE, RECOMMENDATION_PERFORMANCE_COLUMNS),
        (CAMPAIGN_TABLE, CAMPAIGN_PERFORMANCE_COLUMNS),
    ):
        target = qualified(PUBLISHED_SCHEMA, table)
        source = qualified(CANDIDATE_SCHEMA, table)
        cols = ", ".join(qident(c) for c in columns)
        scored = f"SELECT run_date, window_days FROM {source} WHERE scored_on = {d}"
        out.append(
            (
                f"DELETE FROM {target} WHERE scored_on <= {d} AND EXISTS (SELECT 1 FROM "
                f"({scored}) AS s WHERE s.run_date = {target}.run_date "
                f"AND s.window_days = {target}.window_days)",
                [run_date, run_date],
            )
        )
        out.append(
            (
                f"INSERT INTO {target} ({cols}) SELECT {cols} FROM {source} AS c "
                f"WHERE c.scored_on = {d} AND NOT EXISTS (SELECT 1 FROM {target} AS t "
                "WHERE t.run_date = c.run_date AND t.window_days = c.window_days)",
                [run_date],
            )
        )
    return out
