"""The recommender that Elicitation scores answers with: a protocol, and a default one.

The default is matrix-factorisation fold-in: item factors and biases are fitted by ALS on the
training users' observed ratings only (never on the simulator's truth), and a new user's vector is
fitted to their answers by ridge regression, for a whole batch of users at once.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Protocol

import numpy as np

from recworld.data import support_query
from recworld.simulators.latent_factor import fit_als_on, fold_in

if TYPE_CHECKING:
    from recworld.envs.world import World


class Recommender(Protocol):
    """Scores every item for each user from the answers so far (padded arrays, ``(B, n)``)."""

    def scores(
        self, user_features: np.ndarray, items: np.ndarray, ratings: np.ndarray, answered: np.ndarray
    ) -> np.ndarray:
        """``(B, n_items)`` scores; higher is recommended first. ``answered`` masks the real answers."""
        ...


class FoldInRecommender:
    """MF fold-in (see the module docstring); ``prior`` is the ridge penalty of the user's vector."""

    def __init__(
        self, mu: float, item_bias: np.ndarray, item_factors: np.ndarray, prior: float = 2.0
    ) -> None:
        self.mu, self.item_bias, self.item_factors, self.prior = mu, item_bias, item_factors, prior
        self.design = np.column_stack([np.ones(len(item_bias)), item_factors])  # (n_items, 1 + rank)
        self.offset = mu + item_bias  # what every score adds to the fold-in's prediction

    @classmethod
    def fit(
        cls,
        world: World,
        *,
        rank: int = 10,
        reg: float = 0.1,
        priors: tuple[float, ...] = (1.0, 3.0, 10.0, 30.0, 100.0),
        n_answers: int = 10,
        seed: int = 0,
    ) -> FoldInRecommender:
        """Fit item factors on the training users; choose the fold-in ``prior`` on the validation
        users (fold in ``n_answers`` of each one's ratings, predict 5 others; lowest RMSE wins)."""
        model = fit_als_on(world.train_data, rank=rank, reg=reg, rng=np.random.default_rng(seed))
        candidates = [cls(model.mu, model.item_bias, model.item_factors, prior) for prior in priors]
        tasks = support_query(
            world.data, world.split.validation, k=n_answers, n_query=5, rng=np.random.default_rng(seed)
        )
        if len(tasks.users) == 0:
            return candidates[len(candidates) // 2]
        items = world.data.item[tasks.support].astype(np.int64)
        ratings = world.data.rating[tasks.support]
        query_items = world.data.item[tasks.query].astype(np.int64)
        query_ratings = world.data.rating[tasks.query]
        answered = np.ones(items.shape, dtype=bool)
        features = np.zeros((len(items), 0))

        def rmse(recommender: FoldInRecommender) -> float:
            scores = recommender.scores(features, items, ratings, answered)
            predicted = np.clip(np.take_along_axis(scores, query_items, axis=1), *world.data.rating_scale)
            return float(np.sqrt(np.mean((predicted - query_ratings) ** 2)))

        return min(candidates, key=rmse)

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
