"""The forecast Spark job on tiny hand-made frames."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from pyspark.testing import assertDataFrameEqual

from spark_jobs.forecast import job, run, series
from spark_jobs.forecast.config import ForecastConfig
from spark_jobs.forecast.ensemble import forecast_origin
from spark_jobs.forecast.estimators import ESTIMATORS
from spark_jobs.forecast.timing import STEP_LOG

RUN = dt.date(2024, 3, 31)


def _daily_sales(spark, rows):
    return spark.createDataFrame(
        pd.DataFrame(rows, columns=["article_id", "sale_date", "units"]).assign(
            revenue=lambda d: d.units * 10.0, customers=1
        )
    )


def _articles(spark, ids, sellable=None):
    sellable = sellable or [True] * len(ids)
    return spark.createDataFrame(
        pd.DataFrame(
            {
                "article_id": ids,
                "product_type_name": "Trousers",
                "department_name": "Denim",
                "is_sellable": sellable,
                "first_sale_date": [dt.date(2024, 1, 1)] * len(ids),
            }
        )
    )


def test_seasonal_naive_repeats_last_week(spark):
    # Article A sells 1..7 units Mon..Sun every week of March: the forecast repeats it.
    days = [RUN - dt.timedelta(days=d) for d in range(27, -1, -1)]
    rows = [("A", d, float(d.weekday() + 1)) for d in days]
    out = run.seasonal_naive_forecast(
        _daily_sales(spark, rows), _articles(spark, ["A"]), RUN, horizon=14
    )
    expected = spark.createDataFrame(
        [
            ("A", RUN + dt.timedelta(days=h), float((RUN + dt.timedelta(days=h)).weekday() + 1))
            for h in range(1, 15)
        ],
        "article_id string, forecast_date date, units_p50 double",
    )
    assertDataFrameEqual(out.select("article_id", "forecast_date", "units_p50"), expected)
    # A perfectly repeating week has no seasonal-naive error: the interval collapses.
    row = out.where("units_p10 != units_p50 or units_p90 != units_p50").count()
    assert row == 0


def test_every_sellable_article_is_forecast_and_zero_days_are_filled(spark):
    rows = [("A", RUN - dt.timedelta(days=7), 5.0), ("A", RUN - dt.timedelta(days=20), 2.0)]
    articles = _articles(spark, ["A", "NEW", "GONE"], sellable=[True, True, False])
    out = run.seasonal_naive_forecast(
        _daily_sales(spark, rows), articles, RUN, horizon=7
    ).toPandas()
    assert set(out.article_id) == {"A", "NEW"}
    assert len(out) == 14
    a = out[out.article_id == "A"].sort_values("forecast_date")
    # The sales at RUN-7 and RUN-20 are older than the last week [RUN-6 .. RUN], which
    # zero-filling turns into seven zeros: seasonal naive repeats them.
    assert a.units_p50.tolist() == [0.0] * 7
    assert (out[out.article_id == "NEW"].units_p50 == 0).all()
    assert (out.units_p10 <= out.units_p50).all() and (out.units_p50 <= out.units_p90).all()
    assert (out.units_p10 >= 0).all()
    assert out.forecast_date.min() == RUN + dt.timedelta(days=1)
    assert out.forecast_date.max() == RUN + dt.timedelta(days=7)


def test_sales_after_the_run_date_are_ignored(spark):
    rows = [("A", RUN - dt.timedelta(days=d), 1.0) for d in range(14)] + [
        ("A", RUN + dt.timedelta(days=1), 99.0)
    ]
    out = run.seasonal_naive_forecast(
        _daily_sales(spark, rows), _articles(spark, ["A"]), RUN, horizon=3
    )
    assert [r.units_p50 for r in out.collect()] == [1.0, 1.0, 1.0]


def test_bad_horizon_is_rejected(spark):
    with pytest.raises(ValueError, match="horizon"):
        run.seasonal_naive_forecast(
            _daily_sales(spark, [("A", RUN, 1.0)]), _articles(spark, ["A"]), RUN, 0
        )


def _shop(days=140, closed_weekday=5):
    """A tiny shop: four articles, closed every Saturday and over a three-day break."""
    rng = np.random.default_rng(7)
    start = RUN - dt.timedelta(days=days - 1)
    closed = {RUN - dt.timedelta(days=d) for d in (60, 61, 62)}
    rows = []
    for day in (start + dt.timedelta(days=i) for i in range(days)):
        if day.weekday() == closed_weekday or day in closed:
            continue
        rows.append(("STEADY", day, float(rng.poisson(6)), 3))
        if rng.random() < 0.3:
            rows.append(("RARE", day, float(rng.poisson(2) + 1), 1))
        if day > RUN - dt.timedelta(days=10):
            rows.append(("NEW", day, 4.0, 2))
    rows.append(("RETIRED", start, 1.0, 1))  # not sellable any more
    frame = pd.DataFrame(rows, columns=["article_id", "sale_date", "units", "customers"])
    return frame.assign(revenue=frame.units * 9.5), closed


def _shop_articles(spark):
    return spark.createDataFrame(
        pd.DataFrame(
            {
                "article_id": ["STEADY", "RARE", "NEW", "UNSOLD", "RETIRED"],
                "product_type_name": ["Mug", "Mug", "Mug", "Lamp", "Lamp"],
                "department_name": ["Kitchen", "Kitchen", "Kitchen", "Home", "Home"],
                "is_sellable": [True, True, True, True, False],
                "is_new": [False, False, True, False, False],
            }
        )
    )


def test_shop_calendar_finds_closed_days_and_weekdays():
    sales, closed = _shop()
    totals = sales.groupby("sale_date", as_index=False)["units"].sum()
    calendar = series.shop_calendar(totals, RUN)
    assert calendar.closed_weekdays == (5,)
    assert closed <= calendar.closed_days
    assert calendar.open_weekdays == 6
    assert not any(d.weekday() not in (5,) and d not in closed for d in calendar.closed_days)


def test_weekday_profile_is_zero_on_closed_weekdays_and_averages_one():
    sales, _ = _shop()
    totals = sales.groupby("sale_date", as_index=False)["units"].sum()
    calendar = series.shop_calendar(totals, RUN)
    profile = series.weekday_profile(totals, calendar, RUN, 91)
    assert profile[5] == 0.0
    assert np.delete(profile, 5).mean() == pytest.approx(1.0)


def test_run_forecast_with_backtest(spark):
    sales, _ = _shop()
    config = ForecastConfig(horizon=14, fit_windows=2, backtest_origins=3)
    STEP_LOG.clear()
    result = run.run_forecast(spark.createDataFrame(sales), _shop_articles(spark), RUN, config)
    # The step log the task log and bench_pipeline read, in the order the steps ran.
    assert [step for step, _ in STEP_LOG] == [
        "sales history and shop, product-type and department totals",
        "articles on sale at the run date and 3 backtest origins",
        "per-article features and level estimates (Python workers), collected",
        "forecast at the run date (driver)",
        "backtest: 3 origins forecast and scored (driver)",
    ]
    out = result.forecast.toPandas()
    assert sorted(out.article_id.unique()) == ["NEW", "RARE", "STEADY", "UNSOLD"]
    assert len(out) == 4 * 14
    assert out.forecast_date.min() == RUN + dt.timedelta(days=1)
    assert (out.units_p10 <= out.units_p50).all() and (out.units_p50 <= out.units_p90).all()
    assert (out.units_p10 >= 0).all()
    saturdays = out[pd.to_datetime(out.forecast_date).dt.weekday == 5]
    assert len(saturdays) == 4 * 2 and (saturdays.units_p90 == 0).all()
    models = out.groupby("article_id").model.first()
    assert models["STEADY"].startswith("shopguide_ensemble")
    assert models["NEW"] == "cold_start_type_profile"
    assert models["UNSOLD"] == "no_sales" and (out[out.article_id == "UNSOLD"].units_p50 == 0).all()
    steady = out[(out.article_id == "STEADY") & (pd.to_datetime(out.forecast_date).dt.weekday != 5)]
    # Poisson(6) on open days: the level must be near 6 and the interval around it
    # (single weekdays move with the learnt weekday profile).
    assert steady.units_p50.mean() == pytest.approx(6.0, rel=0.25)
    assert steady.units_p10.mean() < 6 < steady.units_p90.mean()
    new = out[(out.article_id == "NEW") & (pd.to_datetime(out.forecast_date).dt.weekday != 5)]
    # early sales of 4 a day, shrunk towards the Mug launch rate
    assert 0 < new.units_p50.mean() < 8

    metrics = result.metrics.toPandas()
    assert set(metrics.level) == {
        "article", "product_type", "department", "shop",
        "article_weekly", "product_type_weekly", "department_weekly", "shop_weekly",
    }  # fmt: skip
    assert set(metrics.model) == {"shopguide", "naive", "seasonal_naive", "window_average"}
    assert (metrics.run_date == RUN).all() and (metrics.horizon == 14).all()
    article = metrics[metrics.level == "article"].set_index("model")
    assert 0.3 <= article.loc["shopguide", "interval_coverage"] <= 1.0
    assert np.isnan(article.loc["naive", "interval_coverage"])  # baselines have no interval
    assert metrics.wape.notna().all() and metrics.bias.notna().all()
    # The ensemble beats the naive forecast on a steady Poisson article.
    assert article.loc["shopguide", "mase"] < article.loc["naive", "mase"]
    base = result.baselines.toPandas()
    assert set(base.columns) == {
        "article_id",
        "forecast_date",
        "naive",
        "seasonal_naive",
        "window_average",
    }


def test_config_rejects_bad_values():
    with pytest.raises(ValueError, match="horizon"):
        ForecastConfig(horizon=0)
    with pytest.raises(ValueError, match="backtest"):
        ForecastConfig(backtest_origins=-1)
    with pytest.raises(ValueError, match="total_anchor"):
        ForecastConfig(total_anchor="mean_3")


class _FlatWeek:
    """Weekday profiles of a shop open every day with no weekday pattern."""

    def factors(self, product_type, department, origin):
        return np.ones(7)


def _feature_rows(origin, levels, anchors, actual_per_day, n_hist=200, horizon=28):
    """Feature rows of one origin: every estimator at ``levels[i]``, except the anchor
    (the default ``total_anchor``) at ``anchors[i]``; ``actual_per_day`` None for the
    forecast origin."""
    k = len(ESTIMATORS)
    anchor = ESTIMATORS.index(ForecastConfig().total_anchor)
    rows = []
    for i, level in enumerate(levels):
        est = [float(level)] * k
        est[anchor] = float(anchors[i])
        rows.append(
            {
                "article_id": f"A{i}", "origin": origin, "product_type_name": "Mug",
                "department_name": "Kitchen", "is_new": False, "n_hist": n_hist,
                "mean_hist": float(level), "demand_class": "smooth", "est": est,
                "actual": None if actual_per_day is None else [actual_per_day[i]] * horizon,
                "base_naive": 0.0, "base_snaive": [0.0] * 7, "base_wavg": 0.0, "scale": 1.0,
            }
        )  # fmt: skip
    return rows


def test_the_anchor_sets_the_total_and_the_weights_split_it():
    """On the fit windows each article sold 1.2 x its anchor level per day. Since then the
    short estimators doubled and the anchor did not move: the forecast total is
    bias_ratio x 1.2 x the anchor's total at the origin (weights fitted to hit the fit
    windows' total would have doubled it), split over articles as their levels are; a
    new article's cold-start level is left alone."""
    config = ForecastConfig(horizon=28, fit_windows=3, bias_ratio=0.95)
    origin = RUN
    rng = np.random.default_rng(5)
    levels = rng.gamma(2.0, 3.0, 60)
    rows = []
    for fit_origin in series.fit_origins(origin, config):
        noisy = levels * rng.uniform(0.8, 1.2, len(levels))
        rows += _feature_rows(fit_origin, levels, levels / 2, 0.6 * noisy)  # 1.2 x anchor
    at_origin = _feature_rows(origin, 2 * levels, levels / 2, None)
    new = dict(at_origin[0], article_id="NEW", n_hist=5, mean_hist=4.0, is_new=True)
    features = pd.DataFrame(rows + at_origin + [new])
    result = forecast_origin(features, origin, _FlatWeek(), config)
    models = result.frame["model"].to_numpy()
    ensemble = models == "shopguide_ensemble"
    assert ensemble.sum() == len(levels)
    anchor_total = (levels / 2).sum() * 28
    assert result.p50[ensemble].sum() == pytest.approx(0.95 * 1.2 * anchor_total, rel=0.02)
    # the split follows the articles' levels
    per_article = result.p50[ensemble].sum(axis=1)
    assert np.corrcoef(per_article, levels)[0, 1] > 0.99
    assert models[~ensemble] == ["cold_start_type_profile"]
    assert 0 < result.p50[~ensemble].mean() <= 4.0
    assert (result.p10 <= result.p50).all() and (result.p50 <= result.p90).all()


