"""Statistics across seeds and users, with numpy and scipy only (the rliable paper's advice): the
one home of the benchmark's, the meta-model evaluation's and the fidelity report's intervals.

Data come as *strata*: one array per seed, holding one value per test user. Every estimate is
computed on all values pooled; its 95% confidence interval is a percentile interval of a
**two-level bootstrap**: each replicate draws the seeds with replacement, then the users with
replacement within each drawn seed, so the interval holds both what users differ by and what
seeds (an agent's training run, the random streams) differ by — the variation Agarwal et al.
(2021, "Deep RL at the edge of the statistical precipice") warn a report must not hide. With one
seed it is the ordinary bootstrap over users. Resamples come from
``numpy.random.default_rng(seed)``: the same data and seed give the same interval, bit for bit.

- `iqm`: the interquartile mean, the mean of the middle 50% (``scipy.stats.trim_mean(x, 0.25)``),
  robust to outlying users and still efficient;
- `probability_of_improvement`: P(X > Y) for the same user under the same seed (the benchmark's
  design is paired: both agents meet each test user with the same random stream), ties counting
  one half, averaged over users and then over seeds. Identical samples give exactly 0.5;
- `performance_profile`: the score distribution (rliable's performance profile), the share of
  users above each threshold, with two-level bootstrap bands.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy import stats as sps

Statistic = Callable[[np.ndarray], np.ndarray]  # (R, N) with NaN padding -> (R,), along axis 1


def bootstrap_indices(n_units: int, *, n_boot: int = 2000, seed: int = 0) -> np.ndarray:
    """``(n_boot, n_units)`` indices of units drawn with replacement: one-level bootstrap replicates
    (for statistics that are not means of values, such as ratios of sums or a rank correlation)."""
    return np.random.default_rng(seed).integers(0, n_units, size=(n_boot, n_units))


def percentile_interval(replicates: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """The central ``level`` percentile interval of the finite bootstrap replicates (NaN if none)."""
    finite = np.asarray(replicates, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    if not len(finite):
        return float("nan"), float("nan")
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(finite, [tail, 100 - tail])
    return float(low), float(high)


def normal_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """The normal-approximation interval of the mean of independent values (many users)."""
    values = np.asarray(values, dtype=np.float64)
    half = float(sps.norm.ppf(0.5 + level / 2)) * float(np.std(values, ddof=1)) / np.sqrt(max(len(values), 1))
    return float(values.mean()) - half, float(values.mean()) + half


def iqm(values: np.ndarray | Sequence[float], axis: int | None = None) -> Any:
    """Interquartile mean: the mean of the values between the 25th and the 75th percentile
    (25% cut from each end, as ``scipy.stats.trim_mean``)."""
    return sps.trim_mean(np.asarray(values, dtype=np.float64), 0.25, axis=axis)


def _mean(x: np.ndarray) -> np.ndarray:
    return np.nanmean(x, axis=1)


def _iqm(x: np.ndarray) -> np.ndarray:
    """`iqm` of each row's non-NaN values (rows of unequal counts, NaN-padded), vectorised."""
    ordered = np.sort(x, axis=1)  # NaN last
    count = (~np.isnan(ordered)).sum(axis=1)
    cut = (0.25 * count).astype(np.int64)  # as trim_mean: int(proportion * n) from each end
    position = np.arange(x.shape[1])
    kept = (position >= cut[:, None]) & (position < (count - cut)[:, None])  # the middle, summed directly
    return np.where(kept, ordered, 0.0).sum(axis=1) / (count - 2 * cut)


STATISTICS: dict[str, Statistic] = {"mean": _mean, "iqm": _iqm}


def clean_strata(strata: Sequence[np.ndarray | Sequence[float]]) -> list[np.ndarray]:
    """Float arrays without NaN (users for whom a metric is undefined), empty strata dropped."""
    out = []
    for stratum in strata:
        values = np.asarray(stratum, dtype=np.float64).reshape(-1)
        values = values[~np.isnan(values)]
        if len(values):
            out.append(values)
    return out


