"""Statistics against hand-computed values."""

import numpy as np
import pytest

from recworld.numerics.statistics import (
    STATISTICS,
    band,
    bootstrap_ci,
    bootstrap_replicates,
    iqm,
    probability_of_improvement,
    probability_of_improvement_ci,
    summarize,
)


def test_iqm_is_the_mean_of_the_middle_half():
    assert iqm([1, 2, 3, 4, 5, 6, 7, 8]) == pytest.approx(4.5)  # mean of 3, 4, 5, 6
    assert iqm([100.0, 1, 2, 3, -50]) == pytest.approx(2.0)  # 5 values: cut one each end
    assert iqm([7.0, 7.0, 7.0, 7.0]) == 7.0


def test_bootstrap_is_deterministic_given_the_seed():
    rng = np.random.default_rng(1)
    strata = [rng.normal(size=40), rng.normal(1.0, size=40)]
    first = bootstrap_ci(strata, "iqm", n_boot=500, seed=3)
    assert bootstrap_ci(strata, "iqm", n_boot=500, seed=3) == first
    assert bootstrap_ci(strata, "iqm", n_boot=500, seed=4) != first
    low, high = bootstrap_ci(strata, "mean", n_boot=500, seed=3)
    assert low < np.concatenate(strata).mean() < high


def test_bootstrap_resamples_seeds_then_users():
    # Seeds that disagree widen the interval even when users within a seed agree: replicates draw
    # the two seeds with replacement (means 0, 5 or 10).
    (replicates,) = bootstrap_replicates([np.zeros(3), np.full(3, 10.0)], [STATISTICS["mean"]], n_boot=400)
    assert set(np.unique(replicates)) == {0.0, 5.0, 10.0}
    low, high = bootstrap_ci([np.zeros(30), np.full(30, 10.0), np.full(30, 20.0)], n_boot=2000)
    assert low < 5.0 and high > 15.0
    # One seed: the ordinary bootstrap over users.
    low, high = bootstrap_ci([np.arange(100.0)], n_boot=2000)
    assert low == pytest.approx(49.5 - 1.96 * 29.0 / 10, abs=1.5) and high == pytest.approx(55.2, abs=1.5)


def test_vectorised_iqm_matches_scipy_on_rows_of_unequal_length():
    from recworld.numerics.statistics import _iqm

    rng = np.random.default_rng(0)
    rows = [rng.normal(size=n) for n in (4, 5, 9, 17, 100)]
    padded = np.full((len(rows), 100), np.nan)
    for i, row in enumerate(rows):
        padded[i, : len(row)] = row
    np.testing.assert_allclose(_iqm(padded), [iqm(row) for row in rows])


def test_summarize_drops_undefined_values_and_reports_counts():
    stats = summarize([[1.0, np.nan, 3.0], [np.nan]], n_boot=200)
    assert stats["mean"] == 2.0 and stats["n"] == 2 and stats["strata"] == 1
    assert stats["mean_low"] <= 2.0 <= stats["mean_high"]
    assert summarize([[np.nan]], n_boot=200)["mean"] is None


def test_probability_of_improvement_by_hand():
    # paired by user: 2>1, 3>2 -> 1; a tie counts one half; NaN users are left out
    assert probability_of_improvement([[2.0, 3.0]], [[1.0, 2.0]]) == 1.0
    assert probability_of_improvement([[2.0, 3.0, 1.0, np.nan]], [[1.0, 3.0, 4.0, 0.0]]) == pytest.approx(0.5)
    # X beats Y by a little for every user: 1, whatever the spread between users
    users = np.random.default_rng(1).normal(size=94)
    result = probability_of_improvement_ci([users + 0.5], [users], n_boot=300)
    assert result == {"probability": 1.0, "low": 1.0, "high": 1.0}
    # averaged over strata: 1.0 in the first seed, 0.0 in the second
    assert probability_of_improvement([[5.0], [0.0]], [[1.0], [1.0]]) == pytest.approx(0.5)
    sample = np.random.default_rng(0).normal(size=30)
    assert probability_of_improvement([sample, sample], [sample, sample]) == 0.5
    result = probability_of_improvement_ci([sample], [sample], n_boot=300, seed=0)
    assert result == {"probability": 0.5, "low": 0.5, "high": 0.5}  # every user ties
    other = np.random.default_rng(2).normal(size=30)
    result = probability_of_improvement_ci([sample], [other], n_boot=300, seed=0)
    assert result["low"] < result["probability"] < result["high"] and result["low"] < 0.5 < result["high"]
    with pytest.raises(ValueError, match="same strata"):
        probability_of_improvement([[1.0]], [[1.0], [2.0]])
    with pytest.raises(ValueError, match="stratum 0 has 2 values for one agent and 1"):
        probability_of_improvement([[1.0, 2.0]], [[1.0]])


def test_band_pools_strata():
    mean, low, high = band([[1.0, 2.0], [3.0]], [[0.0, 0.0], [0.0]], [1, 1])
    np.testing.assert_allclose(mean, [2.0, 1.0])  # the shorter curve counts 0 after its end
    assert np.all(low <= mean) and np.all(mean <= high)


def test_one_stratum_bootstrap_interval_matches_the_normal_interval():
    """With one seed the two-level bootstrap is the ordinary one: for 2,000 normal values its 95%
    interval of the mean is the textbook mean ± 1.96 sd / sqrt(n), to Monte Carlo error."""
    from recworld.numerics.statistics import normal_interval

    values = np.random.default_rng(5).normal(3.0, 2.0, size=2000)
    low, high = bootstrap_ci([values], "mean", n_boot=4000, seed=1)
    normal_low, normal_high = normal_interval(values)
    half = (normal_high - normal_low) / 2
    assert abs(low - normal_low) < 0.08 * half and abs(high - normal_high) < 0.08 * half
