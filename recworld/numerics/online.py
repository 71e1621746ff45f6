"""Bayesian linear regression one observation at a time, for batches of users.

Each row ``b`` holds a Gaussian posterior over a weight vector through ``inverse[b] = (X^T X + P)^-1``
(the covariance up to the noise; ``P`` the prior's precision) and ``moment[b] = X^T y + P m``, so the
posterior mean is ``inverse[b] @ moment[b]``. An observation ``(x, y)`` is a rank-one update
(Sherman and Morrison 1950) in ``O(D^2)``: no matrix is inverted after the prior's. Used by
Elicitation's fold-in recommender (`recworld.envs.compiled`) and the linear bandits
(`recworld.agents.bandits`).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def add_observation(
    inverse: np.ndarray, moment: np.ndarray, b: int, x: np.ndarray, y: float
) -> tuple[np.ndarray, float]:
    """Add ``(x, y)`` to row ``b`` in place; return ``inverse[b] @ x`` (before the update) and
    ``1 + x^T inverse[b] x``, from which a caller updates anything quadratic in the inverse."""
    d = len(x)
    direction = inverse[b] @ x
    denominator = 1.0 + x @ direction
    for r in range(d):
        moment[b, r] += x[r] * y
        for c in range(d):
            inverse[b, r, c] -= direction[r] * direction[c] / denominator
    return direction, denominator


def add_observations(
    inverse: np.ndarray,
    moment: np.ndarray,
    users: np.ndarray,
    design: np.ndarray,
    items: np.ndarray,
    targets: np.ndarray,
    variances: np.ndarray,
    design_t: np.ndarray,
) -> None:
    """Add every ``(design[items[r, j]], targets[r, j])`` to row ``users[r]`` (distinct rows), slot by
    slot. If ``variances`` is not empty it holds each row's ``x_i^T inverse x_i`` for every item ``i``
    (``design_t``: the design transposed, float32 like ``variances``), kept up to date in ``O(n D)``
    per observation instead of ``O(n D^2)``: the projections of all rows are one matrix product."""
    for j in range(items.shape[1]):
        directions, denominators = _add_each(inverse, moment, users, design, items[:, j], targets[:, j])
        if len(variances):
            _lower_variances(variances, users, directions.astype(design_t.dtype) @ design_t, denominators)


@njit(cache=True)
def _add_each(
    inverse: np.ndarray,
    moment: np.ndarray,
    users: np.ndarray,
    design: np.ndarray,
    items: np.ndarray,
    targets: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    directions = np.empty((len(users), design.shape[1]))
    denominators = np.empty(len(users))
    for r in range(len(users)):
        direction, denominator = add_observation(inverse, moment, users[r], design[items[r]], targets[r])
        directions[r] = direction
        denominators[r] = denominator
    return directions, denominators


@njit(cache=True)
def _lower_variances(
    variances: np.ndarray, users: np.ndarray, projection: np.ndarray, denominators: np.ndarray
) -> None:
    zero = variances.dtype.type(0.0)
    for r in range(len(users)):
        b, scale = users[r], variances.dtype.type(1.0 / denominators[r])
        for i in range(variances.shape[1]):
            variances[b, i] = max(variances[b, i] - projection[r, i] * projection[r, i] * scale, zero)
