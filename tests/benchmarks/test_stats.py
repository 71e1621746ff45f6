"""Statistics against hand-computed values."""

import numpy as np
import pytest

from recgym.benchmarks.stats import (
    band,
    iqm,
    probability_of_improvement,
    probability_of_improvement_ci,
    stratified_bootstrap_ci,
    summarize,
)


def test_iqm_is_the_mean_of_the_middle_half():
    assert iqm([1, 2, 3, 4, 5, 6, 7, 8]) == pytest.approx(4.5)  # mean of 3, 4, 5, 6
    assert iqm([100.0, 1, 2, 3, -50]) == pytest.approx(2.0)  # 5 values: cut one each end
    assert iqm([7.0, 7.0, 7.0, 7.0]) == 7.0


def test_bootstrap_is_deterministic_given_the_seed():
    rng = np.random.default_rng(1)
    strata = [rng.normal(size=40), rng.normal(1.0, size=40)]
    first = stratified_bootstrap_ci(strata, "iqm", n_boot=500, seed=3)
    assert stratified_bootstrap_ci(strata, "iqm", n_boot=500, seed=3) == first
    assert stratified_bootstrap_ci(strata, "iqm", n_boot=500, seed=4) != first
    low, high = stratified_bootstrap_ci(strata, "mean", n_boot=500, seed=3)
    assert low < np.concatenate(strata).mean() < high


def test_bootstrap_keeps_the_strata():
    # Users are resampled within each seed: a seed of zeros and a seed of tens always average to 5.
    assert stratified_bootstrap_ci([[0.0, 0.0, 0.0], [10.0, 10.0, 10.0]], n_boot=200) == (5.0, 5.0)
    # Pooled without strata the same six values would give replicates away from 5.


def test_summarize_drops_undefined_values_and_reports_counts():
    stats = summarize([[1.0, np.nan, 3.0], [np.nan]], n_boot=200)
    assert stats["mean"] == 2.0 and stats["n"] == 2 and stats["strata"] == 1
    assert stats["mean_low"] <= 2.0 <= stats["mean_high"]
    assert summarize([[np.nan]], n_boot=200)["mean"] is None


def test_probability_of_improvement_by_hand():
    # x = [2, 3] vs y = [1, 2]: 2>1, 2=2 (one half), 3>1, 3>2 -> 3.5 / 4
    assert probability_of_improvement([[2.0, 3.0]], [[1.0, 2.0]]) == pytest.approx(0.875)
    # averaged over strata: 1.0 in the first seed, 0.0 in the second
    assert probability_of_improvement([[5.0], [0.0]], [[1.0], [1.0]]) == pytest.approx(0.5)
    sample = np.random.default_rng(0).normal(size=30)
    assert probability_of_improvement([sample, sample], [sample, sample]) == 0.5
    result = probability_of_improvement_ci([sample], [sample], n_boot=300, seed=0)
    assert result["probability"] == 0.5 and result["low"] < 0.5 < result["high"]
    with pytest.raises(ValueError, match="same strata"):
        probability_of_improvement([[1.0]], [[1.0], [2.0]])


def test_band_pools_strata():
    mean, low, high = band([[1.0, 2.0], [3.0]], [[0.0, 0.0], [0.0]], [1, 1])
    np.testing.assert_allclose(mean, [2.0, 1.0])  # the shorter curve counts 0 after its end
    assert np.all(low <= mean) and np.all(mean <= high)
