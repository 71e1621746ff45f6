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
from functools import cached_property
from typing import Protocol

import numpy as np
import scipy.sparse as sp


class Ratings(Protocol):
    """What `fit_als_on` reads of a ratings table (`recworld.data.RatingData` has it)."""

    @property
    def user(self) -> np.ndarray: ...

    @property
    def item(self) -> np.ndarray: ...

    @property
    def rating(self) -> np.ndarray: ...

    @property
    def n_users(self) -> int: ...

    @property
    def n_items(self) -> int: ...


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
    design: np.ndarray,
    targets: np.ndarray,
    items: np.ndarray,
    answered: np.ndarray,
    prior: float | UserPrior,
) -> np.ndarray:
    """Each row's vector from its answered ``targets`` on ``design[items]`` with the item side fixed,
    ``(B, D)`` from padded ``(B, n)`` inputs: a new user's vector from a few ratings.

    ``prior`` is either a ridge penalty (a prior centred on zero, the same in every direction) or a
    `UserPrior`, whose posterior mean this is."""
    weight = answered.astype(np.float64)
    x = design[items] * weight[..., None]
    normal = np.einsum("bnd,bne->bde", x, x)
    rhs = np.einsum("bnd,bn->bd", x, targets * weight)
    if isinstance(prior, UserPrior):
        normal += prior.precision
        rhs += prior.precision @ prior.mean
    else:
        normal += prior * np.eye(design.shape[1])
    return np.linalg.solve(normal, rhs[..., None])[..., 0]


@dataclass(frozen=True)
class UserPrior:
    """An empirical-Bayes Gaussian prior over a user's vector ``x_u = [b_u, p_u]`` given the item side.

    ``mean`` and the covariance are those of the training users' fitted vectors, the bias and the
    factors apart (no cross-covariance), and ``noise`` is the variance of the training residuals.
    Fold-in with it (`fold_in`) is the posterior mean of a Bayesian linear model; in a world whose
    users are drawn from the prior and whose ratings add that noise, every extra answer lowers the
    expected error of the prediction, which a zero-mean isotropic ridge does not promise.
    ``precision`` is ``noise * covariance^-1``, the penalty matrix that stands for the prior.
    """

    mean: np.ndarray
    covariance: np.ndarray
    noise: float

    @cached_property
    def precision(self) -> np.ndarray:
        return self.noise * np.linalg.inv(self.covariance)

    @classmethod
    def fit(cls, model: FactorModel, users: np.ndarray, items: np.ndarray, ratings: np.ndarray) -> UserPrior:
        """The prior of the users who rated in ``(users, items, ratings)`` (the ratings ``model`` was
        fitted on)."""
        rated = np.unique(users)
        vectors = np.column_stack([model.user_bias, model.user_factors])[rated]
        covariance = np.zeros((vectors.shape[1],) * 2)
        covariance[0, 0] = vectors[:, 0].var()
        covariance[1:, 1:] = np.atleast_2d(np.cov(vectors[:, 1:], rowvar=False))
        covariance += 1e-6 * np.eye(len(covariance))  # a factor no user uses stays invertible
        residual = ratings - model.predict(users, items)
        return cls(vectors.mean(axis=0), covariance, float(np.mean(residual**2)))

    def predictive_variance(self, design: np.ndarray, items: np.ndarray, answered: np.ndarray) -> np.ndarray:
        """Posterior variance of each row's score for every item of ``design`` after the answers,
        ``(B, n_items)`` (noise excluded)."""
        weight = answered.astype(np.float64)
        x = design[items] * weight[..., None]
        normal = np.einsum("bnd,bne->bde", x, x) + self.precision
        covariance = self.noise * np.linalg.inv(normal)
        return np.einsum("id,bde,ie->bi", design, covariance, design)


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
    data: Ratings,
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


def item_means(items: np.ndarray, ratings: np.ndarray, n_items: int, prior_count: float = 5.0) -> np.ndarray:
    """Each item's mean rating shrunk toward the global mean by ``prior_count`` pseudo-ratings (an item
    nobody rated gets the global mean): the non-personal baseline predictor."""
    ratings = np.asarray(ratings, dtype=np.float64)
    mean = float(ratings.mean())
    sums = np.bincount(items, weights=ratings, minlength=n_items)
    counts = np.bincount(items, minlength=n_items)
    return (sums + prior_count * mean) / (counts + prior_count)
