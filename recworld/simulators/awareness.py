"""Awareness: does a user know an item well enough to rate it when asked?

Real new users can only answer about films they have seen. Who rated what in the data is the
evidence: ``P(u knows i) = sigmoid(alpha_u + beta_i + gamma * z_ui)``, where ``alpha_u`` is the user's
activity, ``beta_i`` the item's popularity and ``z_ui`` the user's standardised score for the item
(people seek out what they expect to like, so ``gamma`` comes out positive on MovieLens). Fitted by
Newton steps on the full user-by-item matrix, alternating over the three parameter groups, with a
weak Gaussian prior so that items nobody rated keep a finite offset.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit


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
    rated = np.zeros((n_users, n_items), dtype=np.float32)
    rated[users, items] = 1.0
    center, scale = float(scores.mean()), float(scores.std()) or 1.0
    z = ((scores - center) / scale).astype(np.float32)
    share_u = np.clip(rated.mean(axis=1), 1e-4, 1 - 1e-4)
    share_i = np.clip(rated.mean(axis=0), 1e-4, 1 - 1e-4)
    alpha = np.log(share_u / (1 - share_u)).astype(np.float32)
    beta = (np.log(share_i / (1 - share_i)) - np.log(share_i / (1 - share_i)).mean()).astype(np.float32)
    gamma = 0.0
    for _ in range(n_iter):
        p = expit(alpha[:, None] + beta[None, :] + gamma * z)
        w = p * (1 - p)
        alpha += (rated - p).sum(axis=1) / (w.sum(axis=1) + 1e-6)
        p = expit(alpha[:, None] + beta[None, :] + gamma * z)
        w = p * (1 - p)
        beta += ((rated - p).sum(axis=0) - prior * beta) / (w.sum(axis=0) + prior)
        p = expit(alpha[:, None] + beta[None, :] + gamma * z)
        gamma += float(((rated - p) * z).sum() / ((p * (1 - p) * z * z).sum() + 1e-6))
    return AwarenessModel(alpha, beta, gamma, center, scale)
