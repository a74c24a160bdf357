"""Forecast benchmark: quality on Online Retail (issue 4 protocol) and speed on generated data.

    python benchmarks/bench_forecast.py [--skip-quality] [--skip-speed] [--articles 20000]

Quality runs ``shopguide.evaluate_forecast.evaluate_forecast``, exactly what
``shopguide evaluate forecast`` runs. Speed times the nightly job's forecast stage
(``spark_jobs.forecast.run.run_forecast``) on a generated shop: per 1,000 series against
the same per-series code in one plain Python process (Spark's overhead) and against
statsforecast's own ``StatsForecast`` with the statsforecast models of the ensemble,
then all articles x 28 days. Writes the ``forecast`` section of benchmarks/results.md
and prints the numbers as JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
DATA = Path(os.environ.get("SHOPGUIDE_SHARED_DATA", REPO.parent / "shared" / "data"))
ONLINE_RETAIL = DATA / "online-retail" / "online_retail_2010-12-01_2011-09-30.csv.gz"
PROTOCOL = {"source": "online-retail", "train_end": "2011-09-02", "horizon": 28, "top": 500}
JSON_OUT = REPO / "var" / "bench_forecast.json"
ROUNDS = 3  # alternating Spark / plain-process timings at 1,000 series
# The forecaster's settings were chosen on these origins (the command with --train-end at
# each, scored on the 28 days after it), all before the evaluation window.
VALIDATION_ORIGINS = ("2011-05-13", "2011-06-10", "2011-07-08", "2011-08-05")
# ForecastConfig settings compared there and on a generated shop of the demo's size; the
# first is the default (what the nightly job and the evaluation command run).
VARIANTS = {
    "kept: anchor `capped_mean_91`": {},
    "anchor `capped_mean_182`": {"total_anchor": "capped_mean_182"},
    "anchor `winsorised_weekly_mean`": {"total_anchor": "winsorised_weekly_mean"},
    "anchor `capped_mean_91`, weights per demand class": {"per_class_weights": True},
}


def _merge(summaries: list[dict]) -> dict:
    return {
        "min": min(x["min"] for x in summaries),
        "median": sorted(x["median"] for x in summaries)[len(summaries) // 2],
        "max": max(x["max"] for x in summaries),
    }


class LoadSampler:
    """The machine's 1-minute load average, sampled every few seconds while a benchmark runs
    (the 2 cores are shared, so every time is reported with the load it was measured under)."""

    def __init__(self, every: float = 5.0):
        import threading

        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every,), daemon=True)

    def _run(self, every):
        while True:
            self.samples.append(os.getloadavg()[0])
            if self._stop.wait(every):
                return

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def summary(self) -> dict:
        import statistics

        x = self.samples or [os.getloadavg()[0]]
        return {
            "min": round(min(x), 1),
            "median": round(statistics.median(x), 1),
            "max": round(max(x), 1),
        }


def quality() -> dict | None:
    import argparse as ap

    from shopguide.evaluate_forecast import forecast_matrices, score_matrices

    if not ONLINE_RETAIL.exists():
        print(f"skip quality: {ONLINE_RETAIL} not found", file=sys.stderr)
        return None
    t0 = time.time()
    with LoadSampler() as load:
        # What `shopguide evaluate forecast` computes and prints, plus the diagnosis below.
        matrices = forecast_matrices(ap.Namespace(path=str(ONLINE_RETAIL), **PROTOCOL))
        out = score_matrices(matrices)
    out["seconds"] = round(time.time() - t0, 1)
    out["load"] = load.summary()
    out["level_scaling"] = level_scaling(matrices)
    out["shortfall"] = shortfall(matrices)
    out["validation"] = validation()
    out["second_shop"] = second_shop()
    return out


def shortfall(m: dict, top: int = 10) -> dict:
    """Diagnosis on the evaluation window, used to choose nothing: where the units sold
    above the forecast are, article by article (net shortfall = Σ sold − Σ forecast)."""
    sold = m["actual"].sum(axis=1)
    forecast = m["forecasts"]["shopguide"].sum(axis=1)
    gap = sold - forecast
    order = gap.argsort()[::-1]
    net = float(gap.sum())
    return {
        "net": round(net, 1),
        "sold": float(sold.sum()),
        "share_top": {str(n): round(float(gap[order[:n]].sum()) / net, 3) for n in (20, 50)}
        if net > 0
        else {},
        "rows": [
            {
                "article_id": m["ids"][i],
                "name": m["names"][i],
                "sold": float(sold[i]),
                "forecast": round(float(forecast[i]), 1),
            }
            for i in order[:top]
        ],
    }


def _bars(result: dict) -> dict:
    """The issue's four measures of one evaluation: weekly WAPE over the best baseline's,
    weekly bias, daily p10-p90 coverage, daily MASE (and the best baseline's MASE)."""
    from spark_jobs.forecast.config import BASELINES

    m = result["models"]
    ours = m["shopguide"]
    return {
        "ratio": round(ours["weekly"]["wape"] / min(m[b]["weekly"]["wape"] for b in BASELINES), 4),
        "bias": ours["weekly"]["bias"],
        "coverage": ours["daily"]["coverage_p10_p90"],
        "mase": ours["daily"]["mase"],
        "best_baseline_mase": min(m[b]["daily"]["mase"] for b in BASELINES),
    }


def validation() -> dict[str, list[dict]]:
    """Per variant, the evaluation command at each validation origin (out of sample:
    history up to the origin only, the top 500 articles as of the origin)."""
    import argparse as ap

    from shopguide.evaluate_forecast import forecast_matrices, score_matrices

    out = {}
    for label, settings in VARIANTS.items():
        out[label] = []
        for origin in VALIDATION_ORIGINS:
            args = ap.Namespace(path=str(ONLINE_RETAIL), **{**PROTOCOL, "train_end": origin})
            result = score_matrices(forecast_matrices(args, settings))
            out[label].append({"origin": origin, **_bars(result)})
    return out


def second_shop() -> dict[str, dict]:
    """Per variant, the nightly job's own 3-origin backtest on a generated shop of the
    ``make demo`` shop's size and seed (article level, pooled over the origins)."""
    from spark_jobs.common import get_spark
    from spark_jobs.forecast.config import ForecastConfig
    from spark_jobs.forecast.run import run_forecast

    daily, articles, run_date = _generated_inputs(1500, seed=42, customers=4000)
    spark = get_spark("shopguide-bench-forecast")
    frames = spark.createDataFrame(daily), spark.createDataFrame(articles)
    out = {}
    for label, settings in VARIANTS.items():
        config = ForecastConfig(backtest_origins=3, **settings)
        m = run_forecast(*frames, run_date, config).metrics.toPandas().set_index(["level", "model"])
        out[label] = {
            "weekly_wape": float(m.loc[("article_weekly", "shopguide"), "wape"]),
            "base_weekly_wape": float(m.loc[("article_weekly", "window_average"), "wape"]),
            "mase": float(m.loc[("article", "shopguide"), "mase"]),
            "base_mase": float(m.loc[("article", "window_average"), "mase"]),
            "bias": float(m.loc[("article", "shopguide"), "bias"]),
        }
    return out


def level_scaling(m: dict) -> list[dict]:
    """Diagnosis on the evaluation window, used to choose nothing: shopguide's p50 times a
    constant, its weekly WAPE over the best baseline's (unscaled) and its weekly bias.
    Shows whether the WAPE bar fails for the forecast's level or for its split over
    articles and weeks ("oracle": the constant that makes the total exact)."""
    from spark_jobs.forecast import estimators
    from spark_jobs.forecast.config import BASELINES

    def weekly(forecast):
        yw, fw = estimators.to_weeks(m["actual"]), estimators.to_weeks(forecast)
        return estimators.wape(yw, fw), estimators.bias(yw, fw)

    best = min(weekly(m["forecasts"][name])[0] for name in BASELINES)
    ours = m["forecasts"]["shopguide"]
    oracle = float(m["actual"].sum() / max(ours.sum(), 1e-9))
    rows = []
    for factor in (1.0, 1.05, 1.10, 1.15, 1.20, oracle):
        wape, bias = weekly(ours * factor)
        rows.append(
            {
                "factor": round(factor, 3),
                "oracle": factor == oracle,
                "ratio": round(wape / best, 4),
                "bias": round(bias, 4),
            }
        )
    return rows


def _generated_inputs(n_articles: int, seed: int = 7, customers: int | None = None):
    """daily_sales and articles (pandas) from the synthetic shop generator (as many
    customers as articles unless given)."""
    from shopguide.evaluate_forecast import daily_sales_from_transactions
    from shopguide.generate import build_shop

    shop = build_shop(customers=customers or n_articles, articles=n_articles, days=365, seed=seed)
    daily = daily_sales_from_transactions(shop.transactions)
    articles = shop.articles[["article_id", "product_type_name", "department_name"]].copy()
    articles["article_id"] = articles["article_id"].astype(str)
    articles = articles.assign(is_sellable=True, is_new=False)
    run_date = max(daily["sale_date"])
    return daily, articles, run_date


def _spark_stage(spark, daily, articles, run_date, config):
    from spark_jobs.forecast.run import run_forecast

    t0 = time.time()
    result = run_forecast(
        spark.createDataFrame(daily), spark.createDataFrame(articles), run_date, config
    )
    rows = result.forecast.count()
    return time.time() - t0, rows


def _plain_stage(daily, articles, run_date, config):
    """The same per-article code and driver fit, in one Python process without Spark."""
    import numpy as np
    import pandas as pd

    from spark_jobs.forecast import ensemble, series

    t0 = time.time()
    origins = series.origins_for(run_date, config)
    start = origins[0] - dt.timedelta(days=config.history_days)
    hist = daily[(daily["sale_date"] >= start) & (daily["sale_date"] <= run_date)]
    shop = hist.groupby("sale_date", as_index=False)["units"].sum()
    calendar = series.shop_calendar(shop, run_date)
    joined = articles.merge(
        hist[["article_id", "sale_date", "units", "customers"]], on="article_id", how="left"
    )
    closed = np.array(sorted(calendar.closed_days), dtype="datetime64[D]")
    week = max(calendar.open_weekdays, 1)
    features = pd.concat(
        [
            series.article_rows(part, run_date, origins, closed, week, config)
            for _, part in joined.groupby("article_id", sort=False)
        ],
        ignore_index=True,
    )
    typed = hist.merge(articles, on="article_id")
    group_totals = pd.concat(
        [
            typed.groupby(["product_type_name", "sale_date"], as_index=False)["units"].sum()
            .rename(columns={"product_type_name": "key"}).assign(level="product_type"),
            typed.groupby(["department_name", "sale_date"], as_index=False)["units"].sum()
            .rename(columns={"department_name": "key"}).assign(level="department"),
        ]
    )  # fmt: skip
    profiles = series.WeekdayProfiles(group_totals, shop, calendar, config)
    result = ensemble.forecast_origin(features, run_date, profiles, config)
    return time.time() - t0, result.p50.size


def _statsforecast_reference(daily, run_date, ids, config):
    """statsforecast itself (one process) with the ensemble's statsforecast models:
    CrostonClassic, CrostonSBA, TSB, WindowAverage(28), SeasonalNaive(7), cross-validated at the same
    number of weekly origins."""
    import pandas as pd
    from statsforecast import StatsForecast
    from statsforecast.models import TSB, CrostonClassic, CrostonSBA, SeasonalNaive, WindowAverage

    sub = daily[daily["article_id"].isin(ids) & (daily["sale_date"] <= run_date)]
    frame = sub.rename(columns={"article_id": "unique_id", "sale_date": "ds", "units": "y"})[
        ["unique_id", "ds", "y"]
    ]
    frame["ds"] = pd.to_datetime(frame["ds"])
    # zero-fill each series from its first sale, as the job does
    filled = []
    for uid, part in frame.groupby("unique_id"):
        index = pd.date_range(part["ds"].min(), pd.Timestamp(run_date), freq="D")
        y = part.groupby("ds")["y"].sum().reindex(index, fill_value=0.0)
        if len(y) >= 7 * (config.fit_windows + 1) + config.horizon:
            filled.append(pd.DataFrame({"unique_id": uid, "ds": index, "y": y.to_numpy()}))
    frame = pd.concat(filled, ignore_index=True)
    models = [
        CrostonClassic(),
        CrostonSBA(),
        TSB(alpha_d=0.1, alpha_p=0.1),
        WindowAverage(window_size=28),
        SeasonalNaive(season_length=7),
    ]
    sf = StatsForecast(models=models, freq="D", n_jobs=1)
    t0 = time.time()
    sf.cross_validation(df=frame, h=config.horizon, n_windows=config.fit_windows, step_size=7)
    sf.forecast(df=frame, h=config.horizon)
    return time.time() - t0, frame["unique_id"].nunique()


def speed(n_articles: int) -> dict:
    from spark_jobs.common import get_spark
    from spark_jobs.forecast.config import ForecastConfig

    t0 = time.time()
    daily, articles, run_date = _generated_inputs(n_articles)
    generate_seconds = time.time() - t0
    sold = daily.groupby("article_id")["units"].sum().sort_values(ascending=False)
    config = ForecastConfig(horizon=28)
    spark = get_spark("shopguide-bench-forecast", os.environ.get("SPARK_MASTER", "local[2]"))

    sample_ids = list(sold.index[:1000])
    sample = articles[articles["article_id"].isin(sample_ids)]

    def warm_up():
        """50 of the articles through the Spark stage, untimed."""
        few = sample_ids[:50]
        _spark_stage(
            spark,
            daily[daily["article_id"].isin(few)],
            articles[articles["article_id"].isin(few)],
            run_date,
            config,
        )

    # warm-up: the Python workers import statsforecast and compile its numba code once
    warm_up()
    # Spark and the plain process are timed alternately, ROUNDS times each; the medians
    # are compared and the min–max reported beside them.
    loads = {}
    spark_runs, plain_runs = [], []
    for _ in range(ROUNDS):
        # Spark stops Python workers that sat idle (their PIDs change between runs), and a
        # new worker imports statsforecast again (31-34 s per worker at load 15): warm them
        # right before each timed run, as the plain process is warm after its first run.
        warm_up()
        with LoadSampler() as load:
            seconds, rows_1k = _spark_stage(
                spark, daily[daily["article_id"].isin(sample_ids)], sample, run_date, config
            )
        spark_runs.append(round(seconds, 1))
        loads.setdefault("spark_1k", []).append(load.summary())
        with LoadSampler() as load:
            seconds, _ = _plain_stage(
                daily[daily["article_id"].isin(sample_ids)], sample, run_date, config
            )
        plain_runs.append(round(seconds, 1))
        loads.setdefault("plain_1k", []).append(load.summary())
    spark_1k, plain_1k = statistics.median(spark_runs), statistics.median(plain_runs)
    loads = {name: _merge(parts) for name, parts in loads.items()}
    with LoadSampler() as load:
        sf_seconds, sf_series = _statsforecast_reference(daily, run_date, sample_ids, config)
    loads["statsforecast"] = load.summary()
    full_runs = []
    for _ in range(ROUNDS):
        warm_up()
        with LoadSampler() as load:
            seconds, full_rows = _spark_stage(spark, daily, articles, run_date, config)
        full_runs.append(round(seconds, 1))
        loads.setdefault("full", []).append(load.summary())
    loads["full"] = _merge(loads["full"])
    full_seconds = statistics.median(full_runs)
    return {
        "articles": len(articles),
        "articles_with_sales": int((sold > 0).sum()),
        "daily_sales_rows": len(daily),
        "generate_seconds": round(generate_seconds, 1),
        "spark_seconds_per_1000": round(spark_1k, 1),
        "spark_runs_1000": spark_runs,
        "plain_runs_1000": plain_runs,
        "plain_seconds_per_1000": round(plain_1k, 1),
        "spark_overhead_ratio": round(spark_1k / plain_1k, 2),
        "statsforecast_seconds": round(sf_seconds, 1),
        "statsforecast_series": sf_series,
        "full_seconds": round(full_seconds, 1),
        "full_runs": full_runs,
        "full_forecast_rows": full_rows,
        "origins_per_series": len(
            __import__("spark_jobs.forecast.series", fromlist=["x"]).origins_for(run_date, config)
        ),
        "rows_1k": rows_1k,
        "load": loads,
    }


def _runs(s: dict, name: str) -> str:
    """ "median of N runs (min–max)" for a timing's runs."""
    runs = s.get(f"{name}_runs_1000") or s.get(f"{name}_runs")
    if not runs:
        return "1 run"
    return f"median of {len(runs)} runs, {min(runs)}–{max(runs)}"


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _mean(rows: list[dict], key: str) -> float:
    return sum(r[key] for r in rows) / len(rows)


def render(q: dict | None, s: dict | None) -> str:
    lines = ["## Demand forecast (issue 4)" if q else "## Demand forecast: speed (issue 4)", ""]
    if q:
        kept = next(iter(q.get("validation", {}).values()), [])
        m = q["models"]
        ours = m["shopguide"]
        best_name = min(
            ("naive", "seasonal_naive", "window_average"), key=lambda k: m[k]["weekly"]["wape"]
        )
        best = m[best_name]["weekly"]["wape"]
        ratio = ours["weekly"]["wape"] / best
        mase_ok = all(
            ours["daily"]["mase"] < m[k]["daily"]["mase"]
            for k in ("naive", "seasonal_naive", "window_average")
        )
        cov = ours["daily"]["coverage_p10_p90"]
        lines += [
            "Quality, exact command:",
            "",
            "    shopguide evaluate forecast --source online-retail \\",
            f"        --path ../shared/data/online-retail/{ONLINE_RETAIL.name} \\",
            "        --train-end 2011-09-02 --horizon 28 --top 500 --json",
            "",
            f"{q['series']} article series, horizon {q['horizon']} days, {q['seconds']} s.",
            "",
            "| model | daily WAPE | daily MASE | daily bias | p10–p90 coverage | weekly WAPE | weekly bias |",
            "|---|---|---|---|---|---|---|",
        ]
        for name in ("shopguide", "window_average", "seasonal_naive", "naive"):
            d, w = m[name]["daily"], m[name]["weekly"]
            lines.append(
                f"| {name} | {_fmt(d['wape'])} | {_fmt(d['mase'])} | {d['bias']:+.3f} | "
                f"{_fmt(d.get('coverage_p10_p90'))} | {_fmt(w['wape'])} | {w['bias']:+.3f} |"
            )
        lines += [
            "",
            "| bar (issue 4) | measured | met? |",
            "|---|---|---|",
            f"| weekly WAPE ≤ 0.90 × best baseline ({best_name} {best:.3f}) | {ratio:.3f} × | {'yes' if ratio <= 0.9 else 'NO'} |",
            f"| weekly bias within ±10% | {ours['weekly']['bias']:+.1%} | {'yes' if abs(ours['weekly']['bias']) <= 0.1 else 'NO'} |",
            f"| daily p10–p90 coverage in [0.70, 0.90] | {cov:.3f} | {'yes' if 0.7 <= cov <= 0.9 else 'NO'} |",
            f"| daily MASE below every baseline | {ours['daily']['mase']:.3f} | {'yes' if mase_ok else 'NO'} |",
            "",
            "How the forecast is made: fifteen level estimators per article (means, capped and",
            "robust weekly means, buyer-based levels, statsforecast Croston/SBA/TSB) are averaged",
            "with weights fitted by least absolute error on 6 weekly backtest windows pooled",
            "over articles; that average only splits the total. The total is the anchor's",
            "(the 91-day mean with one-off orders capped at 5 x the median sale) times what",
            "was sold per unit of it on the same windows, times 0.95 (`bias_ratio`).",
            "",
            "Settings were chosen on the same command at origins before 2011-09-02 only, never",
            "on the evaluation window. The validation origins, as `make bench` measures them",
            "now (weekly WAPE ratio to the best baseline, weekly bias, daily coverage, daily",
            "MASE against the best baseline's):",
            "",
            "| validation origin | weekly WAPE ratio | weekly bias | coverage | MASE (best baseline) |",
            "|---|---|---|---|---|",
            *[
                f"| {v['origin']} | {v['ratio']:.3f} | {v['bias']:+.1%} | {v['coverage']:.3f} | "
                f"{v['mase']:.3f} ({v['best_baseline_mase']:.3f}) |"
                for v in kept
            ],
            *(
                [f"| mean | {_mean(kept, 'ratio'):.3f} | {_mean(kept, 'bias'):+.1%} | | |"]
                if kept
                else []
            ),
            "",
            "The anchored total replaced weights fitted to hit the fit windows' total, which",
            "learnt the growth of the weeks before each origin and carried it on (commit a01c0ae).",
            "The variants on the same origins (ratio / bias), and",
            "the nightly job's own 3-origin backtest on a generated shop of the `make demo` shop's",
            "size and seed (article level: weekly WAPE and daily MASE, the window average's in",
            "brackets, and bias):",
            "",
            "| variant | "
            + " | ".join(o[5:] for o in VALIDATION_ORIGINS)
            + " | mean ratio | generated shop |",
            "|---|" + "---|" * (len(VALIDATION_ORIGINS) + 2),
            *[
                f"| {label} | "
                + " | ".join(f"{v['ratio']:.3f} / {v['bias']:+.1%}" for v in rows)
                + f" | {_mean(rows, 'ratio'):.3f} | "
                + (
                    f"{g['weekly_wape']:.3f} ({g['base_weekly_wape']:.3f}), MASE {g['mase']:.3f} "
                    f"({g['base_mase']:.3f}), {g['bias']:+.1%} |"
                    if (g := q.get("second_shop", {}).get(label))
                    else "— |"
                )
                for label, rows in q.get("validation", {}).items()
            ],
            "",
            "Variants measured once on code that is no longer in the repository (total-fitted",
            "weights, other bias ratios and fit windows, a global gradient-boosted model,",
            "top-down totals, per-article weights, a repeat-buyer total) are not rerun by this",
            "benchmark, so their figures are not quoted here: the commit messages that removed",
            "them keep what was measured (`git log -- spark_jobs/forecast.py`).",
            "",
        ]
        if q.get("level_scaling"):
            lines += [
                "Diagnosis on the evaluation window (it chooses nothing): the forecast times a",
                "constant, weekly WAPE over the best baseline's and weekly bias.",
                "",
                "| forecast × | weekly WAPE ratio | weekly bias |",
                "|---|---|---|",
            ]
            for row in q["level_scaling"]:
                label = f"{row['factor']} (total made exact)" if row["oracle"] else row["factor"]
                lines.append(f"| {label} | {row['ratio']:.3f} | {row['bias']:+.1%} |")
            inside = [r["ratio"] for r in q["level_scaling"] if abs(r["bias"]) <= 0.10]
            lines += [""]
            if inside:
                lines += [
                    f"Of these, the rows with the weekly bias inside ±10% have a ratio of "
                    f"{min(inside):.3f} at best (bar 0.90): raising the level trades WAPE for bias,",
                    "so the WAPE bar needs a better split of the total over articles and weeks,",
                    "not a different total.",
                    "",
                ]
        short = q.get("shortfall")
        if short and short["share_top"]:
            lines += [
                f"Where the shortfall is (evaluation window, chooses nothing): {short['sold']:,.0f} units",
                f"sold against {short['sold'] - short['net']:,.0f} forecast; {short['share_top']['20']:.0%} of the",
                f"net shortfall is in 20 of the {q['series']} articles ({short['share_top']['50']:.0%} in 50: the",
                "other articles were over-forecast in sum). The largest: one-off wholesale orders",
                "of articles that sold a few units a day, and",
                "Christmas articles starting their season in September, which a history that",
                "begins on 2010-12-01 has never seen (no previous September).",
                "",
                "| article | name | sold | forecast |",
                "|---|---|---|---|",
                *[
                    f"| {r['article_id']} | {r['name']} | {r['sold']:,.0f} | {r['forecast']:,.1f} |"
                    for r in short["rows"]
                ],
                "",
            ]
        if "load" in q:
            ld = q["load"]
            lines += [
                f"Load average (1 min) while the evaluation ran: {ld['min']}–{ld['max']} "
                f"(median {ld['median']}) on 2 cores.",
                "",
            ]
    if s:
        per_1k_full = s["full_seconds"] / s["articles"] * 1000
        lines += [
            "Speed, exact command: `.venv/bin/python benchmarks/run.py forecast` (what `make bench` runs",
            "for this section); the generated shop below, the warm-up run first.",
            "",
            f"Speed (generated shop: {s['articles']:,} articles, {s['articles_with_sales']:,} with sales, "
            f"{s['daily_sales_rows']:,} article-days, 365 days; {s['origins_per_series']} weekly origins per series, "
            f"Spark local[2]):",
            "",
            "| stage | seconds |",
            "|---|---|",
            f"| Spark forecast stage, 1,000 series ({_runs(s, 'spark')}) | {s['spark_seconds_per_1000']} |",
            f"| same per-series code + fit, one plain Python process, 1,000 series ({_runs(s, 'plain')}) "
            f"| {s['plain_seconds_per_1000']} |",
            f"| Spark overhead ratio at 1,000 series (target ≤ 1.5) | {s['spark_overhead_ratio']} |",
            f"| Spark, per 1,000 series inside the {s['articles']:,}-article run | {per_1k_full:.1f} |",
            f"| Spark overhead ratio at {s['articles']:,} articles (per 1,000, vs the plain process) "
            f"| {per_1k_full / s['plain_seconds_per_1000']:.2f} |",
            f"| statsforecast `StatsForecast` (CrostonClassic, CrostonSBA, TSB, WindowAverage, SeasonalNaive; n_jobs=1), "
            f"{s['statsforecast_series']} of those series, cross-validation at the same origins + forecast | {s['statsforecast_seconds']} |",
            f"| Spark stage at 1,000 series over that statsforecast run (its five numba models, not the "
            f"stage's fifteen estimators) | {s['spark_seconds_per_1000'] / max(s['statsforecast_seconds'], 0.1):.1f} |",
            f"| all {s['articles']:,} articles × 28 days ({_runs(s, 'full')}; target < 600) | {s['full_seconds']} |",
            "",
        ]
        load = s.get("load", {})
        if load:
            lines += [
                "Load average (1 min, min–max) while each stage ran, on 2 cores shared with other "
                "engineers' jobs: "
                + "; ".join(
                    f"{name.replace('_', ' ')} {v['min']}–{v['max']}" for name, v in load.items()
                )
                + ". With more runnable processes than cores the wall times are pessimistic and"
                " the ratio moves from run to run.",
            ]
        lines += [
            "",
            "The Spark stage fits articles in hashed buckets (8 per task slot, one",
            "`groupBy(bucket).applyInPandas` call each, the same `article_rows` per article as the",
            "plain process) on exactly one partition per task slot, and takes the shop, product-type",
            "and department totals in one aggregation. Before, one call per article paid Arrow and",
            "pandas conversion 1,000 times, adaptive execution coalesced the small shuffle into one",
            "task (one core idle, and a second Python worker could first import statsforecast in the",
            "timed run), and the totals took two jobs. Spark stops Python workers that sit idle",
            "(their PIDs changed between runs) and a new worker imports statsforecast again, 31-34 s",
            "per worker at load 15, so a 50-article warm-up runs right before each timed Spark run",
            "(the plain process is warm after its first run too; its first, cold run was 56.6 s",
            "against 25-28 s warm in an earlier round of this benchmark).",
            "statsforecast's own `StatsForecast` is far faster than the shopguide stage: it runs",
            "five numba-compiled models, while the stage runs fifteen level estimators, the demand",
            "class, the baselines and the backtest actuals per series and origin in Python.",
        ]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--articles", type=int, default=20000)
    parser.add_argument(
        "--from-json",
        metavar="FILE",
        help="only rewrite results.md from a previous run's JSON output",
    )
    args = parser.parse_args(argv)
    if args.from_json:
        saved = json.loads(Path(args.from_json).read_text())
        q, s = saved["quality"], saved["speed"]
    else:
        q = None if args.skip_quality else quality()
        s = None if args.skip_speed else speed(args.articles)
        saved = {"quality": q, "speed": s, "python": platform.python_version()}
        print(json.dumps(saved, indent=1))
        JSON_OUT.parent.mkdir(parents=True, exist_ok=True)
        JSON_OUT.write_text(json.dumps(saved, indent=1))
    from results_file import write_section

    # Quality and speed own separate sections, so either can be rerun alone.
    if q:
        write_section("forecast", render(q, None))
    if s:
        write_section("forecast-speed", render(None, s))
    return 0


if __name__ == "__main__":
    sys.exit(main())
