"""Biased matrix factorisation fitted by alternating least squares, vectorised over users and items.

``r_ui ~ mu + b_u + b_i + p_u . q_i``. Each half-step solves every user's (or item's) ridge problem:
the ratings are grouped by user once per fit, and compiled loops build each user's normal equations
``sum_i x_i x_i^T``, ``sum_i r_ui x_i`` over the items they rated (in float64, no per-rating outer
products materialised) and solve them by Cholesky. The penalty on a user is ``reg * n_u`` (ALS-WR,
Zhou et al. 2008), which needs no per-dataset retuning of its scale, or, with
``penalty="constant"``, ``reg`` alone (plain ridge, as the meta-model's MF baseline is tuned).

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
from numba import njit


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
    per_rating: bool = True  # the penalty is reg * n (ALS-WR), else reg

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
        pattern = _Pattern(users, items, n_users)
        normal, _ = pattern.normal_equations(design, np.zeros(len(design)), self.reg, self.per_rating)
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


PENALTIES = ("per-rating", "constant")


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
    penalty: str = "per-rating",
) -> FactorModel:
    """Alternating least squares for biased MF on explicit ratings; ``penalty``: ``"per-rating"``
    (``reg * n`` for a user or item with ``n`` ratings) or ``"constant"`` (``reg``)."""
    if penalty not in PENALTIES:
        raise ValueError(f"penalty={penalty!r} is not one of {', '.join(PENALTIES)}")
    per_rating = penalty == "per-rating"
    ratings = np.asarray(ratings, dtype=np.float64)
    mu = float(ratings.mean())
    by_user = _Pattern(users, items, n_users, ratings - mu)
    by_item = _Pattern(items, users, n_items, ratings - mu)
    p = np.zeros((n_users, rank))
    q = rng.normal(0.0, 0.1, size=(n_items, rank))
    b_user = np.zeros(n_users)
    b_item = np.zeros(n_items)
    for _ in range(n_iter):
        b_user, p = by_user.ridge(b_item, q, reg, per_rating)
        b_item, q = by_item.ridge(b_user, p, reg, per_rating)
    return FactorModel(mu, b_user, b_item, p, q, reg, per_rating)


def fit_als_on(
    data: Ratings,
    *,
    rank: int,
    reg: float,
    rng: np.random.Generator,
    targets: np.ndarray | None = None,
    n_iter: int = 15,
    penalty: str = "per-rating",
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
        n_iter=n_iter,
        rng=rng,
        penalty=penalty,
    )


class _Pattern:
    """The ratings grouped by row (users or items), built once per fit: row ``r``'s ratings are
    ``order[indptr[r]:indptr[r + 1]]``, with their columns ``cols`` and ``values`` (zero if not given)
    over the same range."""

    def __init__(self, rows: np.ndarray, cols: np.ndarray, n_rows: int, values: np.ndarray | None = None):
        self.order, self.indptr = _group_rows(np.asarray(rows, dtype=np.int64), n_rows)
        self.cols = np.asarray(cols, dtype=np.int64)[self.order]
        self.values = (
            np.zeros(len(rows)) if values is None else np.asarray(values, dtype=np.float64)[self.order]
        )
        self.counts = np.diff(self.indptr)

    def normal_equations(
        self, design: np.ndarray, offset: np.ndarray, reg: float, per_rating: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """Each row's penalised normal matrix ``X^T X + reg * max(n, 1) I`` (``reg I`` unless
        ``per_rating``) and right-hand side ``X^T y``, with ``X = design[cols]`` and targets
        ``y = values - offset[cols]``."""
        design = np.ascontiguousarray(design, dtype=np.float64)
        offset = np.asarray(offset, dtype=np.float64)
        return _normal_equations(self.indptr, self.cols, self.values, design, offset, float(reg), per_rating)

    def ridge(
        self, offset: np.ndarray, other: np.ndarray, reg: float, per_rating: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """Solve every row's ridge problem, targets ``values - offset[col]`` on design ``[1, other[col]]``
        over its observed columns; return the intercepts and the coefficients."""
        design = np.column_stack([np.ones(len(other)), other])
        normal, rhs = self.normal_equations(design, offset, reg, per_rating)
        failed = _cholesky_solve(normal, rhs)
        if failed >= 0:
            raise np.linalg.LinAlgError(
                f"row {failed}'s normal matrix is not positive definite (reg = {reg}); use reg > 0"
            )
        return rhs[:, 0], rhs[:, 1:]


#: numba's float flags for the compiled loops: reassociating their sums lets them vectorise, and
#: changes only the sums' rounding
_SUMS = {"reassoc", "contract"}


@njit(cache=True)
def _group_rows(rows: np.ndarray, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """A stable counting sort by row: the permutation that groups ``rows``, and each group's bounds."""
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    for row in rows:
        indptr[row + 1] += 1
    for row in range(n_rows):
        indptr[row + 1] += indptr[row]
    fill = indptr[:-1].copy()
    order = np.empty(len(rows), dtype=np.int64)
    for n in range(len(rows)):
        order[fill[rows[n]]] = n
        fill[rows[n]] += 1
    return order, indptr


