"""Item-based k-nearest neighbours with baselines (Koren 2010, "KNNBaseline").

``r_ui ~ b_ui + sum_{j in N_k(i; u)} s_ij (r_uj - b_uj) / sum |s_ij|`` with ``b_ui = mu + b_u + b_i``
and ``s_ij`` the shrunk Pearson-baseline correlation between items ``i`` and ``j`` over the users who
rated both. Its inductive bias differs from a low-rank model: a user's taste is read off the
neighbours of an item among the films they rated, not off a global factor space — so an agent
tuned on the latent-factor world can be tested on a world it was not tuned on.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import scipy.sparse as sp
from numba import njit, prange

from recworld.numerics.factorization import FactorModel, fit_als


class NeighbourModel:
    """Item-kNN with baselines; predictions are computed on demand (pairs) or for the whole table."""

    def __init__(
        self, baseline: FactorModel, residuals: sp.csr_matrix, similarity: np.ndarray, k: int
    ) -> None:
        self.baseline, self.residuals, self.similarity, self.k = baseline, residuals, similarity, k

    def _neighbour_term(self, user: int, items: np.ndarray | None) -> np.ndarray:
        """The user's neighbour term at ``items`` (``None``: every item)."""
        start, end = self.residuals.indptr[user], self.residuals.indptr[user + 1]
        rated = self.residuals.indices[start:end].astype(np.int64)
        asked = np.arange(len(self.similarity)) if items is None else np.asarray(items, dtype=np.int64)
        resid = self.residuals.data[start:end].astype(np.float32)
        return _neighbour_terms(self.similarity, rated, resid, asked, self.k)

    def predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        predictions = self.baseline.predict(users, items)
        order = np.argsort(users, kind="stable")
        bounds = np.flatnonzero(np.diff(users[order])) + 1
        for group in np.split(order, bounds):  # one call per user (fit time only)
            if len(group):
                predictions[group] += self._neighbour_term(int(users[group[0]]), items[group])
        return predictions

    def table(self) -> np.ndarray:
        table = self.baseline.table()
        z = self.residuals
        _add_neighbour_terms(
            table,
            self.similarity,
            z.indptr.astype(np.int64),
            z.indices.astype(np.int64),
            z.data.astype(np.float32),
            self.k,
        )
        return table


@njit(cache=True)
def _neighbour_terms(
    similarity: np.ndarray, rated: np.ndarray, resid: np.ndarray, items: np.ndarray, k: int
) -> np.ndarray:
    """For each item, the similarity-weighted mean residual over its ``k`` most similar rated items
    (all of them when fewer): one pass over the rated items per asked item, keeping a sorted short
    list. Equal similarities at the k-th place may be chosen in another order than a partition's; the
    term changes only if their residuals differ (zero similarities weigh nothing either way)."""
    out = np.zeros(len(items))
    m = min(k, len(rated))
    if m == 0:
        return out
    best = np.empty(m, dtype=similarity.dtype)
    chosen = np.empty(m, dtype=np.int64)
    for a in range(len(items)):
        row = similarity[items[a]]
        filled = 0
        for r in range(len(rated)):
            value = row[rated[r]]
            if filled == m and value <= best[m - 1]:
                continue
            j = filled if filled < m else m - 1
            while j > 0 and best[j - 1] < value:
                best[j] = best[j - 1]
                chosen[j] = chosen[j - 1]
                j -= 1
            best[j] = value
            chosen[j] = r
            filled = min(filled + 1, m)
        weight, total = 0.0, 0.0
        for j in range(filled):
            weight += abs(best[j])
            total += best[j] * resid[chosen[j]]
        out[a] = total / max(weight, 1e-9) if weight > 0 else 0.0
    return out


@njit(cache=True, parallel=True)
def _add_neighbour_terms(
    table: np.ndarray,
    similarity: np.ndarray,
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    k: int,
) -> None:
    """Every user's neighbour terms added to their row of ``table``, users in parallel (each row is
    one user's alone, so the result does not depend on the threads)."""
    everything = np.arange(table.shape[1])
    for u in prange(table.shape[0]):
        start, end = indptr[u], indptr[u + 1]
        if end > start:
            table[u] += _neighbour_terms(similarity, indices[start:end], data[start:end], everything, k)


def fit_item_knn(
    users: np.ndarray,
    items: np.ndarray,
    ratings: np.ndarray,
    n_users: int,
    n_items: int,
    *,
    k: int,
    shrinkage: float = 100.0,
    baseline_reg: float = 0.05,
    rng: np.random.Generator,
) -> NeighbourModel:
    """Fit baselines and the shrunk Pearson-baseline item similarities (computed once for a grid that
    varies ``k`` only: the last ones are kept, keyed by the data and the other parameters)."""
    key = (
        hashlib.sha256(
            b"".join(np.ascontiguousarray(a).tobytes() for a in (users, items, ratings))
        ).hexdigest(),
        n_users,
        n_items,
        shrinkage,
        baseline_reg,
    )
    if _last_similarity.get("key") != key:
        _last_similarity.clear()
        _last_similarity.update(
            key=key,
            fitted=_similarities(users, items, ratings, n_users, n_items, shrinkage, baseline_reg, rng),
        )
    baseline, z, similarity = _last_similarity["fitted"]
    return NeighbourModel(baseline, z, similarity, k)


_last_similarity: dict[str, Any] = {}


def _similarities(
    users: np.ndarray,
    items: np.ndarray,
    ratings: np.ndarray,
    n_users: int,
    n_items: int,
    shrinkage: float,
    baseline_reg: float,
    rng: np.random.Generator,
) -> tuple[FactorModel, sp.csr_matrix, np.ndarray]:
    """The baselines (no factors: ``rng`` draws nothing), the residuals and the similarities."""
    baseline = fit_als(users, items, ratings, n_users, n_items, rank=0, reg=baseline_reg, n_iter=5, rng=rng)
    residual = ratings - baseline.predict(users, items)
    z = sp.csr_matrix((residual, (users, items)), shape=(n_users, n_items))
    mask = sp.csr_matrix((np.ones(len(users)), (users, items)), shape=(n_users, n_items))
    numerator = (z.T @ z).toarray()
    common = (mask.T @ mask).toarray()
    spread = (z.multiply(z).T @ mask).toarray()  # spread[i, j]: sum of z_ui^2 over users who rated i and j
    denominator = np.sqrt(spread * spread.T)
    similarity = np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator > 0)
    similarity *= (common - 1).clip(min=0) / ((common - 1).clip(min=0) + shrinkage)
    np.fill_diagonal(similarity, 0.0)
    return baseline, z, similarity.astype(np.float32, order="C")  # rows gathered fast
