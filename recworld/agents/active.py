"""Active learners for `recworld/Elicitation-v0`: which item to ask a new user about next.

Every learner scores the whole catalog for the whole batch of users at once and asks about the
best-scoring item it has not asked yet. Their knowledge is the training users' ratings
(``EnvContext.train_data``) and, for the adaptive ones, the user's answers so far ("don't know"
answers included: ``Responses.taken`` is False for them).

* ``entropy`` and ``log-pop-entropy`` are the static strategies of Rashid et al. (2002,
  "Getting to know you"): the entropy of an item's training ratings, and that times the log of its
  popularity (so the question is one that people can answer).
* ``uncertainty``, ``committee`` and ``expected-change`` are adaptive: they fold the answers into
  a model of the user and ask where that model would learn most. Each weights its score by the
  chance that the user knows the item (its share of training users who rated it), so that a
  question likely to get "don't know" is not wasted.
"""

from __future__ import annotations

from abc import abstractmethod

import numpy as np
import torch

from recworld.agents.base import Agent, AgentError, Responses, top_allowed
from recworld.agents.checks import check_float, check_int
from recworld.agents.meta_model import trained_meta_model
from recworld.data import RatingData
from recworld.envs.context import EnvContext
from recworld.numerics.factorization import FactorModel, fit_als_on


def rating_entropy(train: RatingData, levels: np.ndarray) -> np.ndarray:
    """Entropy (bits) of each item's training rating distribution over the rating levels; 0 if unrated."""
    level = np.abs(train.rating[:, None] - levels[None, :]).argmin(axis=1)
    n_items, n_levels = train.n_items, len(levels)
    counts = np.bincount(train.item * n_levels + level, minlength=n_items * n_levels)
    counts = counts.reshape(n_items, n_levels).astype(np.float64)
    p = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1.0)
    return -(p * np.log2(np.where(p > 0, p, 1.0))).sum(axis=1)


def knowing_probability(train: RatingData) -> np.ndarray:
    """Estimated chance that a new user knows each item: its smoothed share of training users who rated it."""
    counts = np.bincount(train.item, minlength=train.n_items).astype(np.float64)
    n_users = len(np.unique(train.user))
    return (counts + 0.5) / (n_users + 1.0)


class ActiveLearner(Agent):
    """Shared part: the answers of each user so far, ``(B, budget)`` arrays, and asking the best score."""

    supports = frozenset({"Elicitation"})
    families = frozenset({"active"})

    def prepare(self, context: EnvContext) -> None:
        budget = context.horizon
        self.asked = np.zeros((self.batch, budget), dtype=np.int64)
        self.answers = np.zeros((self.batch, budget), dtype=np.float64)
        self.known = np.zeros((self.batch, budget), dtype=bool)
        self.count = np.zeros(self.batch, dtype=np.int64)
        self.p_know = knowing_probability(context.train_data)
        self.popularity = np.bincount(context.train_data.item, minlength=context.n_items).astype(np.float64)

    def begin(self, index: np.ndarray) -> None:
        self.asked[index], self.answers[index], self.known[index], self.count[index] = 0, 0.0, False, 0

    def update(self, responses: Responses) -> None:
        users = responses.users
        slot = np.minimum(self.count[users], self.asked.shape[1] - 1)
        self.asked[users, slot] = responses.items[:, 0]
        self.answers[users, slot] = responses.ratings[:, 0]
        self.known[users, slot] = responses.taken[:, 0]
        self.count[users] += 1
        self.absorb(users)

    def absorb(self, users: np.ndarray) -> None:
        """Fold the new answers of ``users`` into the learner's model (adaptive learners)."""

    @abstractmethod
    def scores(self, observation: dict[str, np.ndarray]) -> np.ndarray:
        """``(B, n_items)`` (or broadcastable) informativeness of asking each item now."""

    def choose(self, observation: dict[str, np.ndarray], allowed: np.ndarray) -> np.ndarray:
        # A popularity tie-break keeps the order total and deterministic.
        scores = self.scores(observation) + 1e-9 * self.popularity / self.popularity.max()
        return top_allowed(np.broadcast_to(scores, allowed.shape), allowed, 1)


class EntropyAgent(ActiveLearner):
    """Ask about the item whose training ratings are most spread out (highest entropy); static."""

    name = "entropy"

    def prepare(self, context: EnvContext) -> None:
        super().prepare(context)
        self.entropy = rating_entropy(context.train_data, context.rating_levels.astype(np.float64))

    def scores(self, observation: dict[str, np.ndarray]) -> np.ndarray:
        return self.entropy


