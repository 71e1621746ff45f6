"""Ordinal calibration: per-user noise from residuals, thresholds that reproduce the real histogram.

A model's score is continuous; people answer 1–5. The simulator turns a score into a rating with an
ordinal probit (see `recworld.simulators.tabular`). Two pieces are fitted here:

* the per-user noise scale: the user's residual variance, shrunk toward the population's (users with
  few ratings borrow strength), inflated by the ratio of held-out to training error (training
  residuals understate the noise of a fitted model), minus the 1/12 that rounding to integers adds;
* the thresholds: cut point ``theta_k`` solves ``mean_n Phi((theta_k - s_n) / sigma_n) = F_k`` over the
  observed pairs, with ``F_k`` the real share of ratings at or below level ``k`` — so ratings sampled
  at the observed pairs reproduce the real histogram.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq
from scipy.special import ndtr

MIN_NOISE = 0.25


def level_probabilities(scores: np.ndarray, sigma: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """The ordinal probit's probability of each rating level, ``scores.shape + (L,)`` float32, for
    latent ``scores`` with noise scales ``sigma`` (broadcastable to ``scores``) and ``L - 1`` cut points."""
    z = (thresholds - scores[..., None]) / sigma[..., None]
    cdf = np.zeros((*z.shape[:-1], z.shape[-1] + 2), dtype=np.result_type(z.dtype, np.float32))
    cdf[..., -1] = 1.0
    ndtr(z, out=cdf[..., 1:-1])  # the CDF at each cut point, between 0 and 1
    return np.subtract(cdf[..., 1:], cdf[..., :-1]).astype(np.float32, copy=False)


def fit_noise(
    residuals: np.ndarray,
    users: np.ndarray,
    n_users: int,
    *,
    inflation: float = 1.0,
    prior_count: float = 10.0,
    step: float = 1.0,
) -> np.ndarray:
    """Per-user noise scale from training residuals (see the module docstring)."""
    squared = np.bincount(users, weights=residuals**2, minlength=n_users)
    counts = np.bincount(users, minlength=n_users)
    overall = float(np.mean(residuals**2)) if len(residuals) else 1.0
    variance = (squared + prior_count * overall) / (counts + prior_count)
    variance = inflation * variance - step**2 / 12.0
    return np.sqrt(np.maximum(variance, MIN_NOISE**2)).astype(np.float32)


def calibrate_thresholds(
    scores: np.ndarray, sigma: np.ndarray, ratings: np.ndarray, levels: np.ndarray
) -> np.ndarray:
    """Cut points between rating levels so the mean predicted histogram equals the real one."""
    levels = np.asarray(levels, dtype=float)
    cumulative = np.array([(ratings <= level + 1e-6).mean() for level in levels[:-1]])
    cumulative = np.clip(cumulative, 1e-6, 1 - 1e-6)
    lo = float(scores.min() - 10 * sigma.max())
    hi = float(scores.max() + 10 * sigma.max())
    thresholds = np.array(
        [
            brentq(lambda t, f=f: float(ndtr((t - scores) / sigma).mean()) - f, lo, hi, xtol=1e-6)
            for f in cumulative
        ]
    )
    # Equal shares (a level nobody used) would give equal cut points; keep them strictly increasing.
    for k in range(1, len(thresholds)):
        thresholds[k] = max(thresholds[k], thresholds[k - 1] + 1e-4)
    return thresholds.astype(np.float32)