def _padded(strata: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The strata as rows of an ``(S, n_max)`` NaN-padded array, and their lengths."""
    lengths = np.array([len(s) for s in strata])
    padded = np.full((len(strata), int(lengths.max())), np.nan)
    for row, stratum in enumerate(strata):
        padded[row, : len(stratum)] = stratum
    return padded, lengths


def _resample(
    n_strata: int, lengths: np.ndarray, n_boot: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two-level bootstrap indices: ``(n_boot, S)`` drawn strata, ``(n_boot, S, n_max)`` positions
    within them, and the mask of positions inside each drawn stratum."""
    drawn = rng.integers(0, n_strata, size=(n_boot, n_strata))
    size = lengths[drawn]
    n_max = int(lengths.max())
    position = (rng.random((n_boot, n_strata, n_max)) * size[..., None]).astype(np.int64)
    inside = np.arange(n_max) < size[..., None]
    return drawn, position, inside


def bootstrap_replicates(
    strata: Sequence[np.ndarray], statistics: Sequence[Statistic], *, n_boot: int = 2000, seed: int = 0
) -> list[np.ndarray]:
    """``n_boot`` two-level bootstrap replicates (seeds, then users) of each statistic."""
    if not strata:
        raise ValueError("no data to bootstrap: every stratum is empty")
    rng = np.random.default_rng(seed)
    padded, lengths = _padded(strata)
    drawn, position, inside = _resample(len(strata), lengths, n_boot, rng)
    resampled = np.where(inside, padded[drawn[..., None], position], np.nan).reshape(n_boot, -1)
    return [np.asarray(statistic(resampled), dtype=np.float64) for statistic in statistics]


def bootstrap_ci(
    strata: Sequence[np.ndarray | Sequence[float]],
    statistic: str | Statistic = "mean",
    *,
    n_boot: int = 2000,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float]:
    """The percentile interval of a statistic (``"mean"``, ``"iqm"`` or a function of an ``(R, N)``
    NaN-padded array along axis 1) under the two-level bootstrap."""
    function = STATISTICS[statistic] if isinstance(statistic, str) else statistic
    (replicates,) = bootstrap_replicates(clean_strata(strata), [function], n_boot=n_boot, seed=seed)
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(replicates, [tail, 100 - tail])
    return float(low), float(high)


def summarize(
    strata: Sequence[np.ndarray | Sequence[float]], *, n_boot: int = 2000, seed: int = 0, level: float = 0.95
) -> dict[str, float | int | None]:
    """Mean and IQM of the pooled values with two-level bootstrap intervals (the same resamples
    for both), the number of values and of strata. All None when there is no value."""
    clean = clean_strata(strata)
    if not clean:
        return {
            "mean": None,
            "mean_low": None,
            "mean_high": None,
            "iqm": None,
            "iqm_low": None,
            "iqm_high": None,
            "n": 0,
            "strata": 0,
        }
    pooled = np.concatenate(clean)
    mean_reps, iqm_reps = bootstrap_replicates(clean, [_mean, _iqm], n_boot=n_boot, seed=seed)
    tail = 100 * (1 - level) / 2
    mean_low, mean_high = np.percentile(mean_reps, [tail, 100 - tail])
    iqm_low, iqm_high = np.percentile(iqm_reps, [tail, 100 - tail])
    return {
        "mean": float(pooled.mean()),
        "mean_low": float(mean_low),
        "mean_high": float(mean_high),
        "iqm": float(iqm(pooled)),
        "iqm_low": float(iqm_low),
        "iqm_high": float(iqm_high),
        "n": len(pooled),
        "strata": len(clean),
    }


def performance_profile(
    strata: Sequence[np.ndarray | Sequence[float]],
    thresholds: np.ndarray | Sequence[float],
    *,
    n_boot: int = 200,
    seed: int = 0,
    level: float = 0.95,
    higher: bool = True,
) -> dict[str, list[float]]:
    """The share of the pooled values better than each threshold (``fraction``: above it, or below
    it when lower is better, ``higher=False``), with two-level bootstrap percentile bands (``low``,
    ``high``): a whole distribution where a mean shows one number; a curve above another everywhere
    dominates it."""
    clean = clean_strata(strata)
    taus = np.asarray(thresholds, dtype=np.float64).reshape(-1)
    if not clean:
        raise ValueError("no data for a performance profile: every stratum is empty")

    sign = 1.0 if higher else -1.0  # lower is better: the share above -threshold of -values

    def better(x: np.ndarray) -> np.ndarray:  # (R, N) NaN-padded -> (R, T)
        counts = (~np.isnan(x)).sum(axis=1, keepdims=True)
        return np.stack([(sign * x > sign * tau).sum(axis=1) for tau in taus], axis=1) / counts

    (replicates,) = bootstrap_replicates(clean, [better], n_boot=n_boot, seed=seed)
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(replicates, [tail, 100 - tail], axis=0)
    pooled = np.concatenate(clean)
    return {
        "thresholds": taus.tolist(),
        "fraction": [float((sign * pooled > sign * tau).mean()) for tau in taus],
        "low": low.tolist(),
        "high": high.tolist(),
    }


def probability_of_improvement(
    x_strata: Sequence[np.ndarray | Sequence[float]], y_strata: Sequence[np.ndarray | Sequence[float]]
) -> float:
    """P(X > Y) for the same user (ties one half), averaged over users, then over strata (seeds);
    ``x_strata[k][u]`` and ``y_strata[k][u]`` are the same user under the same seed."""
    return float(np.mean([_wins(x - y).mean() for x, y in _paired(x_strata, y_strata)]))


def probability_of_improvement_ci(
    x_strata: Sequence[np.ndarray | Sequence[float]],
    y_strata: Sequence[np.ndarray | Sequence[float]],
    *,
    n_boot: int = 2000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, float]:
    """`probability_of_improvement` with a two-level bootstrap percentile interval (seeds, then
    users, each user keeping both agents' values)."""
    pairs = _paired(x_strata, y_strata)
    wins = [_wins(x - y) for x, y in pairs]
    padded, lengths = _padded(wins)
    drawn, position, inside = _resample(len(wins), lengths, n_boot, np.random.default_rng(seed))
    per_stratum = np.nanmean(np.where(inside, padded[drawn[..., None], position], np.nan), axis=2)
    replicates = per_stratum.mean(axis=1)
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(replicates, [tail, 100 - tail])
    return {
        "probability": float(np.mean([w.mean() for w in wins])),
        "low": float(low),
        "high": float(high),
    }


def _wins(difference: np.ndarray) -> np.ndarray:
    return (difference > 0) + 0.5 * (difference == 0)


def _paired(
    x_strata: Sequence[np.ndarray | Sequence[float]], y_strata: Sequence[np.ndarray | Sequence[float]]
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per stratum, the users with a value for both agents (NaN: undefined for that user)."""
    if len(x_strata) != len(y_strata):
        raise ValueError(
            f"probability of improvement needs the same strata (seeds) for both agents, got "
            f"{len(x_strata)} and {len(y_strata)}"
        )
    pairs = []
    for k, (x, y) in enumerate(zip(x_strata, y_strata, strict=True)):
        xa, ya = np.asarray(x, dtype=np.float64).reshape(-1), np.asarray(y, dtype=np.float64).reshape(-1)
        if len(xa) != len(ya):
            raise ValueError(
                f"probability of improvement pairs users: stratum {k} has {len(xa)} values for one "
                f"agent and {len(ya)} for the other"
            )
        both = ~np.isnan(xa) & ~np.isnan(ya)
        if both.any():
            pairs.append((xa[both], ya[both]))
    if not pairs:
        raise ValueError("probability of improvement: no stratum has values for both agents")
    return pairs


def band(
    means: Sequence[np.ndarray], stds: Sequence[np.ndarray], counts: Sequence[int], *, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pooled mean of per-step curves given per stratum as mean, std (ddof 0) and count, with a
    normal-approximation interval of the mean (for plot bands; curves of unequal length are padded
    with their last count's zeros, i.e. treated as ended)."""
    length = max(len(m) for m in means)
    total = np.zeros(length)
    squares = np.zeros(length)
    n = float(sum(counts))
    for mean, std, count in zip(means, stds, counts, strict=True):
        mean, std = np.asarray(mean, dtype=np.float64), np.asarray(std, dtype=np.float64)
        total[: len(mean)] += mean * count
        squares[: len(mean)] += (std**2 + mean**2) * count
    pooled = total / n
    variance = np.maximum(squares / n - pooled**2, 0.0)
    half = sps.norm.ppf(0.5 + level / 2) * np.sqrt(variance / max(n - 1.0, 1.0))
    return pooled, pooled - half, pooled + half
