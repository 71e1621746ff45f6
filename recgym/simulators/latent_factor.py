"""Biased matrix factorisation fitted by alternating least squares, vectorised over users and items.

``r_ui ~ mu + b_u + b_i + p_u . q_i``. Each half-step solves every user's (or item's) ridge problem at
once: the normal matrices ``sum_i x_i x_i^T`` for all users come from one sparse-times-dense product
of the rating mask with the per-item outer products, then one batched solve. The penalty on a user
is ``reg * n_u`` (ALS-WR, Zhou et al. 2008), which needs no per-dataset retuning of its scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp


@dataclass(frozen=True)
class FactorModel:
    """Fitted parameters of ``mu + b_u + b_i + p_u . q_i``."""

    mu: float
    user_bias: np.ndarray
    item_bias: np.ndarray
    user_factors: np.ndarray
    item_factors: np.ndarray

    def predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        dot = np.einsum("nd,nd->n", self.user_factors[users], self.item_factors[items])
        return self.mu + self.user_bias[users] + self.item_bias[items] + dot

    def table(self) -> np.ndarray:
        """Dense ``(n_users, n_items)`` predictions."""
        return (
            self.mu
            + self.user_bias[:, None]
            + self.item_bias[None, :]
            + self.user_factors @ self.item_factors.T
        ).astype(np.float32)


def fit_als(
    users: np.ndarray,
    items: np.ndarray,
    ratings: np.ndarray,
    n_users: int,
    n_items: int,
    *,
    rank: int,
    reg: float,
    n_iter: int = 15,
    rng: np.random.Generator,
) -> FactorModel:
    """Alternating least squares for biased MF on explicit ratings."""
    ratings = np.asarray(ratings, dtype=np.float64)
    mu = float(ratings.mean())
    by_user = _Pattern(users, items, n_users, n_items)
    by_item = _Pattern(items, users, n_items, n_users)
    p = np.zeros((n_users, rank))
    q = rng.normal(0.0, 0.1, size=(n_items, rank))
    b_user = np.zeros(n_users)
    b_item = np.zeros(n_items)
    for _ in range(n_iter):
        b_user, p = by_user.ridge(ratings - mu - b_item[items], q, reg)
        b_item, q = by_item.ridge(ratings - mu - b_user[users], p, reg)
    return FactorModel(mu, b_user, b_item, p, q)


class _Pattern:
    """The sparsity pattern of the ratings seen from one side (rows: users or items), built once."""

    def __init__(self, rows: np.ndarray, cols: np.ndarray, n_rows: int, n_cols: int) -> None:
        self.order = np.lexsort((cols, rows))
        self.counts = np.bincount(rows, minlength=n_rows)
        indptr = np.concatenate([[0], np.cumsum(self.counts)])
        self.shape = (n_rows, n_cols)
        self.structure = (cols[self.order], indptr)
        self.mask = sp.csr_matrix((np.ones(len(rows)), *self.structure), shape=self.shape)

    def ridge(self, targets: np.ndarray, other: np.ndarray, reg: float) -> tuple[np.ndarray, np.ndarray]:
        """Solve every row's ridge problem on design ``[1, other_j]`` over its observed columns;
        return the intercepts and the coefficients."""
        n_rows, rank = self.shape[0], other.shape[1]
        design = np.column_stack([np.ones(len(other)), other])  # (n_cols, rank + 1)
        outer = (design[:, :, None] * design[:, None, :]).reshape(len(other), -1)
        normal = (self.mask @ outer).reshape(n_rows, rank + 1, rank + 1)
        normal += (reg * np.maximum(self.counts, 1))[:, None, None] * np.eye(rank + 1)
        weighted = sp.csr_matrix((targets[self.order], *self.structure), shape=self.shape)
        solution = np.linalg.solve(normal, (weighted @ design)[..., None])[..., 0]
        return solution[:, 0], solution[:, 1:]
