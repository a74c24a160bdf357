"""Per-series models, pooled fitting and metrics of the forecaster (numpy only, no Spark)."""

from __future__ import annotations

import numpy as np
import pytest

from spark_jobs.forecast import estimators as m


def test_baselines():
    y = np.array([1, 2, 3, 4, 5, 6, 7, 8, 0], dtype=float)
    assert m.naive(y, 3).tolist() == [0, 0, 0]
    assert m.seasonal_naive(y, 9).tolist() == [3, 4, 5, 6, 7, 8, 0, 3, 4]
    assert m.window_average(y, 2, window=3).tolist() == [5.0, 5.0]  # (7 + 8 + 0) / 3
    assert m.seasonal_naive(np.zeros(0), 2).tolist() == [0, 0]


def test_metrics_by_hand():
    y = np.array([[2.0, 0.0], [4.0, 4.0]])
    f = np.array([[1.0, 1.0], [4.0, 2.0]])
    assert m.wape(y, f) == pytest.approx((1 + 1 + 0 + 2) / 10)
    assert m.bias(y, f) == pytest.approx((8 - 10) / 10)
    # per-series MAE / scale, averaged; the series without a scale is skipped
    assert m.mase(y, f, np.array([1.0, 2.0])) == pytest.approx(np.mean([1.0 / 1.0, 1.0 / 2.0]))
    assert m.mase(y, f, np.array([np.nan, 2.0])) == pytest.approx(0.5)
    assert m.coverage(y, f - 1, f + 1) == pytest.approx(3 / 4)
    assert m.to_weeks(np.arange(15.0)[None, :]).tolist() == [[21.0, 70.0]]
    assert m.mase_scale(np.array([1.0] * 7 + [3.0] * 7)) == pytest.approx(2.0)
    assert np.isnan(m.wape(np.zeros(3), np.ones(3)))


def test_level_estimates_constant_series_agree():
    est = m.level_estimates(np.full(200, 3.0), week=6)
    assert est.shape == (len(m.ESTIMATORS),)
    expected = np.full(len(m.ESTIMATORS), 3.0)
    expected[m.ESTIMATORS.index("croston_sba")] = 3.0 * 0.95  # SBA's bias correction (1 - alpha/2)
    assert est == pytest.approx(expected, rel=1e-6)
    assert not m.level_estimates(np.zeros(50)).any()
    assert not m.level_estimates(np.zeros(0)).any()


def test_robust_estimators_ignore_one_wholesale_order():
    rng = np.random.default_rng(1)
    y = rng.poisson(4, 120).astype(float)
    spiked = y.copy()
    spiked[-20] = 5000.0
    plain, robust = m.level_estimates(y), m.level_estimates(spiked)
    names = list(m.ESTIMATORS)
    for name in (
        "weekly_median",
        "weekly_trimmed_mean",
        "capped_mean_91",
        "buyers_x_median_basket",
    ):
        i = names.index(name)
        assert robust[i] == pytest.approx(plain[i], rel=0.25), name
    assert robust[names.index("mean_28")] > 40  # the plain mean is dragged up


def test_demand_class():
    assert m.demand_class(np.full(91, 5.0)) == "smooth"
    assert m.demand_class(np.tile([1.0, 20.0], 45)) == "erratic"
    assert m.demand_class(np.tile([0, 0, 0, 2.0], 23)) == "intermittent"
    assert m.demand_class(np.tile([0, 0, 0, 1.0, 0, 0, 0, 30.0], 12)) == "lumpy"


def test_fit_weights_recovers_a_mix_and_keeps_the_total():
    rng = np.random.default_rng(0)
    X = rng.gamma(2.0, 2.0, size=(400, 3))
    y = X @ np.array([0.25, 0.75, 0.0])
    w = m.fit_weights(X, y)
    assert w == pytest.approx([0.25, 0.75, 0.0], abs=1e-3)
    w90 = m.fit_weights(X, y, bias_ratio=0.9)
    assert (w90 >= 0).all()
    assert (X @ w90).sum() == pytest.approx(0.9 * y.sum(), rel=1e-6)


def test_fit_weights_prefers_the_estimator_closer_in_absolute_error():
    rng = np.random.default_rng(2)
    truth = rng.gamma(2.0, 3.0, 1000)
    good = truth * rng.uniform(0.9, 1.1, 1000)
    spiky = truth.copy()
    spiky[::10] *= 20  # right on most rows, wildly off on a few
    noisy = truth + rng.normal(0, 4, 1000).clip(-truth)
    w = m.fit_weights(np.c_[good, noisy], truth)
    assert w[0] > 0.8
    w = m.fit_weights(np.c_[spiky, noisy], truth, bias_ratio=1.0)
    assert (np.c_[spiky, noisy] @ w).sum() == pytest.approx(truth.sum(), rel=1e-6)


def test_convex_weights_average_the_estimators_whatever_the_total():
    rng = np.random.default_rng(1)
    X = rng.gamma(2.0, 2.0, size=(400, 3))
    mix = X @ np.array([0.25, 0.75, 0.0])
    w = m.fit_weights(X, mix, convex=True)
    assert w == pytest.approx([0.25, 0.75, 0.0], abs=1e-3)
    # twice the demand: the weights still sum to 1 (the total is set elsewhere)
    w2 = m.fit_weights(X, 2.0 * mix, convex=True)
    assert w2.sum() == pytest.approx(1.0, abs=1e-9) and (w2 >= 0).all()
    assert m.fit_weights(X, 2.0 * mix).sum() == pytest.approx(2.0, rel=0.01)