class LogPopEntropyAgent(EntropyAgent):
    """Ask about the item with the highest log(popularity) x entropy (Rashid et al. 2002); static."""

    name = "log-pop-entropy"

    def scores(self, observation: dict[str, np.ndarray]) -> np.ndarray:
        return np.log(np.maximum(self.popularity, 1.0)) * self.entropy


class FoldIn:
    """Bayesian fold-in of new users into one or more MF models, vectorised over models and users.

    For member ``m`` the user's vector ``w`` (user bias and factors) has prior ``N(0, I / prior)``;
    each known answer ``r`` on item ``i`` adds ``x_i x_i^T`` to the precision ``A`` and
    ``x_i (r - mu - b_i)`` to the right-hand side, with ``x_i = [1, q_i]``.
    """

    def __init__(self, models: list[FactorModel], batch: int, prior: float) -> None:
        self.mu = np.array([m.mu for m in models])  # (M,)
        self.bias = np.stack([m.item_bias for m in models])  # (M, n)
        self.design = np.stack(
            [np.column_stack([np.ones(len(m.item_bias)), m.item_factors]) for m in models]
        )  # (M, n, D)
        d = self.design.shape[2]
        self.prior = prior
        self.precision = np.broadcast_to(prior * np.eye(d), (len(models), batch, d, d)).copy()
        self.rhs = np.zeros((len(models), batch, d))

    def reset(self, index: np.ndarray) -> None:
        self.precision[:, index] = self.prior * np.eye(self.design.shape[2])
        self.rhs[:, index] = 0.0

    def add(self, users: np.ndarray, items: np.ndarray, ratings: np.ndarray, known: np.ndarray) -> None:
        """Fold in one answer per user (``items``, ``ratings``, ``known``: ``(n,)``)."""
        x = self.design[:, items] * known[None, :, None]  # (M, n, D)
        residual = (ratings[None, :] - self.mu[:, None] - self.bias[:, items]) * known[None, :]
        self.precision[:, users] += x[..., :, None] * x[..., None, :]
        self.rhs[:, users] += x * residual[..., None]

    def predictions(self) -> np.ndarray:
        """Posterior mean predictions of every item, ``(M, B, n)``."""
        w = np.linalg.solve(self.precision, self.rhs[..., None])[..., 0]  # (M, B, D)
        return self.mu[:, None, None] + self.bias[:, None, :] + np.einsum("mbd,mnd->mbn", w, self.design)

    def variances(self) -> np.ndarray:
        """Posterior variance (in units of the noise variance) of every item's prediction, ``(M, B, n)``."""
        covariance = np.linalg.inv(self.precision)  # (M, B, D, D)
        left = np.einsum("mnd,mbde->mbne", self.design, covariance)
        return (left * self.design[:, None]).sum(axis=-1)


class UncertaintyAgent(ActiveLearner):
    """Uncertainty sampling: ask where the agent's own MF recommender is least sure about the user.

    Item factors come from ALS on the training users; the user is folded in from the answers
    (`FoldIn`); the score is the posterior variance ``x_i^T A_u^{-1} x_i`` of the item's predicted
    rating times the chance the user knows the item.

    Parameters: ``rank`` (1..200) and ``reg`` (> 0) of the ALS fit; ``prior`` (> 0), the precision
    of the user vector's prior (the fold-in's ridge penalty).
    """

    name = "uncertainty"

    def __init__(self, seed: int = 0, rank: int = 10, reg: float = 0.1, prior: float = 2.0) -> None:
        super().__init__(seed)
        self.rank = check_int("rank", rank, 1, 200)
        self.reg = check_float("reg", reg, 0.0, open_low=True)
        self.prior = check_float("prior", prior, 0.0, open_low=True)

    def models(self, context: EnvContext) -> list[FactorModel]:
        return [
            fit_als_on(context.train_data, rank=self.rank, reg=self.reg, rng=np.random.default_rng(self.seed))
        ]

    def prepare(self, context: EnvContext) -> None:
        super().prepare(context)
        self.fold = FoldIn(self.models(context), self.batch, self.prior)

    def begin(self, index: np.ndarray) -> None:
        super().begin(index)
        self.fold.reset(index)

    def absorb(self, users: np.ndarray) -> None:
        slot = np.minimum(self.count[users], self.asked.shape[1]) - 1
        self.fold.add(
            users, self.asked[users, slot], self.answers[users, slot], self.known[users, slot].astype(float)
        )

    def scores(self, observation: dict[str, np.ndarray]) -> np.ndarray:
        return self.fold.variances()[0] * self.p_know


