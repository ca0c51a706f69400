"""Reference tests of the statistical building blocks, against hand work and independent code."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from analysis import AnalysisError, cliffs_delta, effect_size_label, holm, mann_whitney, wilson_interval
from analysis.stats import bootstrap_diff_ci, bootstrap_mean_ci, cell_rng

approx = pytest.approx


def test_wilson_by_hand():
    # 8 of 10, z = 1.959964: denom = 1.384146; centre = (0.8 + 0.192073) / denom = 0.716738
    # half = z / denom * sqrt(0.016 + 0.009604) = 1.416006 * 0.160011 = 0.226574
    low, high = wilson_interval(8, 10)
    assert low == approx(0.490164, abs=1e-5)
    assert high == approx(0.943312, abs=1e-5)


def test_wilson_edges():
    assert all(math.isnan(v) for v in wilson_interval(0, 0))
    low, high = wilson_interval(5, 5)
    assert high == 1.0 and low == approx(1 - 0.434482, abs=1e-5)  # mirror of 0 of 5
    with pytest.raises(AnalysisError):
        wilson_interval(6, 5)


def test_holm_hand_worked():
    # p = .01 .04 .03 .005, m = 4. Sorted: .005*4 = .02; .01*3 = .03; .03*2 = .06; .04*1 = .04 -> max .06
    assert holm([0.01, 0.04, 0.03, 0.005]) == approx([0.03, 0.06, 0.06, 0.02])
    # capped at 1 and monotone: .5*2 = 1.0; .6*1 = .6 -> 1.0
    assert holm([0.5, 0.6]) == approx([1.0, 1.0])
    # a test not run stays None and is not counted: m = 2 here
    assert holm([None, 0.02, 0.04]) == [None, approx(0.04), approx(0.04)]
    assert holm([]) == []


def brute_delta(x, y):
    greater = sum(1 for a in x for b in y if a > b)
    less = sum(1 for a in x for b in y if a < b)
    return (greater - less) / (len(x) * len(y))


def test_cliffs_delta_against_brute_force():
    # hand: x 3 4 5 vs y 1 2 4: 7 pairs x > y, 1 pair x < y (3 < 4), 1 tie -> 6/9
    assert cliffs_delta([3, 4, 5], [1, 2, 4]) == approx(2 / 3)
    rng = np.random.default_rng(11)
    for _ in range(20):
        x = rng.integers(1, 6, rng.integers(1, 15)).astype(float)
        y = rng.integers(1, 6, rng.integers(1, 15)).astype(float)
        assert cliffs_delta(x, y) == approx(brute_delta(x, y))
        # and delta = 2 U / (n1 n2) - 1 with scipy's U of x
        u = stats.mannwhitneyu(x, y).statistic
        assert cliffs_delta(x, y) == approx(2 * u / (len(x) * len(y)) - 1)
    assert math.isnan(cliffs_delta([], [1.0]))


@pytest.mark.parametrize(("delta", "name"), [(0.1, "negligible"), (-0.2, "small"), (0.4, "medium"),
                                             (-0.474, "large"), (None, None)])
def test_effect_size_label(delta, name):
    assert effect_size_label(delta) == name


def test_mann_whitney_exact_by_hand():
    # every x above every y: U = 9, and only 1 of C(6, 3) = 20 splits is as extreme on each side -> 2/20
    assert mann_whitney([4.0, 4.5, 5.0], [1.0, 2.0, 3.0]) == {"u": 9.0, "p": approx(0.1), "method": "exact"}


def test_mann_whitney_permutation_with_ties_by_hand():
    # pooled 1 2 3 4 4 4 5 5, mid-ranks 1 2 3 5 5 5 7.5 7.5; x = 4 4 5 5 has rank sum 25 -> U = 25 - 10 = 15,
    # the largest possible (3 splits: both 5s and two of the three 4s); the smallest, U = 1, also has
    # 3 splits ({1, 2, 3} and one 4). C(8, 4) = 70 < 4,999 resamples, so scipy enumerates: p = 6/70.
    result = mann_whitney([4, 4, 5, 5], [1, 4, 2, 3])
    assert result == {"u": 15.0, "p": approx(6 / 70), "method": "permutation"}


def monte_carlo_p(x, y, draws=20000):
    pooled = np.concatenate([x, y])
    centre = len(x) * len(y) / 2
    observed = abs(stats.mannwhitneyu(x, y).statistic - centre)
    shuffled = np.random.default_rng(99).permuted(np.tile(pooled, (draws, 1)), axis=1)
    u = stats.rankdata(shuffled, axis=1)[:, : len(x)].sum(axis=1) - len(x) * (len(x) + 1) / 2
    return float(np.mean(np.abs(u - centre) >= observed - 1e-9))


def test_mann_whitney_matches_scipy_for_each_method():
    rng = np.random.default_rng(5)
    x, y = rng.normal(0, 1, 12), rng.normal(1, 1, 10)  # no ties
    assert mann_whitney(x, y)["method"] == "exact"
    assert mann_whitney(x, y)["p"] == approx(stats.mannwhitneyu(x, y, method="exact").pvalue)
    x, y = rng.integers(1, 6, 40).astype(float), rng.integers(1, 6, 40).astype(float)  # ties, 80 people
    result = mann_whitney(x, y)
    assert result["method"] == "asymptotic"
    assert result["p"] == approx(stats.mannwhitneyu(x, y, method="asymptotic").pvalue)
    x, y = rng.integers(1, 6, 15).astype(float), rng.integers(2, 6, 15).astype(float)  # ties, 30 people
    result = mann_whitney(x, y, seed=4)
    assert result["method"] == "permutation"
    # an independent check of the permutation p-value: our own Monte Carlo over 20,000 label shuffles
    assert result["p"] == approx(monte_carlo_p(x, y), abs=0.03)
    assert mann_whitney(x, y, seed=4) == result  # seeded
    with pytest.raises(AnalysisError):
        mann_whitney([], [1.0])


@pytest.mark.parametrize("seed", range(12))
def test_asymptotic_mann_whitney_is_scipys(seed):
    """The normal approximation is computed without scipy (see analysis.stats): it must be scipy's to the digit."""
    rng = np.random.default_rng(seed)
    n1, n2 = rng.integers(31, 3000, size=2)
    samples = [  # ratings (many ties), respondent means (fewer ties), continuous (no ties), one-sided shifts
        (rng.integers(1, 6, n1).astype(float), rng.integers(1, 6, n2).astype(float)),
        (rng.integers(3, 16, n1) / 3, rng.integers(5, 16, n2) / 3),
        (rng.normal(0, 1, n1), rng.normal(0.1 * seed, 1, n2)),
        (rng.integers(4, 6, n1).astype(float), rng.integers(1, 3, n2).astype(float)),
    ]
    for x, y in samples:
        ours = mann_whitney(x, y)
        theirs = stats.mannwhitneyu(x, y, alternative="two-sided", method="asymptotic")
        assert ours["method"] == "asymptotic"
        assert ours["u"] == approx(float(theirs.statistic), rel=1e-12)
        assert ours["p"] == approx(min(1.0, float(theirs.pvalue)), rel=1e-9, abs=1e-300)