def test_interval_table_covers_about_eighty_percent():
    rng = np.random.default_rng(3)
    level = rng.gamma(1.5, 2.0, size=(300, 1))
    forecast = np.repeat(level, 28, axis=1)
    actual = rng.poisson(forecast).astype(float)
    table = m.interval_table(forecast, actual, coverage=0.8)
    low, high = m.apply_intervals(forecast, table)
    assert (low <= forecast).all() and (forecast <= high).all() and (low >= 0).all()
    fresh = rng.poisson(forecast).astype(float)
    assert 0.72 <= m.coverage(fresh, low, high) <= 0.9
    zero_low, zero_high = m.apply_intervals(np.zeros((2, 3)), table)
    assert not zero_low.any() and not zero_high.any()


def test_intermittent_models_equal_statsforecasts_on_random_series():
    """The nightly path's Croston, SBA and TSB are statsforecast's models, number for number:
    the same recursions without importing statsforecast (numba) in every Spark worker."""
    from statsforecast.models import TSB, CrostonClassic, CrostonSBA

    rng = np.random.default_rng(11)
    checked = 0
    for i in range(400):
        n = int(rng.integers(14, 183))
        # intermittent to smooth demand, integers and fractions, bursts and long gaps
        share = rng.uniform(0.02, 0.9)
        y = np.where(rng.random(n) < share, rng.gamma(1.5, 3.0, n), 0.0)
        if i % 3 == 0:
            y = np.round(y)
        if np.count_nonzero(y) < 2:
            continue
        checked += 1
        for ours, theirs in (
            (m.croston_classic(y), CrostonClassic().forecast(y=y, h=1)["mean"][0]),
            (m.croston_sba(y), CrostonSBA().forecast(y=y, h=1)["mean"][0]),
            (m.tsb(y, 0.1, 0.1), TSB(alpha_d=0.1, alpha_p=0.1).forecast(y=y, h=1)["mean"][0]),
        ):
            assert ours == float(theirs), (i, ours, float(theirs))
    assert checked > 300
    # a series without demand forecasts zero, like statsforecast's
    assert m.tsb(np.zeros(20), 0.1, 0.1) == 0.0


def _lsq_recomputing_the_gram(X, y, s, c, target):
    """The active-set solve as it was before the Gram matrix was computed once: each
    active set's weighted Gram matrix and moments recomputed from X's active columns."""
    k = X.shape[1]
    active = list(range(k))
    while active:
        Xa = X[:, active]
        G = Xa.T @ (Xa * s[:, None]) + 1e-9 * np.eye(len(active))
        kkt = np.zeros((len(active) + 1, len(active) + 1))
        kkt[:-1, :-1] = 2 * G
        kkt[:-1, -1] = c[active]
        kkt[-1, :-1] = c[active]
        rhs = np.r_[2 * Xa.T @ (s * y), target]
        sol = np.linalg.lstsq(kkt, rhs, rcond=None)[0][:-1]
        if (sol >= -1e-12).all():
            w = np.zeros(k)
            w[active] = np.maximum(sol, 0.0)
            return w
        active.pop(int(np.argmin(sol)))
    return np.zeros(k)


@pytest.mark.parametrize("seed", range(6))
def test_active_set_solve_with_one_gram_matches_recomputing_it(seed):
    """The speed-up keeps the solution: the same weights (to rounding) as recomputing the
    Gram matrix per active set, on problems where some estimators must be dropped
    (columns anti-correlated with the demand push their weights below zero)."""
    rng = np.random.default_rng(seed)
    n, k = 2000, 8
    X = rng.gamma(0.8, 2.0, (n, k))
    mix = np.array([0.7, 0.5, -0.4, 0.2, -0.3, 0.1, 0.0, 0.3])
    truth = np.maximum(X @ mix + rng.normal(0, 0.3, n), 0.0)
    s = rng.uniform(0.2, 2.0, n)
    for c, target in ((s @ X, 1.1 * float(s @ truth)), (np.ones(k), 1.0)):
        expected = _lsq_recomputing_the_gram(X, truth, s, c, target)
        got = m._constrained_nonneg_lsq(X, truth, s, c, target)
        assert (expected == 0).sum() >= 1  # the case exercises dropped estimators
        assert got == pytest.approx(expected, abs=1e-9)


def test_mean_and_median_helpers_equal_numpys_bit_for_bit():
    """The per-article features use these instead of np.mean / np.median for speed; the
    forecast's numbers must not move (== on floats, not approx)."""
    rng = np.random.default_rng(3)
    for size in [1, 2, 3, 4, 7, 8, 28, 91, 182, 1000]:
        for _ in range(20):
            a = rng.gamma(0.4, 5.0, size) * (rng.random(size) < 0.6)
            assert m._mean(a) == np.mean(a)
            assert m._median(a) == np.median(a)
            assert m._mean(a[-7:]) == a[-7:].mean()
    with_nan = np.array([1.0, np.nan, 3.0, 2.0])
    assert np.isnan(m._median(with_nan)) and np.isnan(np.median(with_nan))
