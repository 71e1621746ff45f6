"""Off-policy estimators for position-based logged bandit feedback, with bootstrap intervals.

Each logged round ``i`` has an item ``a_i`` shown at position ``k_i``, a reward ``r_i`` and the
logging policy's probability ``pi_0(a_i | x_i, k_i)`` (the propensity). The policy to evaluate is
given as ``action_dist[i, a, k] = pi_e(a | x_i, k)``, and the model-based estimators take a reward
model ``q_hat[i, a, k]`` (an estimate of the expected reward of ``a`` at ``k`` in round ``i``). With
the importance weight ``w_i = pi_e(a_i | x_i, k_i) / pi_0(a_i | x_i, k_i)``:

* IPW — ``mean(w_i r_i)`` (Horvitz–Thompson; unbiased when the propensities are right);
* SNIPW — ``sum(w_i r_i) / sum(w_i)`` (self-normalised: bounded, slightly biased, lower variance);
* DM — ``mean(sum_a pi_e(a | x_i, k_i) q_hat[i, a, k_i])`` (the reward model's verdict alone);
* DR — DM plus ``mean(w_i (r_i - q_hat[i, a_i, k_i]))`` (doubly robust: unbiased if either the
  propensities or the reward model are right).

These are obp's definitions (Saito et al., 2021), and the tests check them against obp on the Open
Bandit Dataset. Intervals are percentile bootstraps over rounds; for SNIPW each replicate
renormalises its own weights (the ratio is bootstrapped, not its per-round terms).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recworld.numerics.statistics import percentile_interval

ESTIMATORS = ("ipw", "snipw", "dm", "dr")


@dataclass(frozen=True)
class LoggedRounds:
    """The parts of a log that an estimator reads (``(n,)`` arrays; ``position`` 0-based)."""

    action: np.ndarray
    position: np.ndarray
    reward: np.ndarray
    pscore: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.action)
        for name in ("position", "reward", "pscore"):
            if len(getattr(self, name)) != n:
                raise ValueError(
                    f"LoggedRounds: {name} has {len(getattr(self, name))} rounds, action has {n}"
                )
        if n == 0:
            raise ValueError("LoggedRounds: no rounds to estimate from")
        bad = np.flatnonzero(~(np.asarray(self.pscore) > 0))
        if len(bad):
            raise ValueError(
                f"LoggedRounds: every propensity must be > 0; round {bad[0]} has "
                f"{self.pscore[bad[0]]!r} (a logged action had probability 0?)"
            )
        for name in ("action", "position"):
            values = np.asarray(getattr(self, name))
            if values.min() < 0:
                raise ValueError(f"LoggedRounds: {name} {values.min()} is negative (indices start at 0)")


def _check(rounds: LoggedRounds, array: np.ndarray, name: str) -> np.ndarray:
    array = np.asarray(array, dtype=np.float64)
    if array.ndim != 3 or len(array) != len(rounds.action):
        raise ValueError(
            f"{name} must be (n_rounds, n_items, n_positions) with n_rounds={len(rounds.action)}, "
            f"got {array.shape}"
        )
    if rounds.action.max() >= array.shape[1] or rounds.position.max() >= array.shape[2]:
        raise ValueError(
            f"{name} has {array.shape[1]} items and {array.shape[2]} positions; the log has item "
            f"{rounds.action.max()} and position {rounds.position.max()} (0-based)"
        )
    return array


def importance_weights(rounds: LoggedRounds, action_dist: np.ndarray) -> np.ndarray:
    """``w_i = pi_e(a_i | x_i, k_i) / pi_0(a_i | x_i, k_i)``."""
    dist = _check(rounds, action_dist, "action_dist")
    rows = np.arange(len(rounds.action))
    return dist[rows, rounds.action, rounds.position] / rounds.pscore


def round_terms(
    name: str, rounds: LoggedRounds, action_dist: np.ndarray, q_hat: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per-round numerator and denominator terms of estimator ``name``: its estimate is
    ``sum(numerator) / sum(denominator)`` (the denominator is 1 per round except for SNIPW)."""
    if name not in ESTIMATORS:
        raise ValueError(f"unknown estimator {name!r}; the estimators: {', '.join(ESTIMATORS)}")
    n = len(rounds.action)
    ones = np.ones(n)
    reward = np.asarray(rounds.reward, dtype=np.float64)
    if name in ("ipw", "snipw"):
        weights = importance_weights(rounds, action_dist)
        return weights * reward, (weights if name == "snipw" else ones)
    if q_hat is None:
        raise ValueError(f"estimator {name!r} needs a reward model (q_hat)")
    dist = _check(rounds, action_dist, "action_dist")
    model = _check(rounds, q_hat, "q_hat")
    rows = np.arange(n)
    direct = np.einsum("ia,ia->i", dist[rows, :, rounds.position], model[rows, :, rounds.position])
    if name == "dm":
        return direct, ones
    weights = importance_weights(rounds, dist)
    return direct + weights * (reward - model[rows, rounds.action, rounds.position]), ones


