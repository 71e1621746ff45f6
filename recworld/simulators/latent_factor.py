"""Biased matrix factorisation fitted by alternating least squares, vectorised over users and items.

``r_ui ~ mu + b_u + b_i + p_u . q_i``. Each half-step solves every user's (or item's) ridge problem at
once: the normal matrices ``sum_i x_i x_i^T`` for all users come from one sparse-times-dense product
of the rating mask with the per-item outer products, then one batched solve. The penalty on a user
is ``reg * n_u`` (ALS-WR, Zhou et al. 2008), which needs no per-dataset retuning of its scale.

Read as a Bayesian linear model (item side fixed), the same ridge gives each user's vector
``x_u = [b_u, p_u]`` a Gaussian posterior with covariance ``sigma_u^2 (X_u^T X_u + reg n_u I)^-1``;
`FactorModel.posterior_draw` samples it, for worlds whose users are plausible draws rather than
posterior means (`recworld.simulators.families.fit_simulator`'s ``user_spread``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from recworld.data import RatingData


@dataclass(frozen=True)
class FactorModel:
    """Fitted parameters of ``mu + b_u + b_i + p_u . q_i``."""

    mu: float
    user_bias: np.ndarray
    item_bias: np.ndarray
    user_factors: np.ndarray
    item_factors: np.ndarray
    reg: float = 0.0

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

    def item_design(self) -> np.ndarray:
        """``(n_items, 1 + rank)``: each item's regressors ``[1, q_i]`` for the user's ``[b_u, p_u]``."""
        return np.column_stack([np.ones(len(self.item_bias)), self.item_factors])

    def posterior_draw(
        self, users: np.ndarray, items: np.ndarray, noise: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """One draw of every user's deviation from the posterior mean, given the rated pairs
        ``(users, items)`` and per-user noise scales: the ``(n_users, n_items)`` score deviations
        and, per user, their mean variance over the items that user rated."""
        design = self.item_design()
        n_users, width = len(self.user_bias), design.shape[1]
        pattern = _Pattern(users, items, n_users, len(design))
        outer = (design[:, :, None] * design[:, None, :]).reshape(len(design), -1)
        normal = (pattern.mask @ outer).reshape(n_users, width, width)
        normal += (self.reg * np.maximum(pattern.counts, 1))[:, None, None] * np.eye(width)
        covariance = np.linalg.inv(normal) * (np.asarray(noise, dtype=np.float64) ** 2)[:, None, None]
        deviation = np.einsum(
            "ujk,uk->uj", np.linalg.cholesky(covariance), rng.standard_normal((n_users, width))
        )
        variance = np.einsum("nj,njk,nk->n", design[items], covariance[users], design[items])
        mean_variance = np.bincount(users, weights=variance, minlength=n_users) / np.maximum(
            pattern.counts, 1
        )
        return (deviation @ design.T).astype(np.float32), mean_variance


def fold_in(
    design: np.ndarray, targets: np.ndarray, items: np.ndarray, answered: np.ndarray, prior: float
) -> np.ndarray:
    """Each row's ridge regression of its answered ``targets`` on ``design[items]``, ``(B, D)``: a new
    user's vector from a few ratings with the item side fixed (padded ``(B, n)`` inputs)."""
    weight = answered.astype(np.float64)
    x = design[items] * weight[..., None]
    normal = np.einsum("bnd,bne->bde", x, x) + prior * np.eye(design.shape[1])
    return np.linalg.solve(normal, np.einsum("bnd,bn->bd", x, targets * weight)[..., None])[..., 0]


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
    return FactorModel(mu, b_user, b_item, p, q, reg)


def fit_als_on(
    data: RatingData,
    *,
    rank: int,
    reg: float,
    rng: np.random.Generator,
    targets: np.ndarray | None = None,
) -> FactorModel:
    """`fit_als` on a `RatingData`'s ratings, or on ``targets`` (one per rating) in their place."""
    return fit_als(
        data.user.astype(np.int64),
        data.item.astype(np.int64),
        (data.rating if targets is None else targets).astype(np.float64),
        data.n_users,
        data.n_items,
        rank=rank,
        reg=reg,
        rng=rng,
    )


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