@njit(cache=True, fastmath=_SUMS)
def _normal_equations(
    indptr: np.ndarray,
    cols: np.ndarray,
    values: np.ndarray,
    design: np.ndarray,
    offset: np.ndarray,
    reg: float,
    per_rating: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """`_Pattern.normal_equations`, one row at a time: the row's regressors are gathered transposed
    (``(width, n)``), so that every entry of ``X^T X`` is a contiguous dot product."""
    n_rows, width = len(indptr) - 1, design.shape[1]
    normal = np.zeros((n_rows, width, width))
    rhs = np.zeros((n_rows, width))
    longest = 0
    for row in range(n_rows):
        longest = max(longest, indptr[row + 1] - indptr[row])
    gathered, targets = np.empty((width, longest)), np.empty(longest)
    for row in range(n_rows):
        start, n = indptr[row], indptr[row + 1] - indptr[row]
        for m in range(n):
            col = cols[start + m]
            targets[m] = values[start + m] - offset[col]
            for k in range(width):
                gathered[k, m] = design[col, k]
        for k in range(width):
            total = 0.0
            for m in range(n):
                total += targets[m] * gathered[k, m]
            rhs[row, k] = total
            for j in range(k + 1):
                total = 0.0
                for m in range(n):
                    total += gathered[k, m] * gathered[j, m]
                normal[row, k, j] = total
                normal[row, j, k] = total
        penalty = reg * max(n, 1) if per_rating else reg
        for k in range(width):
            normal[row, k, k] += penalty
    return normal, rhs


@njit(cache=True, fastmath=_SUMS, error_model="numpy")
def _cholesky_solve(normal: np.ndarray, rhs: np.ndarray) -> int:
    """Solve ``normal[r] x = rhs[r]`` for every row in place (``rhs`` becomes ``x``; the lower triangle
    of ``normal`` its Cholesky factor). Returns the first row whose matrix is not positive definite,
    or -1."""
    width = rhs.shape[1]
    for row in range(len(rhs)):
        a, b = normal[row], rhs[row]
        for k in range(width):
            pivot = a[k, k]
            for j in range(k):
                pivot -= a[k, j] * a[k, j]
            if not pivot > 0.0:
                return row
            a[k, k] = np.sqrt(pivot)
            for i in range(k + 1, width):
                value = a[i, k]
                for j in range(k):
                    value -= a[i, j] * a[k, j]
                a[i, k] = value / a[k, k]
        for k in range(width):
            value = b[k]
            for j in range(k):
                value -= a[k, j] * b[j]
            b[k] = value / a[k, k]
        for k in range(width - 1, -1, -1):
            value = b[k]
            for j in range(k + 1, width):
                value -= a[j, k] * b[j]
            b[k] = value / a[k, k]
    return -1


def item_means(items: np.ndarray, ratings: np.ndarray, n_items: int, prior_count: float = 5.0) -> np.ndarray:
    """Each item's mean rating shrunk toward the global mean by ``prior_count`` pseudo-ratings (an item
    nobody rated gets the global mean): the non-personal baseline predictor."""
    ratings = np.asarray(ratings, dtype=np.float64)
    mean = float(ratings.mean())
    sums = np.bincount(items, weights=ratings, minlength=n_items)
    counts = np.bincount(items, minlength=n_items)
    return (sums + prior_count * mean) / (counts + prior_count)
