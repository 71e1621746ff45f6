"""Ranking and rating metrics, vectorised over rows (users).

Rows are padded: ``valid`` (or ``candidates``) marks the entries of each row that take part, so one
call scores a whole batch of users with different numbers of items.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def dcg_discounts(k: int) -> np.ndarray:
    """DCG's discount of ranks ``0..k-1``: ``log2(rank + 2)`` (the gain at a rank is divided by it)."""
    return np.log2(np.arange(2.0, k + 2.0))


def dcg_at_k(scores: np.ndarray, gains: np.ndarray, valid: np.ndarray, k: int) -> np.ndarray:
    """DCG@k of ranking each row's ``valid`` entries by ``scores``, with ``gains``; ``(B,)``."""
    k = min(k, scores.shape[1])
    masked = np.where(valid, scores, -np.inf)
    top = np.argpartition(-masked, k - 1, axis=1)[:, :k]
    top = np.take_along_axis(top, np.argsort(-np.take_along_axis(masked, top, axis=1), axis=1), axis=1)
    ranked = np.where(np.take_along_axis(valid, top, axis=1), np.take_along_axis(gains, top, axis=1), 0.0)
    return (ranked / dcg_discounts(k)).sum(axis=1)


def ndcg_at_k(scores: np.ndarray, gains: np.ndarray, valid: np.ndarray, k: int) -> np.ndarray:
    """nDCG@k: `dcg_at_k` over the DCG of the ideal ranking (by the gains themselves); 0 where no
    valid entry has a positive gain."""
    ideal = dcg_at_k(gains, gains, valid, k)
    return np.where(ideal > 0, dcg_at_k(scores, gains, valid, k) / np.maximum(ideal, 1e-12), 0.0)


def exp_gain(ratings: np.ndarray, lowest: float) -> np.ndarray:
    """The graded relevance ``2^(r - lowest) - 1`` of a rating ``r`` (0 for the lowest level)."""
    return np.exp2(np.asarray(ratings, dtype=np.float64) - lowest) - 1.0


def masked_mae(prediction: np.ndarray, truth: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Each row's mean absolute error over its ``valid`` entries (0 for a row with none)."""
    error = np.where(valid, np.abs(prediction - truth), 0.0)
    return error.sum(axis=1) / np.maximum(valid.sum(axis=1), 1)


def rmse(prediction: np.ndarray, truth: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(prediction) - np.asarray(truth)) ** 2)))


@njit(cache=True)
def select_top(values: np.ndarray, allowed: np.ndarray, out: np.ndarray) -> None:
    """The ``len(out)`` allowed entries of ``values`` with the highest values, best first, into ``out``
    (``-1`` past the allowed ones): one pass, each entry inserted into a sorted short list (written
    out here: a call per entry would cost more than the pass)."""
    m = len(out)
    best = np.full(m, -np.inf)
    out[:] = -1
    full, threshold = False, -np.inf  # (the list's last entry, kept where the compiler can hold it)
    for i in range(len(values)):
        value = values[i]
        if (full and value <= threshold) or not allowed[i]:
            continue
        j = m - 1
        while j > 0 and (out[j - 1] < 0 or best[j - 1] < value):
            best[j] = best[j - 1]
            out[j] = out[j - 1]
            j -= 1
        best[j] = value
        out[j] = i
        full, threshold = out[m - 1] >= 0, best[m - 1]