def estimate(
    name: str,
    rounds: LoggedRounds,
    action_dist: np.ndarray,
    q_hat: np.ndarray | None = None,
    *,
    n_boot: int = 2000,
    level: float = 0.95,
    rng: np.random.Generator | None = None,
) -> dict[str, float]:
    """``{"estimate", "ci_low", "ci_high"}``: the estimate and its percentile bootstrap interval over
    rounds (``n_boot`` replicates from ``rng``, default seeded 0)."""
    numerator, denominator = round_terms(name, rounds, action_dist, q_hat)
    return bootstrap_ratio(numerator, denominator, n_boot=n_boot, level=level, rng=rng)


def bootstrap_ratio(
    numerator: np.ndarray,
    denominator: np.ndarray | None = None,
    *,
    n_boot: int = 2000,
    level: float = 0.95,
    rng: np.random.Generator | None = None,
) -> dict[str, float]:
    """``sum(numerator) / sum(denominator)`` (a mean when ``denominator`` is None) with a percentile
    bootstrap interval over rounds."""
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = (
        np.ones_like(numerator) if denominator is None else np.asarray(denominator, dtype=np.float64)
    )
    rng = np.random.default_rng(0) if rng is None else rng
    n = len(numerator)
    sums, totals = np.empty(n_boot), np.empty(n_boot)
    step = max(1, 2_000_000 // n)  # replicates per chunk: the index draws stay small in memory
    for start in range(0, n_boot, step):
        draws = rng.integers(0, n, size=(min(step, n_boot - start), n))
        sums[start : start + len(draws)] = numerator[draws].sum(axis=1)
        totals[start : start + len(draws)] = denominator[draws].sum(axis=1)
    # a replicate whose weights are all zero (SNIPW on a tiny log) has no ratio: it is left out
    low, high = percentile_interval(sums[totals != 0] / totals[totals != 0], level)
    return {
        "estimate": float(numerator.sum() / denominator.sum()),
        "ci_low": float(low),
        "ci_high": float(high),
    }


def item_position_model(
    rounds: LoggedRounds,
    n_items: int,
    n_positions: int,
    *,
    n_folds: int = 3,
    prior: float = 20.0,
    seed: int = 0,
) -> np.ndarray:
    """A cross-fitted reward model ``q_hat[i, a, k]``: the click rate of item ``a`` at position ``k``
    in the other folds' rounds, shrunk toward that position's rate with ``prior`` pseudo-rounds
    (context-free; ``n_folds`` folds of rounds drawn with ``seed``, as obp's cross-fitting)."""
    n = len(rounds.action)
    fold = np.random.default_rng(seed).permutation(n) % n_folds
    cells = rounds.action * n_positions + rounds.position
    q_hat = np.empty((n, n_items, n_positions))
    for f in range(n_folds):
        train = fold != f
        shown = np.bincount(cells[train], minlength=n_items * n_positions).reshape(n_items, n_positions)
        clicks = np.bincount(cells[train], weights=rounds.reward[train], minlength=n_items * n_positions)
        clicks = clicks.reshape(n_items, n_positions)
        base = clicks.sum(axis=0) / np.maximum(shown.sum(axis=0), 1)
        q_hat[fold == f] = (clicks + prior * base) / (shown + prior)
    return q_hat
