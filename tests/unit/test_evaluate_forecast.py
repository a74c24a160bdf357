"""The forecast evaluation command's function on a tiny in-memory source."""

from __future__ import annotations

import argparse
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from shopguide import evaluate_forecast


def _source(days=120, end=dt.date(2024, 5, 31)):
    """Three articles, closed on Saturdays; sales run to ``end``."""
    from shopguide.sources import SourceData

    rng = np.random.default_rng(11)
    rows = []
    for i in range(days):
        day = end - dt.timedelta(days=days - 1 - i)
        if day.weekday() == 5:
            continue
        for article, rate in (("A", 8.0), ("B", 3.0), ("C", 0.4)):
            for _ in range(rng.poisson(rate)):
                # every fourth sale is anonymous: it still counts as demand
                customer = None if rng.random() < 0.25 else f"c{rng.integers(50)}"
                rows.append((pd.Timestamp(day), customer, article, 2.5, 1, int(rng.integers(1, 3))))
    tx = pd.DataFrame(
        rows,
        columns=["t_dat", "customer_id", "article_id", "price", "sales_channel_id", "quantity"],
    )
    articles = pd.DataFrame(
        {"article_id": ["A", "B", "C"], "prod_name": ["a", "b", "c"], "product_type_name": "Mug",
         "product_group_name": "Home", "department_name": "Kitchen"}
    )  # fmt: skip
    return SourceData(
        customers=pd.DataFrame({"customer_id": []}), articles=articles, transactions=tx
    )


def test_daily_sales_counts_anonymous_sales_and_quantities():
    tx = pd.DataFrame(
        {
            "t_dat": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-02"]),
            "customer_id": ["c1", None, "c1"],
            "article_id": ["A", "A", "A"],
            "price": [2.0, 2.0, 3.0],
            "quantity": [3, 2, 1],
        }
    )
    daily = evaluate_forecast.daily_sales_from_transactions(tx)
    assert daily.units.tolist() == [5.0, 1.0]
    assert daily.revenue.tolist() == [10.0, 3.0]
    assert daily.customers.tolist() == [1, 1]
    assert evaluate_forecast.top_articles(
        pd.concat([daily, daily.assign(article_id="B", units=[9.0, 9.0])]), dt.date(2024, 1, 1), 1
    ) == ["B"]


def test_evaluate_forecast_scores_every_model(spark, monkeypatch):
    import shopguide.sources

    monkeypatch.setattr(shopguide.sources, "read_source", lambda name, path: _source())
    args = argparse.Namespace(
        source="online-retail", path="mem", train_end="2024-05-17", horizon=14, top=2
    )
    out = evaluate_forecast.evaluate_forecast(args)
    assert out["horizon"] == 14 and out["series"] == 2
    assert set(out["models"]) == {"shopguide", "seasonal_naive", "naive", "window_average"}
    ours = out["models"]["shopguide"]
    assert set(ours["daily"]) == {"wape", "mase", "bias", "coverage_p10_p90"}
    assert set(ours["weekly"]) == {"wape", "bias"}
    assert set(out["models"]["naive"]["daily"]) == {"wape", "mase", "bias"}
    # Steady Poisson demand: the ensemble is within 30% weekly and beats naive day by day.
    assert ours["weekly"]["wape"] < 0.3
    assert abs(ours["weekly"]["bias"]) < 0.3
    assert ours["daily"]["mase"] < out["models"]["naive"]["daily"]["mase"]
    assert 0.5 <= ours["daily"]["coverage_p10_p90"] <= 1.0


def test_evaluate_forecast_explains_a_window_past_the_data(monkeypatch):
    import shopguide.sources

    monkeypatch.setattr(shopguide.sources, "read_source", lambda name, path: _source())
    args = argparse.Namespace(
        source="online-retail", path="mem", train_end="2024-05-25", horizon=14, top=None
    )
    with pytest.raises(evaluate_forecast.EvaluationError, match="earlier --train-end"):
        evaluate_forecast.evaluate_forecast(args)
    args.train_end = "25/05/2024"
    with pytest.raises(evaluate_forecast.EvaluationError, match="YYYY-MM-DD"):
        evaluate_forecast.evaluate_forecast(args)
