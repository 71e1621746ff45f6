"""Item-based k-nearest neighbours with baselines (Koren 2010, "KNNBaseline").

``r_ui ~ b_ui + sum_{j in N_k(i; u)} s_ij (r_uj - b_uj) / sum |s_ij|`` with ``b_ui = mu + b_u + b_i``
and ``s_ij`` the shrunk Pearson-baseline correlation between items ``i`` and ``j`` over the users who
rated both. Its inductive bias differs from a low-rank model: a user's taste is read off the
neighbours of an item among the films they rated, not off a global factor space — so an agent
tuned on the latent-factor world can be tested on a world it was not tuned on.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

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
        rated = self.residuals.indices[start:end]
        if not len(rated):
            return np.zeros(len(self.similarity) if items is None else len(items), dtype=np.float32)
        # (n_items asked, n_rated), gathered in one step (never a copy of the asked rows first)
        if items is None:
            sims = np.take(self.similarity, rated, axis=1)
        else:
            sims = self.similarity[np.ix_(items, rated)]
        resid = self.residuals.data[start:end].astype(np.float32)
        if len(rated) > self.k:
            top = np.argpartition(-sims, self.k - 1, axis=1)[:, : self.k]
            sims, resid = np.take_along_axis(sims, top, axis=1), resid[top]
        weight = np.abs(sims).sum(axis=1)
        return np.where(weight > 0, (sims * resid).sum(axis=1) / np.maximum(weight, 1e-9), 0.0)

    def predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        predictions = self.baseline.predict(users, items)
        order = np.argsort(users, kind="stable")
        bounds = np.flatnonzero(np.diff(users[order])) + 1
        for group in np.split(order, bounds):  # one batched top-k per user (fit time only)
            if len(group):
                predictions[group] += self._neighbour_term(int(users[group[0]]), items[group])
        return predictions

    def table(self) -> np.ndarray:
        table = self.baseline.table()
        for u in range(table.shape[0]):
            table[u] += self._neighbour_term(u, None)
        return table


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
    """Fit baselines and the shrunk Pearson-baseline item similarities."""
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
    return NeighbourModel(baseline, z, similarity.astype(np.float32, order="C"), k)  # rows gathered fast
