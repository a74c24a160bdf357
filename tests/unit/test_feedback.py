"""Realized performance (shopguide/feedback.py): the figures by hand on small cases, the
rescoring rule, and the campaign uplift on a generated shop with a known effect."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest

from shopguide.feedback import (
    campaign_rows,
    dates_to_score,
    publish_statements,
    reason_family,
    score_feedback,
    uplift_ci,
)
from shopguide.schema import (
    CANDIDATE_SCHEMA,
    OUTPUTS_SCHEMA,
    PUBLISHED_SCHEMA,
    PUBLISHED_TABLES,
    RAW_SCHEMA,
    TRANSACTION_COLUMNS,
)
from shopguide.warehouse import open_warehouse
from support import make_settings

R = date(2024, 1, 1)


def _put(wh, schema, table, frame, columns):
    with wh.transaction() as con:
        wh.ensure_table(con, schema, table, columns)
        wh.insert_frame(con, schema, table, frame.reindex(columns=list(columns)))


def _tx(rows):
    frame = pd.DataFrame(rows, columns=["t_dat", "customer_id", "article_id", "price", "quantity"])
    frame["t_dat"] = pd.to_datetime(frame["t_dat"]).dt.date
    frame["sales_channel_id"] = 1
    return frame


def _recs(rows, run_date=R):
    frame = pd.DataFrame(rows, columns=["customer_id", "rank", "article_id", "reason"])
    return frame.assign(run_date=run_date, score=1.0)


def test_reason_families():
    assert reason_family("you bought this before") == "repurchase"
    assert reason_family("similar to Blue shirt") == "similar"
    assert reason_family("completes the look with Jeans") == "complements"
    assert reason_family("popular in the shop right now") == "popularity"
    assert reason_family("popular with customers like you") == "popularity"
    assert reason_family("customers with your taste bought this") == "als"
    assert reason_family("something new") == "other" and reason_family(None) == "other"
    # The quality gate's fallback rows keep their reason, marked with the baseline.
    assert reason_family("you bought this before [baseline: repurchase]") == "repurchase"


def test_dates_to_score_waits_for_the_window_and_rescores_late_data():
    d = date(2024, 3, 1)
    r_open, r_7, r_old = date(2024, 2, 25), date(2024, 2, 20), date(2023, 12, 1)
    # R + 7 > D: nothing closed yet; R + 7 <= D: scored; long closed and scored: left alone.
    scored = {(r_old, 7), (r_old, 14)}
    assert dates_to_score([r_open, r_7, r_old], scored, d) == [r_7]
    # Long closed but never scored (a pause, a backfill): scored now.
    assert dates_to_score([r_old], set(), d) == [r_old]


def test_recommendation_performance_by_hand(tmp_path):
    settings = make_settings(tmp_path)
    wh = open_warehouse(settings)
    recs = _recs(
        [
            ("c1", 1, "a1", "you bought this before"),
            ("c1", 2, "a2", "similar to Shirt"),
            ("c2", 1, "a1", "popular with customers like you"),
            ("c2", 2, "a3", "similar to Dress"),
            ("c3", 1, "a2", "popular in the shop right now"),  # c3 never bought: cold start
            ("c3", 2, "a3", "trending now"),
        ]
    )
    _put(wh, PUBLISHED_SCHEMA, "recommendations", recs, PUBLISHED_TABLES["recommendations"])
    tx = _tx(
        [
            ("2023-12-20", "c1", "a1", 10.0, 1),  # history, before R: no hit
            ("2023-12-21", "c2", "a9", 5.0, 1),
            ("2024-01-01", "c2", "a1", 10.0, 1),  # on R itself: not in (R, R + w]
            ("2024-01-03", "c1", "a1", 10.0, 2),  # hit in both windows: 2 units, 20.0
            ("2024-01-05", "c1", "a1", 10.0, 1),  # same pair again: still one hit, +1 unit
            ("2024-01-10", "c2", "a3", 7.5, 1),  # hit in the 14-day window only
            ("2024-01-06", "c3", "a9", 4.0, 1),  # c3 buys, but nothing recommended
            ("2024-01-20", "c3", "a2", 3.0, 1),  # after both windows
            ("2024-01-04", None, "a2", 3.0, 1),  # anonymous
        ]
    )
    _put(wh, RAW_SCHEMA, "transactions", tx, TRANSACTION_COLUMNS)
    baseline = recs.assign(model="popularity")
    baseline.loc[baseline["customer_id"] == "c2", "article_id"] = ["a3", "a4"]
    # The night's best baseline is repurchase: c1's own rows; the others are its
    # popularity top-up. One list, named after repurchase.
    baseline.loc[baseline["customer_id"] == "c1", "model"] = "repurchase"
    baseline = pd.concat([baseline, _recs([("c9", 1, "a1", "x")]).assign(model="popularity")])
    columns = {**PUBLISHED_TABLES["recommendations"], "model": "VARCHAR"}
    _put(wh, OUTPUTS_SCHEMA, "baseline_recommendations", baseline, columns)

    result = score_feedback(settings, date(2024, 1, 15))
    assert result["recommendation_run_dates"] == ["2024-01-01"]
    rows = wh.query_df(
        f"SELECT * FROM {OUTPUTS_SCHEMA}.recommendation_performance WHERE scored_on = DATE '2024-01-15'"
    ).set_index(["window_days", "slice"])

    def check(window, slice_, customers, pairs, hits, converted, units, revenue):
        row = rows.loc[(window, slice_)]
        assert (row.customers, row.pairs, row.hits) == (customers, pairs, hits), slice_
        assert (row.converted_customers, row.units) == (converted, units), slice_
        assert row.revenue == pytest.approx(revenue)
        assert row.hit_rate == pytest.approx(hits / pairs)
        assert row.conversion_rate == pytest.approx(converted / customers)
        assert pd.Timestamp(row.run_date).date() == R

    check(7, "all", 3, 6, 1, 1, 3, 30.0)
    check(14, "all", 3, 6, 2, 2, 4, 37.5)
    check(14, "reason:repurchase", 1, 1, 1, 1, 3, 30.0)
    check(14, "reason:similar", 2, 2, 1, 1, 1, 7.5)
    check(7, "reason:similar", 2, 2, 0, 0, 0, 0.0)
    check(14, "reason:popularity", 2, 2, 0, 0, 0, 0.0)
    check(14, "reason:trending", 1, 1, 0, 0, 0, 0.0)
    check(14, "cold_start", 1, 2, 0, 0, 0, 0.0)
    # No task log says which model made the lists.
    check(14, "model:unknown", 3, 6, 2, 2, 4, 37.5)
    # The baseline for the same customers (c9 has no published list): c1 as published,
    # c2 gets a3 (bought on day 9) and a4, c3 as published.
    check(7, "baseline:repurchase", 3, 6, 1, 1, 3, 30.0)
    check(14, "baseline:repurchase", 3, 6, 2, 2, 4, 37.5)
    assert not any(s.startswith("baseline:popularity") for _, s in rows.index)
    assert len(rows) == 2 * 8  # all, model, 4 reason families, cold_start, baseline

    # Before the 14-day window closes only the 7-day rows exist.
    score_feedback(settings, date(2024, 1, 10))
    early = wh.query_df(
        f"SELECT DISTINCT window_days FROM {OUTPUTS_SCHEMA}.recommendation_performance "
        "WHERE scored_on = DATE '2024-01-10'"
    )
    assert list(early["window_days"]) == [7]
    # A rerun of the night leaves the same rows.
    again = score_feedback(settings, date(2024, 1, 15))
    assert again == result
    rerun = wh.query_df(
        f"SELECT * FROM {OUTPUTS_SCHEMA}.recommendation_performance WHERE scored_on = DATE '2024-01-15'"
    ).set_index(["window_days", "slice"])
    pd.testing.assert_frame_equal(rows.sort_index(), rerun.sort_index())


def test_publish_statements_replace_the_rescored_dates(tmp_path):
    wh = open_warehouse(make_settings(tmp_path))
    columns = PUBLISHED_TABLES["recommendation_performance"]

    def rows(run_dates, hits, scored_on):
        return pd.DataFrame(
            {
                "run_date": run_dates,
                "window_days": 7,
                "slice": "all",
                "customers": 1,
                "pairs": 2,
                "hits": hits,
                "hit_rate": hits / 2,
                "converted_customers": 1,
                "conversion_rate": 1.0,
                "units": 1,
                "revenue": 1.0,
                "scored_on": scored_on,
            }
        )

    d1, d2, d3, d4 = date(2024, 1, 1), date(2024, 1, 2), date(2024, 1, 20), date(2024, 1, 22)
    published_rows = pd.concat([rows([d1, d2], 1, d3), rows([d3], 5, d4)])
    _put(wh, PUBLISHED_SCHEMA, "recommendation_performance", published_rows, columns)
    # A backfill of 2024-01-21 scores d2 (published: scored on d3, earlier) and d3
    # (published: scored on d4, later: that newer scoring stays).
    _put(
        wh,
        CANDIDATE_SCHEMA,
        "recommendation_performance",
        rows([d2, d3], 2, date(2024, 1, 21)),
        columns,
    )
    _put(
        wh,
        CANDIDATE_SCHEMA,
        "campaign_performance",
        pd.DataFrame(columns=list(PUBLISHED_TABLES["campaign_performance"])),
        PUBLISHED_TABLES["campaign_performance"],
    )
    with wh.transaction() as con:
        wh.ensure_table(
            con, PUBLISHED_SCHEMA, "campaign_performance", PUBLISHED_TABLES["campaign_performance"]
        )
        for sql, params in publish_statements(wh, date(2024, 1, 21)):
            wh.execute_in(con, sql, params)
    out = wh.query_df("SELECT run_date, hits FROM published.recommendation_performance ORDER BY 1")
    assert [pd.Timestamp(v).date() for v in out["run_date"]] == [d1, d2, d3]
    assert list(out["hits"]) == [1, 2, 5]  # d1 kept, d2 rescored, d3's newer scoring kept


def test_uplift_interval_by_hand():
    # Shares: treatment 3 of 4 bought, control 1 of 4.
    mt, mc, up, low, high = uplift_ci(pd.Series([1, 1, 1, 0]), pd.Series([1, 0, 0, 0]), True)
    se = math.sqrt(0.75 * 0.25 / 4 + 0.25 * 0.75 / 4)
    assert (mt, mc, up) == (0.75, 0.25, 0.5)
    assert low == pytest.approx(0.5 - 1.959964 * se) and high == pytest.approx(0.5 + 1.959964 * se)
    # Means: sample variances (ddof 1).
    t, c = pd.Series([10.0, 0.0, 20.0]), pd.Series([0.0, 5.0])
    _, _, up, low, high = uplift_ci(t, c, False)
    se = math.sqrt(100.0 / 3 + 12.5 / 2)
    assert up == pytest.approx(10.0 - 2.5)
    assert (low, high) == (pytest.approx(7.5 - 1.959964 * se), pytest.approx(7.5 + 1.959964 * se))
    # One control customer: no interval.
    assert math.isnan(uplift_ci(t, pd.Series([1.0]), False)[3])


def _campaign_warehouse(tmp_path, effect: float, seed: int):
    """A generated shop's customers and purchases, an email list of 5 articles per opted-in
    customer with a hashed 20% control group, and in the 7 days after the list date extra
    purchases of listed articles: chance 0.10 per customer, plus ``effect`` for treated
    customers (the known truth)."""
    from shopguide.generate import generate_shop

    shop = tmp_path / "shop"
    generate_shop(shop, customers=3000, articles=200, days=60, end_date="2024-03-31", seed=seed)
    tx = pd.read_parquet(shop / "transactions.parquet")
    list_day = date(2024, 3, 20)
    settings = make_settings(tmp_path)
    wh = open_warehouse(settings)
    rng = np.random.default_rng(seed)
    customers = sorted(tx["customer_id"].dropna().unique())
    articles = sorted(tx["article_id"].unique())
    hashed = pd.util.hash_array(np.asarray(customers, dtype=object)) % 100
    group = np.where(hashed < 20, "control", "treatment")
    listed = pd.DataFrame(
        {
            "run_date": list_day,
            "customer_id": np.repeat(customers, 5),
            "rank": np.tile(np.arange(1, 6), len(customers)),
            "article_id": rng.choice(articles, size=5 * len(customers)),
            "campaign_group": np.repeat(group, 5),
            "reason": "x",
        }
    )
    columns = {**PUBLISHED_TABLES["email_campaign_list"], "campaign_group": "VARCHAR"}
    _put(wh, PUBLISHED_SCHEMA, "email_campaign_list", listed, columns)
    chance = np.where(group == "treatment", 0.10 + effect, 0.10)
    buys = rng.random(len(customers)) < chance
    first_listed = listed.groupby("customer_id")["article_id"].first()
    extra = pd.DataFrame(
        {
            "t_dat": pd.Timestamp(list_day) + pd.to_timedelta(rng.integers(1, 8, buys.sum()), "D"),
            "customer_id": np.asarray(customers)[buys],
            "article_id": first_listed.loc[np.asarray(customers)[buys]].to_numpy(),
            "price": 20.0,
            "sales_channel_id": 1,
            "quantity": 1,
        }
    )
    tx = pd.concat([tx, extra], ignore_index=True)
    tx["t_dat"] = pd.to_datetime(tx["t_dat"]).dt.date
    _put(wh, RAW_SCHEMA, "transactions", tx, TRANSACTION_COLUMNS)
    return settings, wh


@pytest.mark.parametrize("effect", [0.10, 0.0])
def test_campaign_uplift_on_a_shop_with_a_known_effect(tmp_path, effect):
    settings, wh = _campaign_warehouse(tmp_path, effect, seed=11)
    result = score_feedback(settings, date(2024, 3, 31))
    assert result["campaign_run_dates"] == ["2024-03-20"]
    rows = wh.query_df(
        f"SELECT * FROM {OUTPUTS_SCHEMA}.campaign_performance WHERE window_days = 7"
    ).set_index("metric")
    listed = rows.loc["listed_conversion_rate"]
    assert listed.treatment_customers > 4 * 300 and listed.control_customers > 300
    if effect:
        assert listed.uplift > 0 and listed.uplift_ci_low > 0
        assert listed.uplift_ci_low < effect < listed.uplift_ci_high
    else:
        assert listed.uplift_ci_low < 0 < listed.uplift_ci_high
    # Every metric has its interval around its uplift.
    assert (rows["uplift_ci_low"] <= rows["uplift"]).all()
    assert (rows["uplift"] <= rows["uplift_ci_high"]).all()


def test_campaign_rows_by_hand():
    per_customer = pd.DataFrame(
        {
            "run_date": R,
            "window_days": 7,
            "customer_id": ["t1", "t2", "t3", "c1", "c2"],
            "campaign_group": ["treatment"] * 3 + ["control"] * 2,
            "purchases": [2, 0, 1, 1, 0],
            "listed_units": [1, 0, 0, 0, 0],
            "revenue": [30.0, 0.0, 10.0, 8.0, 0.0],
        }
    )
    rows = campaign_rows(per_customer, date(2024, 1, 8)).set_index("metric")
    assert rows.loc["conversion_rate", "treatment_value"] == pytest.approx(2 / 3)
    assert rows.loc["conversion_rate", "control_value"] == pytest.approx(0.5)
    assert rows.loc["listed_conversion_rate", "uplift"] == pytest.approx(1 / 3)
    assert rows.loc["revenue_per_customer", "uplift"] == pytest.approx(40 / 3 - 4)
    assert rows.loc["listed_units_per_customer", "treatment_customers"] == 3
    assert (rows["control_customers"] == 2).all()