def test_main_reads_lake_inputs_and_writes_outputs(spark, tmp_path):
    lake = str(tmp_path / "lake")
    inputs = tmp_path / "lake" / f"run_date={RUN}" / "inputs"
    inputs.mkdir(parents=True)
    sales, _ = _shop(days=100)
    sales.to_parquet(inputs / "daily_sales.parquet")
    _shop_articles(spark).toPandas().to_parquet(inputs / "articles.parquet")
    job.main(["--lake", lake, "--run-date", str(RUN), "--horizon", "7", "--backtest", "3"])
    out = spark.read.parquet(f"{lake}/run_date={RUN}/outputs/demand_forecast").toPandas()
    assert len(out) == 4 * 7
    assert list(out.columns) == [
        "article_id",
        "forecast_date",
        "units_p10",
        "units_p50",
        "units_p90",
        "model",
    ]
    metrics = spark.read.parquet(f"{lake}/run_date={RUN}/outputs/forecast_metrics").toPandas()
    assert list(metrics.columns) == [
        "run_date", "level", "model", "horizon", "wape", "mase", "bias", "interval_coverage"
    ]  # fmt: skip
    job.main(
        ["--lake", lake, "--run-date", str(RUN), "--horizon", "7", "--model", "seasonal_naive"]
    )
    again = spark.read.parquet(f"{lake}/run_date={RUN}/outputs/demand_forecast").toPandas()
    assert len(again) == 4 * 7 and set(again.model) == {"seasonal_naive_7"}
    with pytest.raises(SystemExit, match="at least 3"):
        job.main(["--lake", lake, "--run-date", str(RUN), "--backtest", "2"])