class CommitteeAgent(UncertaintyAgent):
    """Query by committee: MF models fitted on bootstrap resamples of the training ratings.

    Each member folds in the answers (`FoldIn`); the score is the variance of the members'
    predictions (their disagreement) times the chance the user knows the item.

    Parameters: ``members`` (2..50), and ``rank``, ``reg``, ``prior`` as for ``uncertainty``.
    """

    name = "committee"

    def __init__(
        self, seed: int = 0, members: int = 5, rank: int = 10, reg: float = 0.1, prior: float = 2.0
    ) -> None:
        super().__init__(seed, rank=rank, reg=reg, prior=prior)
        self.members = check_int("members", members, 2, 50)

    def models(self, context: EnvContext) -> list[FactorModel]:
        train = context.train_data
        rngs = np.random.default_rng(self.seed).spawn(self.members)
        resamples = [train.select(rng.integers(train.n_ratings, size=train.n_ratings)) for rng in rngs]
        return [
            fit_als_on(sample, rank=self.rank, reg=self.reg, rng=rng)
            for sample, rng in zip(resamples, rngs, strict=True)
        ]

    def scores(self, observation: dict[str, np.ndarray]) -> np.ndarray:
        return self.fold.predictions().var(axis=0) * self.p_know


class ExpectedChangeAgent(ActiveLearner):
    """Expected model change: ask the item whose answer would move the meta-learned model most.

    The model is `recworld.agents.meta_model.trained_meta_model` (meta-trained on the training users,
    seeded by ``model_seed``), adapted to each user's answers so far. Its first inner step on an answer
    ``r`` for item ``i`` moves the adapted user vector and bias by ``lr * 2 (mean_i - r) [q_i, 1]``
    (``q_i`` the item vector, ``lr`` the learned per-element rates); the score is the norm of that
    step in expectation over ``r`` (the model's predictive distribution, discretised to the rating
    levels) times the chance the user knows the item.

    Parameters: ``model_seed`` (>= 0), the seed of the meta-training (models are shared by seed).
    """

    name = "expected-change"

    def __init__(self, seed: int = 0, model_seed: int = 0) -> None:
        super().__init__(seed)
        self.model_seed = check_int("model_seed", model_seed, 0)

    def prepare(self, context: EnvContext) -> None:
        super().prepare(context)
        self.model = trained_meta_model(context, seed=self.model_seed)
        net = self.model.net
        if net.config.adapt != "user_embedding":
            raise AgentError(
                f"expected-change needs a meta model with adapt='user_embedding', got {net.config.adapt!r}"
            )
        with torch.no_grad():
            q = net.item_vectors(torch.arange(context.n_items)).double()
            rate_vec = net.inner_log_lr["user_vec"].exp().double()
            rate_bias = net.inner_log_lr["user_bias"].exp().double()
            self.step_norm = torch.sqrt(((q * rate_vec) ** 2).sum(dim=1) + rate_bias**2).numpy()
        self.levels = context.rating_levels.astype(np.float64)

    def scores(self, observation: dict[str, np.ndarray]) -> np.ndarray:
        users = self.model.adapt(
            torch.as_tensor(self.asked),
            torch.as_tensor(self.answers, dtype=torch.float32),
            torch.as_tensor(self.known),
            torch.as_tensor(np.asarray(observation["user"]), dtype=torch.float32),
        )
        mean, std = (t.double().numpy() for t in users.predict())
        # P(rating = level) under N(mean, std), each level taking the half-way points to its neighbours.
        edges = (self.levels[1:] + self.levels[:-1]) / 2
        cdf = torch.special.ndtr(torch.as_tensor((edges[None, None, :] - mean[..., None]) / std[..., None]))
        cdf = np.concatenate([np.zeros((*mean.shape, 1)), cdf.numpy(), np.ones((*mean.shape, 1))], axis=-1)
        probs = np.diff(cdf, axis=-1)  # (B, n, L)
        expected_error = (probs * np.abs(mean[..., None] - self.levels)).sum(axis=-1)
        return 2.0 * expected_error * self.step_norm * self.p_know
