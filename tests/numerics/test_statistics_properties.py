"""Property tests (hypothesis) of `recworld.numerics.statistics`: the contracts in its docstrings,
checked on generated strata rather than hand-picked ones.

Values are drawn from a bounded range (|x| <= 1e6) so that float rounding stays far below the
tolerances; the one property that fails outside it is `test_vectorised_iqm_is_exact_beside_huge_outliers`
Hypothesis runs derandomized and bootstraps are small
(``n_boot`` 50-200), so the module takes a few seconds.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from recworld.numerics.statistics import (
    band,
    bootstrap_ci,
    bootstrap_indices,
    iqm,
    normal_interval,
    percentile_interval,
    performance_profile,
    probability_of_improvement,
    probability_of_improvement_ci,
    summarize,
)

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True)
N_BOOT = 200

values = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
small_ints = st.integers(-5, 5).map(float)  # many ties, for the probability of improvement
stratum = st.lists(values, min_size=1, max_size=12)
strata = st.lists(stratum, min_size=1, max_size=4)
seeds = st.integers(0, 2**32 - 1)
levels = st.floats(0.5, 0.99)


def pooled(groups: list[list[float]]) -> np.ndarray:
    return np.concatenate([np.asarray(g, dtype=float) for g in groups])


def tol(x: np.ndarray) -> float:
    """Absolute tolerance for sums of a few dozen values of the magnitude of ``x``."""
    return 1e-9 * (1.0 + float(np.max(np.abs(x))))


def scipy_iqm_rows(x: np.ndarray) -> np.ndarray:
    """The reference row statistic: `iqm` (scipy's trim_mean) of each row's non-NaN values."""
    return np.array([iqm(row[~np.isnan(row)]) for row in x])


# ------------------------------------------------------------------------------------------ iqm
@SETTINGS
@given(st.lists(values, min_size=1, max_size=40))
def test_iqm_lies_within_the_data_and_ignores_order(xs):
    x = np.asarray(xs)
    result = iqm(x)
    low, high = np.percentile(x, [0, 100])
    assert low - tol(x) <= result <= high + tol(x)
    assert iqm(x[::-1]) == pytest.approx(result, abs=tol(x))
    assert iqm(np.sort(x)) == pytest.approx(result, abs=tol(x))


@SETTINGS
@given(st.lists(values, min_size=1, max_size=3))
def test_iqm_of_fewer_than_four_values_is_their_mean(xs):
    # trim_mean cuts int(0.25 * n) values from each end: none below four values
    assert iqm(xs) == pytest.approx(np.mean(xs), abs=tol(np.asarray(xs)))


@SETTINGS
@given(st.lists(st.floats(0, 1e3), min_size=1, max_size=20), values)
def test_iqm_of_symmetric_data_is_the_centre_and_the_mean(offsets, centre):
    x = np.concatenate([centre + np.asarray(offsets), centre - np.asarray(offsets)])
    assert iqm(x) == pytest.approx(centre, abs=tol(x))
    assert iqm(x) == pytest.approx(x.mean(), abs=tol(x))


@SETTINGS
@given(st.lists(values, min_size=4, max_size=40), st.floats(1.0, 1e12))
def test_iqm_ignores_how_extreme_the_extremes_are(xs, push):
    """Robust to outlying users: moving the largest value up or the smallest down (n >= 4, so at
    least one value is cut from each end) leaves the IQM unchanged."""
    x = np.sort(np.asarray(xs))
    moved = x.copy()
    moved[-1] += push
    moved[0] -= push
    assert iqm(moved) == pytest.approx(iqm(x), abs=tol(x))


@SETTINGS
@given(st.lists(values, min_size=1, max_size=30), values, st.floats(0.01, 100))
def test_iqm_is_affine_equivariant(xs, shift, scale):
    x = np.asarray(xs)
    assert iqm(scale * x + shift) == pytest.approx(scale * iqm(x) + shift, abs=1e3 * tol(scale * x + shift))
    assert iqm(-x) == pytest.approx(-iqm(x), abs=tol(x))


# ------------------------------------------------------------------------------- bootstrap_ci
@SETTINGS
@given(strata, st.sampled_from(["mean", "iqm"]), seeds)
def test_bootstrap_interval_is_ordered_within_the_data_and_deterministic(groups, statistic, seed):
    x = pooled(groups)
    low, high = bootstrap_ci(groups, statistic, n_boot=N_BOOT, seed=seed)
    assert x.min() - tol(x) <= low <= high <= x.max() + tol(x)
    assert bootstrap_ci(groups, statistic, n_boot=N_BOOT, seed=seed) == (low, high)  # bit for bit


@SETTINGS
@given(values, st.lists(st.integers(1, 10), min_size=1, max_size=4), st.sampled_from(["mean", "iqm"]), seeds)
def test_bootstrap_interval_of_constant_data_is_that_constant(c, sizes, statistic, seed):
    groups = [[c] * n for n in sizes]
    low, high = bootstrap_ci(groups, statistic, n_boot=N_BOOT, seed=seed)
    assert low == pytest.approx(c, abs=tol(np.array([c]))) and high == pytest.approx(
        c, abs=tol(np.array([c]))
    )


@SETTINGS
@given(strata, seeds)
def test_vectorised_iqm_matches_scipy_under_the_bootstrap(groups, seed):
    """The built-in "iqm" (a vectorised trim_mean over NaN-padded rows of unequal counts) gives the
    same interval as scipy's trim_mean applied row by row to the same resamples."""
    fast = bootstrap_ci(groups, "iqm", n_boot=50, seed=seed)
    slow = bootstrap_ci(groups, scipy_iqm_rows, n_boot=50, seed=seed)
    x = pooled(groups)
    assert fast == pytest.approx(slow, abs=tol(x))


def test_vectorised_iqm_is_exact_beside_huge_outliers():
    x = [-1e17, 1.0, 2.0, 3.0]
    # one stratum: every replicate is a resample of these four values, so its IQM is a middle value
    fast = bootstrap_ci([x], "iqm", n_boot=200, seed=0)
    slow = bootstrap_ci([x], scipy_iqm_rows, n_boot=200, seed=0)
    assert fast == pytest.approx(slow)


@SETTINGS
@given(strata, st.sampled_from(["mean", "iqm"]), st.floats(-1e3, 1e3), st.floats(0.1, 10), seeds)
def test_bootstrap_interval_is_affine_equivariant(groups, statistic, shift, scale, seed):
    """The resamples depend only on the strata's sizes, so shifting and scaling the data shifts and
    scales the interval; a negative scale swaps its ends (the tails are symmetric)."""
    low, high = bootstrap_ci(groups, statistic, n_boot=N_BOOT, seed=seed)
    moved = [[scale * v + shift for v in g] for g in groups]
    t = 10 * tol(scale * pooled(groups)) + 1e-9 * abs(shift)
    assert bootstrap_ci(moved, statistic, n_boot=N_BOOT, seed=seed) == pytest.approx(
        (scale * low + shift, scale * high + shift), abs=t
    )
    flipped = [[-v for v in g] for g in groups]
    assert bootstrap_ci(flipped, statistic, n_boot=N_BOOT, seed=seed) == pytest.approx(
        (-high, -low), abs=tol(pooled(groups))
    )


@SETTINGS
@given(strata, st.sampled_from(["mean", "iqm"]), levels, levels, seeds)
def test_bootstrap_intervals_are_nested_by_level(groups, statistic, a, b, seed):
    narrow, wide = sorted((a, b))
    n_low, n_high = bootstrap_ci(groups, statistic, n_boot=N_BOOT, seed=seed, level=narrow)
    w_low, w_high = bootstrap_ci(groups, statistic, n_boot=N_BOOT, seed=seed, level=wide)
    assert w_low <= n_low <= n_high <= w_high


@SETTINGS
@given(strata, st.data(), seeds)
def test_nan_values_and_empty_strata_are_dropped(groups, data, seed):
    """NaN marks a user for whom the metric is undefined: sprinkling NaN among the values, and adding
    strata that hold only NaN, changes nothing, bit for bit."""
    noisy = []
    for g in groups:
        g = list(g)
        for _ in range(data.draw(st.integers(0, 3))):
            g.insert(data.draw(st.integers(0, len(g))), math.nan)
        noisy.append(g)
    for _ in range(data.draw(st.integers(0, 2))):
        noisy.insert(data.draw(st.integers(0, len(noisy))), [math.nan] * data.draw(st.integers(0, 3)))
    assert bootstrap_ci(noisy, "iqm", n_boot=N_BOOT, seed=seed) == bootstrap_ci(
        groups, "iqm", n_boot=N_BOOT, seed=seed
    )
    assert summarize(noisy, n_boot=N_BOOT, seed=seed) == summarize(groups, n_boot=N_BOOT, seed=seed)


@SETTINGS
@given(st.lists(st.lists(st.just(math.nan), max_size=3), max_size=3))
def test_no_value_at_all(groups):
    assert summarize(groups, n_boot=N_BOOT) == {
        "mean": None,
        "mean_low": None,
        "mean_high": None,
        "iqm": None,
        "iqm_low": None,
        "iqm_high": None,
        "n": 0,
        "strata": 0,
    }
    with pytest.raises(ValueError, match="no data"):
        bootstrap_ci(groups, n_boot=N_BOOT)


# ---------------------------------------------------------------------------------- summarize
@SETTINGS
@given(strata, seeds, levels)
def test_summarize_is_the_pooled_estimates_with_bootstrap_ci_intervals(groups, seed, level):
    x = pooled(groups)
    stats = summarize(groups, n_boot=N_BOOT, seed=seed, level=level)
    assert stats["n"] == len(x) and stats["strata"] == len(groups)
    assert stats["mean"] == pytest.approx(x.mean(), abs=tol(x))
    assert stats["iqm"] == pytest.approx(iqm(x), abs=tol(x))
    # the same resamples as bootstrap_ci with the same seed, for both statistics
    mean_ci = bootstrap_ci(groups, "mean", n_boot=N_BOOT, seed=seed, level=level)
    iqm_ci = bootstrap_ci(groups, "iqm", n_boot=N_BOOT, seed=seed, level=level)
    assert (stats["mean_low"], stats["mean_high"]) == mean_ci
    assert (stats["iqm_low"], stats["iqm_high"]) == iqm_ci
    for key in ("mean", "iqm"):
        assert x.min() - tol(x) <= stats[f"{key}_low"] <= stats[f"{key}_high"] <= x.max() + tol(x)
    assert summarize(groups, n_boot=N_BOOT, seed=seed, level=level) == stats


# ------------------------------------------------------------------- probability of improvement
@st.composite
def paired(draw, elements=small_ints, allow_nan=False):
    """Two agents' strata of the same shape: x_strata[k][u] and y_strata[k][u] are one user."""
    sizes = draw(st.lists(st.integers(1, 10), min_size=1, max_size=4))
    element = st.one_of(elements, st.just(math.nan)) if allow_nan else elements
    xs = [draw(st.lists(element, min_size=n, max_size=n)) for n in sizes]
    ys = [draw(st.lists(element, min_size=n, max_size=n)) for n in sizes]
    return xs, ys


def has_pair(xs, ys) -> bool:
    return any(
        not (math.isnan(a) or math.isnan(b))
        for x, y in zip(xs, ys, strict=True)
        for a, b in zip(x, y, strict=True)
    )


@SETTINGS
@given(st.one_of(paired(), paired(values)))
def test_probability_of_improvement_is_complementary(pair):
    xs, ys = pair
    p = probability_of_improvement(xs, ys)
    assert 0.0 <= p <= 1.0
    assert p + probability_of_improvement(ys, xs) == pytest.approx(1.0, abs=1e-12)


@SETTINGS
@given(st.lists(stratum, min_size=1, max_size=4))
def test_an_agent_against_itself_is_exactly_one_half(groups):
    assert probability_of_improvement(groups, groups) == 0.5
    assert probability_of_improvement_ci(groups, groups, n_boot=50) == {
        "probability": 0.5,
        "low": 0.5,
        "high": 0.5,
    }


@SETTINGS
@given(paired(), st.floats(0, 20))
def test_improving_x_never_lowers_the_probability(pair, delta):
    xs, ys = pair
    better_x = [[v + delta for v in x] for x in xs]
    better_y = [[v + delta for v in y] for y in ys]
    assert probability_of_improvement(better_x, ys) >= probability_of_improvement(xs, ys)
    assert probability_of_improvement(xs, better_y) <= probability_of_improvement(xs, ys)


@SETTINGS
@given(paired(), st.floats(0.5, 20))
def test_x_better_for_every_user_is_certain(pair, margin):
    xs, ys = pair
    ahead = [[max(y) + margin + (v - min(x)) for v in x] for x, y in zip(xs, ys, strict=True)]
    assert probability_of_improvement(ahead, ys) == 1.0
    assert probability_of_improvement_ci(ahead, ys, n_boot=50) == {
        "probability": 1.0,
        "low": 1.0,
        "high": 1.0,
    }


@SETTINGS
@given(paired(allow_nan=True))
def test_users_without_both_values_are_left_out(pair):
    xs, ys = pair
    if not has_pair(xs, ys):
        with pytest.raises(ValueError, match="no stratum has values for both agents"):
            probability_of_improvement(xs, ys)
        return
    kept = []
    for x, y in zip(xs, ys, strict=True):
        both = [(a, b) for a, b in zip(x, y, strict=True) if not (math.isnan(a) or math.isnan(b))]
        if both:
            kept.append(both)
    by_hand = np.mean([np.mean([1.0 if a > b else 0.5 if a == b else 0.0 for a, b in s]) for s in kept])
    assert probability_of_improvement(xs, ys) == pytest.approx(by_hand, abs=1e-12)


@SETTINGS
@given(paired(), seeds, levels)
def test_probability_of_improvement_ci_is_consistent_and_symmetric(pair, seed, level):
    xs, ys = pair
    result = probability_of_improvement_ci(xs, ys, n_boot=N_BOOT, seed=seed, level=level)
    assert result["probability"] == probability_of_improvement(xs, ys)
    assert 0.0 <= result["low"] <= result["high"] <= 1.0
    assert probability_of_improvement_ci(xs, ys, n_boot=N_BOOT, seed=seed, level=level) == result
    # swapping the agents reflects the interval about 1/2 (same users drawn, complementary wins)
    swapped = probability_of_improvement_ci(ys, xs, n_boot=N_BOOT, seed=seed, level=level)
    assert swapped["probability"] == pytest.approx(1.0 - result["probability"], abs=1e-12)
    assert swapped["low"] == pytest.approx(1.0 - result["high"], abs=1e-12)
    assert swapped["high"] == pytest.approx(1.0 - result["low"], abs=1e-12)


@SETTINGS
@given(paired(), st.integers(1, 3))
def test_mismatched_strata_are_refused(pair, extra):
    xs, ys = pair
    with pytest.raises(ValueError, match="same strata"):
        probability_of_improvement(xs, ys + [[0.0]] * extra)
    longer = [list(x) for x in xs]
    longer[-1] = longer[-1] + [0.0] * extra
    with pytest.raises(ValueError, match=f"stratum {len(xs) - 1} has {len(longer[-1])} values"):
        probability_of_improvement(longer, ys)


# ------------------------------------------------------------------ intervals from replicates
@SETTINGS
@given(
    st.lists(st.one_of(values, st.sampled_from([math.nan, math.inf, -math.inf])), min_size=1, max_size=50),
    levels,
)
def test_percentile_interval_uses_only_the_finite_replicates(reps, level):
    finite = np.asarray([r for r in reps if math.isfinite(r)])
    low, high = percentile_interval(np.asarray(reps), level)
    if not len(finite):
        assert math.isnan(low) and math.isnan(high)
        return
    assert finite.min() <= low <= high <= finite.max()
    assert (low, high) == percentile_interval(finite, level)
    wider = percentile_interval(finite, min(0.999, level + 0.005))
    assert wider[0] <= low and high <= wider[1]


@SETTINGS
@given(st.integers(1, 30), st.integers(1, 50), seeds)
def test_bootstrap_indices_are_in_range_and_seeded(n_units, n_boot, seed):
    idx = bootstrap_indices(n_units, n_boot=n_boot, seed=seed)
    assert idx.shape == (n_boot, n_units)
    assert idx.min() >= 0 and idx.max() < n_units
    assert np.array_equal(idx, bootstrap_indices(n_units, n_boot=n_boot, seed=seed))


@SETTINGS
@given(st.lists(values, min_size=2, max_size=40), levels, st.floats(0.1, 10), st.floats(-1e3, 1e3))
def test_normal_interval_is_centred_and_scales_with_the_spread(xs, level, scale, shift):
    x = np.asarray(xs)
    low, high = normal_interval(x, level)
    assert (low + high) / 2 == pytest.approx(x.mean(), abs=tol(x))
    half = sps.norm.ppf(0.5 + level / 2) * np.std(x, ddof=1) / np.sqrt(len(x))
    assert (high - low) / 2 == pytest.approx(half, rel=1e-9, abs=tol(x))
    s_low, s_high = normal_interval(scale * x + shift, level)
    assert s_high - s_low == pytest.approx(scale * (high - low), rel=1e-6, abs=10 * tol(scale * x))
    w_low, w_high = normal_interval(x, min(0.999, level + 0.005))
    assert w_low <= low + tol(x) and high <= w_high + tol(x)


# ----------------------------------------------------------------------------------------- band
@st.composite
def curves(draw):
    """Per stratum, the raw per-user values of a curve of some length: ``(count, length)``."""
    n_strata = draw(st.integers(1, 4))
    length = draw(st.integers(1, 6))
    out = []
    for _ in range(n_strata):
        count = draw(st.integers(1, 6))
        cells = draw(st.lists(st.floats(-100, 100), min_size=count * length, max_size=count * length))
        out.append(np.asarray(cells).reshape(count, length))
    return out


@SETTINGS
@given(curves(), levels)
def test_band_is_the_normal_interval_of_the_pooled_users(raw, level):
    """Summaries per stratum (mean, std with ddof 0, count) pooled by `band` give, step by step, what
    `normal_interval` gives on all the users' values."""
    means = [r.mean(axis=0) for r in raw]
    stds = [r.std(axis=0) for r in raw]
    counts = [len(r) for r in raw]
    mean, low, high = band(means, stds, counts, level=level)
    everyone = np.concatenate(raw, axis=0)
    np.testing.assert_allclose(mean, everyone.mean(axis=0), atol=1e-9)
    assert np.all(low <= mean) and np.all(mean <= high)
    if len(everyone) > 1:
        for t in range(everyone.shape[1]):
            n_low, n_high = normal_interval(everyone[:, t], level)
            assert low[t] == pytest.approx(n_low, abs=1e-5) and high[t] == pytest.approx(n_high, abs=1e-5)


@SETTINGS
@given(curves(), st.data(), levels)
def test_band_treats_a_shorter_curve_as_ended(raw, data, level):
    """A curve that stops early counts as zeros (mean 0, std 0) after its end."""
    length = raw[0].shape[1]
    means = [r.mean(axis=0) for r in raw]
    stds = [r.std(axis=0) for r in raw]
    counts = [len(r) for r in raw]
    cut = [data.draw(st.integers(1, length)) for _ in raw]
    short = band(
        [m[:c] for m, c in zip(means, cut, strict=True)],
        [s[:c] for s, c in zip(stds, cut, strict=True)],
        counts,
        level=level,
    )
    padded_means = [np.where(np.arange(length) < c, m, 0.0) for m, c in zip(means, cut, strict=True)]
    padded_stds = [np.where(np.arange(length) < c, s, 0.0) for s, c in zip(stds, cut, strict=True)]
    full = band(padded_means, padded_stds, counts, level=level)
    assert len(short[0]) == max(cut)
    for a, b in zip(short, full, strict=True):
        np.testing.assert_allclose(a, b[: max(cut)], atol=1e-9)


@SETTINGS
@given(
    st.lists(st.lists(st.integers(-5, 5), min_size=1, max_size=30), min_size=1, max_size=4),
    st.lists(st.floats(-6, 6, allow_nan=False), min_size=1, max_size=8),
)
def test_performance_profile_is_the_share_above_each_threshold(strata, thresholds):
    """The point is the pooled share above each threshold (rliable's score distribution); it never
    rises with the threshold; the band holds values a resample can give (a share in [0, 1])."""
    taus = np.sort(np.asarray(thresholds))
    profile = performance_profile([np.asarray(s, dtype=float) for s in strata], taus, n_boot=50)
    pooled = np.concatenate([np.asarray(s, dtype=float) for s in strata])
    assert profile["fraction"] == pytest.approx([(pooled > t).mean() for t in taus])
    assert np.all(np.diff(profile["fraction"]) <= 1e-12)
    low, high = np.asarray(profile["low"]), np.asarray(profile["high"])
    assert np.all((0 <= low) & (low <= high + 1e-12) & (high <= 1))


def test_performance_profile_of_identical_values_has_no_width():
    profile = performance_profile([[2.0, 2.0], [2.0]], [1.0, 2.0, 3.0], n_boot=30)
    assert profile["fraction"] == profile["low"] == profile["high"] == [1.0, 0.0, 0.0]


def test_performance_profile_of_a_lower_is_better_score_counts_the_users_below():
    values = [np.array([1.0, 2.0, 3.0, 4.0])]
    profile = performance_profile(values, [0.5, 2.5, 4.5], n_boot=30, higher=False)
    assert profile["fraction"] == [0.0, 0.5, 1.0]  # rises: fewer users beat a stricter threshold