def test_asymptotic_mann_whitney_of_identical_samples_is_one():
    same = np.full(70, 3.0)
    assert mann_whitney(same, same) == {"u": 70 * 70 / 2, "p": 1.0, "method": "asymptotic"}
    assert stats.mannwhitneyu(same, same, method="asymptotic").pvalue == approx(1.0)


def test_bootstrap_mean_ci_properties():
    values = [1.0, 2.0, 2.0, 3.0, 5.0, 4.0, 2.0, 3.0]
    low, high = bootstrap_mean_ci(values, cell_rng(0, "x"), 4000)
    assert min(values) <= low < np.mean(values) < high <= max(values)
    # close to scipy's own percentile bootstrap (an independent implementation)
    ref = stats.bootstrap((np.array(values),), np.mean, method="percentile", n_resamples=20000,
                          rng=np.random.default_rng(1)).confidence_interval
    assert (low, high) == (approx(ref.low, abs=0.12), approx(ref.high, abs=0.12))
    assert bootstrap_mean_ci([2.0] * 4, cell_rng(0)) == (2.0, 2.0)
    assert all(math.isnan(v) for v in bootstrap_mean_ci([], cell_rng(0)))


def test_bootstrap_diff_ci_and_cell_seeds():
    a = bootstrap_diff_ci([3.0, 4.0, 5.0], [1.0, 2.0], cell_rng(7, "d", "g"), 1000)
    b = bootstrap_diff_ci([3.0, 4.0, 5.0], [1.0, 2.0], cell_rng(7, "d", "g"), 1000)
    assert a == b
    assert 1.0 <= a[0] <= 2.5 <= a[1] <= 4.0  # differences range from 3-2 to 5-1
    draws = {float(cell_rng(0, *key).random()) for key in itertools.product("ab", "xy")}
    assert len(draws) == 4
