"""Awareness: does a user know an item well enough to rate it when asked?

Real new users can only answer about films they have seen. Who rated what in the data is the
evidence: ``P(u knows i) = sigmoid(alpha_u + beta_i + gamma * z_ui)``, where ``alpha_u`` is the user's
activity, ``beta_i`` the item's popularity and ``z_ui`` the user's standardised score for the item
(people seek out what they expect to like, so ``gamma`` comes out positive on MovieLens). Fitted by
Newton steps on the full user-by-item matrix, alternating over the three parameter groups, with a
weak Gaussian prior so that items nobody rated keep a finite offset.

The odds factor, ``exp(-(alpha_u + beta_i + gamma z_ui)) = exp(-alpha_u) exp(-beta_i) exp(-gamma z_ui)``,
so each iteration takes one exponential per cell (the ``gamma`` term, shared by its three steps) and
each step one compiled pass over the matrix for the sums its update needs, in float64.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit


@dataclass(frozen=True)
class AwarenessModel:
    user: np.ndarray
    item: np.ndarray
    preference: float
    center: float
    scale: float


def fit_awareness(
    users: np.ndarray,
    items: np.ndarray,
    scores: np.ndarray,
    *,
    n_iter: int = 25,
    prior: float = 0.1,
) -> AwarenessModel:
    """Fit the logistic awareness model to the observed (user, item) pairs and a score table."""
    n_users, n_items = scores.shape
    rated = np.zeros((n_users, n_items), dtype=bool)
    rated[users, items] = True
    center, scale = float(scores.mean()), float(scores.std()) or 1.0
    z = ((scores - center) / scale).astype(np.float32).astype(np.float64)
    known_u, known_i, known_z = rated.sum(axis=1), rated.sum(axis=0), float(z[rated].sum())
    del rated
    share_u = np.clip(known_u / n_items, 1e-4, 1 - 1e-4)
    share_i = np.clip(known_i / n_users, 1e-4, 1 - 1e-4)
    alpha = np.log(share_u / (1 - share_u))
    beta = np.log(share_i / (1 - share_i)) - np.log(share_i / (1 - share_i)).mean()
    gamma = 0.0
    tilt = np.empty((n_users, n_items))
    for _ in range(n_iter):
        np.exp(np.multiply(z, -gamma, out=tilt), out=tilt)
        p_u, w_u, _, _, _, _ = _logistic_sums(np.exp(-alpha), np.exp(-beta), tilt, z)
        alpha += (known_u - p_u) / (w_u + 1e-6)
        _, _, p_i, w_i, _, _ = _logistic_sums(np.exp(-alpha), np.exp(-beta), tilt, z)
        beta += ((known_i - p_i) - prior * beta) / (w_i + prior)
        _, _, _, _, pz, wzz = _logistic_sums(np.exp(-alpha), np.exp(-beta), tilt, z)
        gamma += (known_z - pz) / (wzz + 1e-6)
    return AwarenessModel(alpha.astype(np.float32), beta.astype(np.float32), gamma, center, scale)


# Reassociating the sums (and dividing without Python's zero check) lets the loop vectorise; it changes
# only the sums' rounding.
@njit(cache=True, fastmath={"reassoc", "contract"}, error_model="numpy")
def _logistic_sums(
    user_odds: np.ndarray, item_odds: np.ndarray, tilt: np.ndarray, z: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float, float]:
    """With ``p_ui = 1 / (1 + user_odds_u item_odds_i tilt_ui)`` and ``w = p (1 - p)``: the row and
    column sums of ``p`` and ``w``, and the totals of ``p z`` and ``w z^2``."""
    n_users, n_items = tilt.shape
    p_u, w_u = np.zeros(n_users), np.zeros(n_users)
    p_i, w_i = np.zeros(n_items), np.zeros(n_items)
    pz = wzz = 0.0
    for u in range(n_users):
        row_p = row_w = 0.0
        for i in range(n_items):
            p = 1.0 / (1.0 + user_odds[u] * item_odds[i] * tilt[u, i])
            w = p * (1.0 - p)
            row_p += p
            row_w += w
            p_i[i] += p
            w_i[i] += w
            pz += p * z[u, i]
            wzz += w * z[u, i] * z[u, i]
        p_u[u], w_u[u] = row_p, row_w
    return p_u, w_u, p_i, w_i, pz, wzz
