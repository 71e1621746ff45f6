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

from recworld.numerics.metrics import select_top


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


@njit(cache=True)
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
    """Add every ``(design[items[r, j]], targets[r, j])`` to row ``users[r]``. If ``variances`` is not
    empty it holds each row's ``x_i^T inverse x_i`` for every item ``i`` (``design_t``: the design
    transposed, float32 like ``variances``), kept up to date in ``O(n D)`` per observation instead of
    ``O(n D^2)``."""
    n_items = design.shape[0]
    projection = np.empty(n_items, dtype=variances.dtype)
    for r in range(len(users)):
        b = users[r]
        for j in range(items.shape[1]):
            direction, denominator = add_observation(inverse, moment, b, design[items[r, j]], targets[r, j])
            if variances.shape[0] == 0:
                continue
            projection[:] = 0.0
            scale = np.float32(1.0 / denominator)
            for k in range(len(direction)):
                weight = np.float32(direction[k])
                for i in range(n_items):
                    projection[i] += weight * design_t[k, i]
            for i in range(n_items):
                variances[b, i] = max(variances[b, i] - projection[i] * projection[i] * scale, 0.0)


@njit(cache=True)
def upper_bounds(
    inverse: np.ndarray,
    moment: np.ndarray,
    design_t: np.ndarray,
    offset: np.ndarray,
    variances: np.ndarray,
    width: float,
    allowed: np.ndarray,
    out: np.ndarray,
) -> None:
    """Each row's ``k = out.shape[1]`` allowed items with the highest ``offset_i + x_i . mean +
    width * sqrt(variance_i)`` (LinUCB's upper confidence bounds), best first, into ``out``; one pass
    over the items per factor, float32 like ``design_t``."""
    d, n_items = design_t.shape
    scores = np.empty(n_items, dtype=design_t.dtype)
    for b in range(inverse.shape[0]):
        mean = inverse[b] @ moment[b]
        for i in range(n_items):
            scores[i] = offset[i] + width * np.sqrt(variances[b, i])
        for k in range(d):
            weight = design_t.dtype.type(mean[k])
            for i in range(n_items):
                scores[i] += weight * design_t[k, i]
        select_top(scores, allowed[b], out[b])
