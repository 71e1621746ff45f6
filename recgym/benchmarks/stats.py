"""Statistics across seeds and users, with numpy and scipy only (the rliable paper's advice).

Data come as *strata*: one array per seed, holding one value per test user. Every estimate is
computed on all values pooled; its 95% confidence interval is a percentile interval of the
**stratified bootstrap**: each replicate resamples users with replacement *within* each seed and
keeps every seed, so the seed-to-seed variation is kept as it is (Agarwal et al., 2021, "Deep RL at
the edge of the statistical precipice"). Resamples come from ``numpy.random.default_rng(seed)``:
the same data and seed give the same interval, bit for bit.

- `iqm`: the interquartile mean, the mean of the middle 50% (``scipy.stats.trim_mean(x, 0.25)``),
  robust to outlying users and still efficient;
- `probability_of_improvement`: P(X > Y) for a random user of agent X and one of agent Y under the
  same seed (ties count one half; the Mann-Whitney U statistic over ``n·m``), averaged over seeds.
  Identical samples give exactly 0.5.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy import stats as sps

Statistic = Callable[[np.ndarray], np.ndarray]  # (R, N) -> (R,), along axis 1


def iqm(values: np.ndarray | Sequence[float], axis: int | None = None) -> Any:
    """Interquartile mean: the mean of the values between the 25th and the 75th percentile
    (25% cut from each end, as ``scipy.stats.trim_mean``)."""
    return sps.trim_mean(np.asarray(values, dtype=np.float64), 0.25, axis=axis)


def _mean(x: np.ndarray) -> np.ndarray:
    return x.mean(axis=1)


def _iqm(x: np.ndarray) -> np.ndarray:
    return np.asarray(iqm(x, axis=1))


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


def bootstrap_replicates(
    strata: Sequence[np.ndarray], statistics: Sequence[Statistic], *, n_boot: int = 2000, seed: int = 0
) -> list[np.ndarray]:
    """``n_boot`` stratified-bootstrap replicates of each statistic, ``[(n_boot,), ...]``."""
    if not strata:
        raise ValueError("no data to bootstrap: every stratum is empty")
    rng = np.random.default_rng(seed)
    resampled = np.concatenate([s[rng.integers(0, len(s), size=(n_boot, len(s)))] for s in strata], axis=1)
    return [np.asarray(statistic(resampled), dtype=np.float64) for statistic in statistics]


def stratified_bootstrap_ci(
    strata: Sequence[np.ndarray | Sequence[float]],
    statistic: str | Statistic = "mean",
    *,
    n_boot: int = 2000,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float]:
    """The percentile interval of a statistic (``"mean"``, ``"iqm"`` or a function of an ``(R, N)``
    array along axis 1) under the stratified bootstrap."""
    function = STATISTICS[statistic] if isinstance(statistic, str) else statistic
    (replicates,) = bootstrap_replicates(clean_strata(strata), [function], n_boot=n_boot, seed=seed)
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(replicates, [tail, 100 - tail])
    return float(low), float(high)


def summarize(
    strata: Sequence[np.ndarray | Sequence[float]], *, n_boot: int = 2000, seed: int = 0, level: float = 0.95
) -> dict[str, float | int | None]:
    """Mean and IQM of the pooled values with stratified-bootstrap intervals (the same resamples
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


def _u_fraction(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """P(X > Y) + P(X = Y) / 2 along the last axis, from ranks: ``(U_x) / (n m)``; ``x`` ``(..., n)``,
    ``y`` ``(..., m)``."""
    n, m = x.shape[-1], y.shape[-1]
    ranks = sps.rankdata(np.concatenate([x, y], axis=-1), axis=-1)
    u = ranks[..., :n].sum(axis=-1) - n * (n + 1) / 2
    return np.asarray(u / (n * m), dtype=np.float64)


def probability_of_improvement(
    x_strata: Sequence[np.ndarray | Sequence[float]], y_strata: Sequence[np.ndarray | Sequence[float]]
) -> float:
    """P(X > Y) within each stratum (seed), averaged over strata; the strata are paired by position."""
    pairs = _paired(x_strata, y_strata)
    return float(np.mean([_u_fraction(x, y) for x, y in pairs]))


def probability_of_improvement_ci(
    x_strata: Sequence[np.ndarray | Sequence[float]],
    y_strata: Sequence[np.ndarray | Sequence[float]],
    *,
    n_boot: int = 2000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, float]:
    """`probability_of_improvement` with a stratified-bootstrap percentile interval (X's and Y's
    users resampled independently within each seed)."""
    pairs = _paired(x_strata, y_strata)
    rng = np.random.default_rng(seed)
    replicates = np.zeros(n_boot)
    for x, y in pairs:
        xs = x[rng.integers(0, len(x), size=(n_boot, len(x)))]
        ys = y[rng.integers(0, len(y), size=(n_boot, len(y)))]
        replicates += _u_fraction(xs, ys)
    replicates /= len(pairs)
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(replicates, [tail, 100 - tail])
    return {
        "probability": float(np.mean([_u_fraction(x, y) for x, y in pairs])),
        "low": float(low),
        "high": float(high),
    }


def _paired(
    x_strata: Sequence[np.ndarray | Sequence[float]], y_strata: Sequence[np.ndarray | Sequence[float]]
) -> list[tuple[np.ndarray, np.ndarray]]:
    if len(x_strata) != len(y_strata):
        raise ValueError(
            f"probability of improvement needs the same strata (seeds) for both agents, got "
            f"{len(x_strata)} and {len(y_strata)}"
        )
    pairs = []
    for x, y in zip(x_strata, y_strata, strict=True):
        xa, ya = np.asarray(x, dtype=np.float64).reshape(-1), np.asarray(y, dtype=np.float64).reshape(-1)
        xa, ya = xa[~np.isnan(xa)], ya[~np.isnan(ya)]
        if len(xa) and len(ya):
            pairs.append((xa, ya))
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