def test_a_shop_without_sales_gets_zero_forecasts(spark):
    empty = spark.createDataFrame(
        [], "article_id string, sale_date date, units double, revenue double, customers long"
    )
    config = ForecastConfig(horizon=7, fit_windows=1)
    out = run.run_forecast(empty, _shop_articles(spark), RUN, config).forecast.toPandas()
    assert len(out) == 4 * 7
    assert (out.units_p90 == 0).all() and set(out.model) == {"no_sales"}


def test_bucketed_features_match_per_article_rows_and_use_every_slot(spark):
    """Spark fits articles in hashed buckets; the rows must be exactly what the per-article
    function gives in one plain process, spread over all task slots (not one task)."""
    sales, _ = _shop()
    config = ForecastConfig(horizon=14, fit_windows=2, buckets_per_task=3)
    articles = _shop_articles(spark)
    history = series.sales_history(spark.createDataFrame(sales), RUN, 200)
    totals = run._group_totals(history, articles)
    shop = totals[totals.level == "shop"]
    assert shop.units.sum() == sales.units.sum()  # RETIRED is not sellable but was sold
    mugs = totals[(totals.level == "product_type") & (totals.key == "Mug")]
    assert mugs.units.sum() == sales[sales.article_id != "RETIRED"].units.sum()
    kitchen = totals[(totals.level == "department") & (totals.key == "Kitchen")]
    assert kitchen.set_index("sale_date").units.equals(mugs.set_index("sale_date").units)
    assert set(totals.level) == {"shop", "product_type", "department"} and totals.key.notna().all()
    calendar = series.shop_calendar(shop[["sale_date", "units"]], RUN)

    features = series.article_features(history, articles, calendar, RUN, config)
    assert features.rdd.getNumPartitions() == 2  # local[2]: one partition per slot
    got = features.toPandas().sort_values(["article_id", "origin"]).reset_index(drop=True)

    origins = series.origins_for(RUN, config)
    closed = np.array(sorted(calendar.closed_days), dtype="datetime64[D]")
    attrs = articles.toPandas().query("is_sellable")
    joined = attrs.merge(sales, on="article_id", how="left")
    want = pd.concat(
        [
            series.article_rows(part, RUN, origins, closed, calendar.open_weekdays, config)
            for _, part in joined.groupby("article_id")
        ],
        ignore_index=True,
    )
    want = want.sort_values(["article_id", "origin"]).reset_index(drop=True)
    assert sorted(got.article_id.unique()) == ["NEW", "RARE", "STEADY", "UNSOLD"]
    assert len(got) == len(want)
    assert (got.origin.astype(str) == want.origin.astype(str)).all()
    np.testing.assert_allclose(np.stack(got.est), np.stack(want.est))
    assert got.demand_class.tolist() == want.demand_class.tolist()
    with pytest.raises(ValueError, match="buckets_per_task"):
        ForecastConfig(buckets_per_task=0)
