"""The forecast backtest sees each origin as it was: its articles and its calendar.

A backtest origin is scored as if the forecast had been made that day: the articles on
sale then (one that stopped selling later is still scored, with its zeros), and the
weekdays the shop was closed then (a weekday closed only lately is not zero at an old
origin).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from spark_jobs.forecast import backtest, run
from spark_jobs.forecast.config import ForecastConfig

RUN = dt.date(2024, 3, 31)
SUNDAY = 6


def _sales():
    """STEADY sells every day; the shop closes on Sundays in the last eight weeks only.
    DYING sold every day until 100 days before the run date, then never again."""
    rng = np.random.default_rng(3)
    rows = []
    for back in range(200, -1, -1):
        day = RUN - dt.timedelta(days=back)
        if back < 56 and day.weekday() == SUNDAY:
            continue
        rows.append(("STEADY", day, float(rng.poisson(6)), 3))
        if back >= 100:
            rows.append(("DYING", day, float(rng.poisson(3)), 2))
    frame = pd.DataFrame(rows, columns=["article_id", "sale_date", "units", "customers"])
    return frame.assign(revenue=frame.units * 9.5)


def _articles(spark):
    # The run date's mart: DYING's last sale is 100 days old, so it is not sellable today.
    return spark.createDataFrame(
        pd.DataFrame(
            {
                "article_id": ["STEADY", "DYING"],
                "product_type_name": ["Mug", "Mug"],
                "department_name": ["Kitchen", "Kitchen"],
                "is_sellable": [True, False],
                "is_new": [False, False],
                "first_seen_date": [RUN - dt.timedelta(days=200)] * 2,
            }
        )
    )


def test_backtest_origins_see_their_own_articles_and_calendar(spark, monkeypatch):
    scored_at: dict = {}
    score = backtest.score_models

    def spy(scored, *args, **kwargs):
        scored_at.update(dict(scored))
        return score(scored, *args, **kwargs)

    monkeypatch.setattr(run, "score_models", spy)  # where run_forecast looks it up
    config = ForecastConfig(horizon=28, fit_windows=2, backtest_origins=3)
    result = run.run_forecast(spark.createDataFrame(_sales()), _articles(spark), RUN, config)
    # Today's forecast: only what is on sale today, and Sundays are closed.
    out = result.forecast.toPandas()
    assert set(out.article_id) == {"STEADY"}
    assert (out[pd.to_datetime(out.forecast_date).dt.weekday == SUNDAY].units_p50 == 0).all()

    oldest = RUN - dt.timedelta(days=84)
    assert set(scored_at) == {oldest, RUN - dt.timedelta(days=56), RUN - dt.timedelta(days=28)}
    at_oldest = scored_at[oldest]
    # DYING was on sale at the oldest origin (last sold 16 days before it): scored there.
    assert "DYING" in set(at_oldest.frame.article_id)
    # Sundays were open then: the forecast made that day does not zero them.
    steady = at_oldest.frame.index[at_oldest.frame.article_id == "STEADY"][0]
    sundays = np.asarray(at_oldest.dates.weekday == SUNDAY)
    assert (at_oldest.p50[steady][sundays] > 0).all()
