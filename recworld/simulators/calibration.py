"""Calibrating a world on the ladder of baselines (simulated method of moments).

A fitted score table is a *posterior mean*: shrunk toward the crowd, it holds less of each user's own
taste than the people it was fitted to, and training residuals mix the structure it missed with true
noise. Sampling ratings from it as it is gives a world where a matrix factorisation cannot beat the
user and item biases, while on the real data it does (`recworld.simulators.ladder`).

The calibrated world keeps the shape of the fitted table and rescales its parts:

``score_ui = m + s_item * a_i + s_user * b_u + s_taste * t_ui``, noise ``sigma_u = s_noise * sigma_hat_u``

where ``m + a_i + b_u + t_ui`` is the table split into its grand mean, item and user main effects and
the user-by-item interaction (means over the whole table), and ``sigma_hat_u`` is the per-user
residual scale (`recworld.simulators.ordinal.fit_noise`: shrunk to the population's, inflated by
the held-out/training error ratio, rounding removed). At every candidate the ordinal thresholds are
recalibrated so that ratings at the held-out pairs, which the world never saw, reproduce the real
histogram there. The four scales are chosen so that
ratings sampled from the world at the real (user, item) pairs reproduce four moments of the real
ratings' ladder: the RMSE of the global mean and the gains of item biases over it, of user biases
over those and of MF over the biases. They are solved for by Newton steps on a finite-difference Jacobian
(common random numbers keep the map smooth), a handful of ladder fits in all.

Scaling the personal part widens it by the same factor on every film, rated or not: the shape of
each user's taste (which films they prefer to which) stays the fitted one; only its strength is
set by the data, so nothing is widened where the model saw no structure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from recworld.simulators.base import sample_levels
from recworld.simulators.ladder import Split, fit_ladder
from recworld.simulators.ordinal import MIN_NOISE, calibrate_thresholds, level_probabilities

CALIBRATION_RUNGS = ("global_mean", "item_bias", "user_item_bias", "mf")
#: where the search starts (item, user, taste, noise scales); MovieLens-100K's solution lies near it
START = np.array([1.3, 1.6, 2.5, 1.2])
STEPS = np.array([0.15, 0.2, 0.3, 0.1])  # of the finite-difference Jacobian
LOWER, UPPER = np.array([0.5, 0.5, 0.5, 0.5]), np.array([3.0, 4.0, 6.0, 3.0])
#: on the global-mean RMSE and the gains of item biases, user biases and MF
TOLERANCE = np.array([0.004, 0.004, 0.004, 0.002])
MAX_EVALUATIONS = 9


@dataclass(frozen=True)
class Decomposition:
    """A score table as grand mean + item effects + user effects + interaction."""

    grand: float
    item: np.ndarray
    user: np.ndarray
    interaction: np.ndarray

    @classmethod
    def of(cls, table: np.ndarray) -> Decomposition:
        table = np.asarray(table, dtype=np.float64)
        grand = float(table.mean())
        item = table.mean(axis=0) - grand
        user = table.mean(axis=1) - grand
        return cls(grand, item, user, table - grand - item[None, :] - user[:, None])

    def scores(self, item_scale: float, user_scale: float, taste_scale: float) -> np.ndarray:
        """The rescaled table, float32: ``m + s_item a_i + s_user b_u + s_taste t_ui``."""
        return _rescaled(
            self.grand, self.item, self.user, self.interaction, item_scale, user_scale, taste_scale
        )


@njit(cache=True)
def _rescaled(
    grand: float,
    item: np.ndarray,
    user: np.ndarray,
    interaction: np.ndarray,
    item_scale: float,
    user_scale: float,
    taste_scale: float,
) -> np.ndarray:
    """`Decomposition.scores` in one pass, without full-size float64 temporaries (the same operations
    in the same order as the broadcast expression, so the same numbers)."""
    n_users, n_items = interaction.shape
    table = np.empty((n_users, n_items), dtype=np.float32)
    row = grand + item_scale * item
    for u in range(n_users):
        shift = user_scale * user[u]
        for i in range(n_items):
            table[u, i] = (row[i] + shift) + taste_scale * interaction[u, i]
    return table


@dataclass(frozen=True)
class Calibration:
    """The chosen scales and the ladder moments behind them (real vs world, at the calibration split)."""

    item_scale: float
    user_scale: float
    taste_scale: float
    noise_scale: float
    real: dict[str, float]
    world: dict[str, float]
    evaluations: int
    converged: bool

    def to_dict(self) -> dict[str, object]:
        return {
            "item_scale": self.item_scale,
            "user_scale": self.user_scale,
            "taste_scale": self.taste_scale,
            "noise_scale": self.noise_scale,
            "ladder_real": self.real,
            "ladder_world": self.world,
            "evaluations": self.evaluations,
            "converged": self.converged,
        }


def moments(rmse: dict[str, float]) -> np.ndarray:
    """The four calibrated moments of a ladder: the global-mean RMSE and the gains of item biases,
    user biases and MF."""
    return np.array(
        [
            rmse["global_mean"],
            rmse["global_mean"] - rmse["item_bias"],
            rmse["item_bias"] - rmse["user_item_bias"],
            rmse["user_item_bias"] - rmse["mf"],
        ]
    )


def calibrate(
    decomposition: Decomposition,
    base_noise: np.ndarray,
    split: Split,
    ratings: np.ndarray,
    levels: np.ndarray,
    *,
    seed: int = 0,
) -> Calibration:
    """Choose (item, user, taste, noise) scales so that the world's ladder matches the real one."""
    users, items = split.users, split.items
    real = fit_ladder(split, ratings, rungs=CALIBRATION_RUNGS, seed=seed).rmse
    target = moments(real)
    uniforms = np.random.default_rng([seed, 3]).random(len(ratings))  # common random numbers
    evaluated: list[tuple[np.ndarray, np.ndarray, dict[str, float]]] = []

    def world_ladder(x: np.ndarray) -> np.ndarray:
        table = decomposition.scores(x[0], x[1], x[2])
        sigma = np.maximum(x[3] * base_noise, MIN_NOISE).astype(np.float32)
        scores = table[users, items]
        unseen = split.test
        thresholds = calibrate_thresholds(scores[unseen], sigma[users[unseen]], ratings[unseen], levels)
        sampled = sample_levels(level_probabilities(scores, sigma[users], thresholds), levels, uniforms)
        rmse = fit_ladder(split, sampled, rungs=CALIBRATION_RUNGS, seed=seed).rmse
        residual = moments(rmse) - target
        evaluated.append((x.copy(), residual, rmse))
        return residual

    x = START.copy()
    f = world_ladder(x)
    jacobian = np.column_stack(
        [(world_ladder(x + np.eye(len(x))[k] * STEPS[k]) - f) / STEPS[k] for k in range(len(x))]
    )
    while len(evaluated) < MAX_EVALUATIONS and np.any(np.abs(f) > TOLERANCE):
        try:
            step = np.linalg.solve(jacobian, -f)
        except np.linalg.LinAlgError:
            break
        new_x = np.clip(x + step, LOWER, UPPER)
        new_f = world_ladder(new_x)
        delta_x, delta_f = new_x - x, new_f - f
        if delta_x @ delta_x > 0:  # Broyden's update of the Jacobian
            jacobian += np.outer(delta_f - jacobian @ delta_x, delta_x) / (delta_x @ delta_x)
        x, f = new_x, new_f
    best_x, best_f, best_rmse = min(evaluated, key=lambda e: float(np.sum((e[1] / TOLERANCE) ** 2)))
    return Calibration(
        item_scale=float(best_x[0]),
        user_scale=float(best_x[1]),
        taste_scale=float(best_x[2]),
        noise_scale=float(best_x[3]),
        real=real,
        world=best_rmse,
        evaluations=len(evaluated),
        converged=bool(np.all(np.abs(best_f) <= TOLERANCE)),
    )
