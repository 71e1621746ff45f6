"""The recommender that Elicitation scores answers with: a protocol, and a default one.

The default is matrix-factorisation fold-in: item factors and biases are fitted by ALS on the
training users' observed ratings only (never on the simulator's truth), and a new user's vector is
the posterior mean given their answers under an empirical-Bayes prior — the mean and covariance of
the training users' fitted vectors (bias and factors apart) and the variance of the training
residuals — for a whole batch of users at once. With no answer it predicts the average training
user; each answer moves the prediction as far as the prior says one rating should. A zero-mean
ridge instead pulls a new user toward "no bias, no taste", so its first answers can make the
prediction worse; the posterior mean cannot, in expectation, in a world drawn from its own prior
(tested in ``tests/numerics/test_factorization.py``).

Recommenders return predicted ratings: Elicitation's ``"mae"`` reward compares them with the truth,
its ``"ndcg"`` reward ranks by them.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Protocol

import numpy as np

from recworld.numerics.factorization import UserPrior, fit_als_on, fold_in

if TYPE_CHECKING:
    from recworld.envs.world import World


class Recommender(Protocol):
    """Scores every item for each user from the answers so far (padded arrays, ``(B, n)``)."""

    def scores(
        self, user_features: np.ndarray, items: np.ndarray, ratings: np.ndarray, answered: np.ndarray
    ) -> np.ndarray:
        """``(B, n_items)`` predicted ratings (higher is recommended first). ``answered`` masks the real
        answers."""
        ...


class FoldInRecommender:
    """MF fold-in with an empirical-Bayes prior (see the module docstring): the posterior mean of a new
    user's vector ``[b_u, p_u]`` given their answers, the item side fixed."""

    def __init__(self, mu: float, item_bias: np.ndarray, item_factors: np.ndarray, prior: UserPrior) -> None:
        self.mu, self.item_bias, self.item_factors, self.prior = mu, item_bias, item_factors, prior
        self.design = np.column_stack([np.ones(len(item_bias)), item_factors])  # (n_items, 1 + rank)
        self.offset = mu + item_bias  # what every score adds to the fold-in's prediction

    @classmethod
    def fit(cls, world: World, *, rank: int = 20, reg: float = 0.1, seed: int = 0) -> FoldInRecommender:
        """Fit item factors by ALS on the training users' ratings, and the prior on their vectors."""
        train = world.train_data
        model = fit_als_on(train, rank=rank, reg=reg, rng=np.random.default_rng(seed))
        prior = UserPrior.fit(model, train.user.astype(np.int64), train.item.astype(np.int64), train.rating)
        return cls(model.mu, model.item_bias, model.item_factors, prior)

    def scores(
        self, user_features: np.ndarray, items: np.ndarray, ratings: np.ndarray, answered: np.ndarray
    ) -> np.ndarray:
        vector = fold_in(self.design, ratings - self.mu - self.item_bias[items], items, answered, self.prior)
        scores = vector @ self.design.T
        return np.add(self.offset, scores, out=scores).astype(np.float32)


_defaults: weakref.WeakKeyDictionary[World, FoldInRecommender] = weakref.WeakKeyDictionary()


def default_recommender(world: World) -> FoldInRecommender:
    """The fold-in recommender of a world's training users, fitted once per world."""
    if world not in _defaults:
        _defaults[world] = FoldInRecommender.fit(world)
    return _defaults[world]
