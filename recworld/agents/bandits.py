"""Bandits for ColdStart and Engagement, vectorised over users and items.

Two kinds, for two questions:

* **Item bandits** (`epsilon-greedy`, `ucb1`, `thompson`) keep one estimate per item, shared by
  every user the agent meets: which films are good *for new users in general*. Their priors come
  from the training users (popularity-informed: an item's prior mean is its shrunk mean training
  reward, and its prior weight grows with how many training users rated it, up to
  ``prior_strength``), so they start where popularity is and correct it from what new users say.
* **Linear bandits** (`linucb`, `lin-thompson`) keep one ridge regression per user over public item
  features — genres and year (``features="genres"``) or matrix-factorisation item factors fitted on
  the training users (``features="mf"``) — around a prior from the training users, so they learn
  *this* user's taste within the episode.

All of them optimise the environment's reward as recomputed from the user's response (rating,
like, click or surprise).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from recworld.agents.base import Agent, AgentError, Responses, top_allowed
from recworld.envs.context import EnvContext
from recworld.numerics.factorization import fit_als_on
from recworld.numerics.metrics import select_top
from recworld.numerics.online import add_observations


def training_signal(context: EnvContext) -> tuple[np.ndarray, np.ndarray]:
    """The reward each training rating would have earned: (items, signal). A training rating counts
    as taken, and as clicked when liked (the data records no clicks)."""
    train = context.train_data
    items = train.item.astype(np.int64)
    ratings = train.rating.astype(np.float64)
    taken = np.ones(len(ratings), dtype=bool)
    return items, context.signal(items, ratings, taken, ratings >= context.like_threshold)


def popularity_prior(context: EnvContext) -> tuple[np.ndarray, np.ndarray, float]:
    """Prior mean reward per item, training counts, and the reward's spread.

    An item's mean training reward is shrunk toward what its popularity predicts (a weighted
    least-squares line of item mean against log count): rarely rated films are rarely good, so the
    prior does not send new users to them on the strength of a global average."""
    items, signal = training_signal(context)
    counts = np.bincount(items, minlength=context.n_items).astype(np.float64)
    sums = np.bincount(items, weights=signal, minlength=context.n_items)
    rated = counts > 0
    raw = np.where(rated, sums / np.maximum(counts, 1.0), 0.0)
    design = np.column_stack([np.ones(rated.sum()), np.log1p(counts[rated])])
    weights = np.sqrt(counts[rated])
    coef, *_ = np.linalg.lstsq(design * weights[:, None], raw[rated] * weights, rcond=None)
    expected = coef[0] + coef[1] * np.log1p(counts)
    mean = (sums + 5.0 * expected) / (counts + 5.0)
    return mean, counts, float(signal.std()) or 1.0


def _check_positive(name: str, value: float, upper: float | None = None) -> None:
    if not value > 0 or (upper is not None and value > upper):
        bound = f"in (0, {upper}]" if upper is not None else "> 0"
        raise AgentError(f"{name} must be {bound}, got {value}")


class ItemBandit(Agent):
    """Shared per-item statistics with popularity-informed priors (see the module docstring)."""

    supports = frozenset({"ColdStart", "Engagement", "Replay"})
    families = frozenset({"bandit"})

    def __init__(self, seed: int = 0, prior_strength: float = 10.0) -> None:
        super().__init__(seed)
        _check_positive("prior_strength", prior_strength)
        self.prior_strength = prior_strength

    def prepare(self, context: EnvContext) -> None:
        mean, counts, self.noise = popularity_prior(context)
        self.pulls = np.minimum(counts, self.prior_strength) + 1.0  # prior weight, in pulls
        self.total = self.pulls * mean

    @property
    def means(self) -> np.ndarray:
        return self.total / self.pulls

    def update(self, responses: Responses) -> None:
        np.add.at(self.pulls, responses.items.ravel(), 1.0)
        np.add.at(self.total, responses.items.ravel(), responses.signal.ravel())


class EpsilonGreedyAgent(ItemBandit):
    """Epsilon-greedy on the shared item means: the best allowed item, or a random one with
    probability ``epsilon`` (per user and step). ``epsilon`` in [0, 1]."""

    name = "epsilon-greedy"

    def __init__(self, seed: int = 0, epsilon: float = 0.1, prior_strength: float = 10.0) -> None:
        super().__init__(seed, prior_strength)
        if not 0 <= epsilon <= 1:
            raise AgentError(f"epsilon must be in [0, 1], got {epsilon}")
        self.epsilon = epsilon

    def choose(self, observation: dict[str, np.ndarray], allowed: np.ndarray) -> np.ndarray:
        assert self.context is not None
        explore = self.rng.random(self.batch) < self.epsilon
        scores = np.where(explore[:, None], self.rng.random(allowed.shape), self.means[None, :])
        return top_allowed(scores, allowed, self.context.slate_size)


class UCB1Agent(ItemBandit):
    """UCB1 (Auer et al. 2002) on the shared item means: ``mean + c * noise * sqrt(2 ln N / n_i)``,
    with the prior weight counted as pulls. ``c`` > 0 scales the exploration bonus. The default 0.3,
    not the textbook 1: with 1,682 arms and a few thousand pulls per run, ``c = 1`` spends every
    recommendation on films nobody rated (worse than random on ColdStart; see the benchmark)."""

    name = "ucb1"

    def __init__(self, seed: int = 0, c: float = 0.3, prior_strength: float = 10.0) -> None:
        super().__init__(seed, prior_strength)
        _check_positive("c", c)
        self.c = c

    def choose(self, observation: dict[str, np.ndarray], allowed: np.ndarray) -> np.ndarray:
        assert self.context is not None
        bonus = self.c * self.noise * np.sqrt(2.0 * np.log(self.pulls.sum()) / self.pulls)
        scores = np.broadcast_to(self.means + bonus, allowed.shape)
        return top_allowed(scores, allowed, self.context.slate_size)


class ThompsonAgent(ItemBandit):
    """Thompson sampling on the shared item statistics: Beta-Bernoulli posteriors for like and
    click rewards, Gaussian posteriors (known noise, the training rewards' spread) for ratings
    and surprise. One posterior draw per user, item and step."""

    name = "thompson"

    def posterior_parameters(self) -> tuple[np.ndarray, np.ndarray]:
        """Beta (alpha, beta) for binary rewards, else Gaussian (mean, standard deviation)."""
        assert self.context is not None
        if self.context.reward in ("like", "click"):
            return 1.0 + self.total, 1.0 + self.pulls - self.total
        return self.means, self.noise / np.sqrt(self.pulls)

    def choose(self, observation: dict[str, np.ndarray], allowed: np.ndarray) -> np.ndarray:
        assert self.context is not None
        first, second = self.posterior_parameters()
        if self.context.reward in ("like", "click"):
            draws = self.rng.beta(
                np.broadcast_to(first, allowed.shape), np.broadcast_to(second, allowed.shape)
            )
        else:
            draws = first + second * self.rng.standard_normal(allowed.shape)
        return top_allowed(draws, allowed, self.context.slate_size)


class LinearBandit(Agent):
    """Per-user Bayesian ridge regression of the reward on item features, around an item offset
    fitted on the training users: ``reward_ui ~ offset_i + x_i . theta_u``, ``theta_u ~ N(0, I / reg)``.
    ``features``: ``"genres"`` (genre multi-hot and year), ``"mf"`` (ALS item factors, rank
    ``rank``, fitted on the training users only) or ``"meta"`` (the meta-learned model's item
    embeddings, `recworld.agents.meta_model`, trained on the training users only)."""

    families = frozenset({"bandit"})

    supports = frozenset({"ColdStart", "Engagement", "Replay"})

    def __init__(
        self, seed: int = 0, features: str = "genres", reg: float = 1.0, rank: int = 10, alpha: float = 1.0
    ) -> None:
        super().__init__(seed)
        if features not in ("genres", "mf", "meta"):
            raise AgentError(f"features must be 'genres', 'mf' or 'meta', got {features!r}")
        _check_positive("reg", reg)
        _check_positive("alpha", alpha)
        if not 1 <= rank <= 100:
            raise AgentError(f"rank must be in 1..100, got {rank}")
        self.features, self.reg, self.rank, self.alpha = features, reg, rank, alpha

    def prepare(self, context: EnvContext) -> None:
        _, signal = training_signal(context)
        self.offset, _, self.noise = popularity_prior(context)
        if self.features == "genres":
            vectors = context.item_features.astype(np.float64)
        elif self.features == "meta":
            import torch

            from recworld.agents.meta_model import trained_meta_model

            net = trained_meta_model(context, seed=self.seed).net
            with torch.no_grad():
                vectors = net.item_vectors(torch.arange(context.n_items)).numpy().astype(np.float64)
        else:
            model = fit_als_on(
                context.train_data,
                rank=self.rank,
                reg=0.1,
                rng=np.random.default_rng(self.seed),
                targets=signal,
            )
            vectors = model.item_factors
        self.x = np.ascontiguousarray(np.column_stack([np.ones(context.n_items), vectors]))  # bias, features
        self.x_t = np.ascontiguousarray(self.x.T, dtype=np.float32)
        dim = self.x.shape[1]
        self.covariance = np.zeros((self.batch, dim, dim))  # the posterior's, up to the noise
        self.moment = np.zeros((self.batch, dim))
        self.variances = np.zeros((0, 0), dtype=np.float32)  # each item's x^T covariance x, if kept

    def begin(self, index: np.ndarray) -> None:
        self.covariance[index] = np.eye(self.x.shape[1]) / self.reg
        self.moment[index] = 0.0
        if len(self.variances):
            self.variances[index] = (self.x**2).sum(axis=1) / self.reg

    def update(self, responses: Responses) -> None:
        """One rank-one update of each user's posterior per response (`recworld.numerics.online`)."""
        residual = responses.signal - self.offset[responses.items]
        add_observations(
            self.covariance,
            self.moment,
            np.asarray(responses.users, dtype=np.int64),
            self.x,
            np.asarray(responses.items, dtype=np.int64),
            np.asarray(residual, dtype=np.float64),
            self.variances,
            self.x_t,
        )

    def posterior(self) -> tuple[np.ndarray, np.ndarray]:
        """Each user's posterior mean ``(B, D)`` and covariance (up to the noise) ``(B, D, D)``."""
        return np.einsum("bde,be->bd", self.covariance, self.moment), self.covariance


class LinUCBAgent(LinearBandit):
    """LinUCB (Li et al. 2010): ``offset_i + x_i . theta_u + alpha * noise * sqrt(x_i^T A_u^-1 x_i)``."""

    name = "linucb"

    def prepare(self, context: EnvContext) -> None:
        super().prepare(context)
        self.variances = np.zeros((self.batch, context.n_items), dtype=np.float32)  # kept by `update`

    def choose(self, observation: dict[str, np.ndarray], allowed: np.ndarray) -> np.ndarray:
        assert self.context is not None
        mean, _ = self.posterior()
        chosen = np.empty((self.batch, self.context.slate_size), dtype=np.int64)
        width = np.float32(self.alpha * self.noise)
        scores = mean.astype(np.float32) @ self.x_t  # one matrix product for every user
        _add_widths_and_select(scores, self.offset.astype(np.float32), self.variances, width, allowed, chosen)
        return np.maximum(chosen, 0)  # as `top_allowed`: item 0 where nothing is allowed


@njit(cache=True)
def _add_widths_and_select(
    scores: np.ndarray,
    offset: np.ndarray,
    variances: np.ndarray,
    width: np.floating,
    allowed: np.ndarray,
    out: np.ndarray,
) -> None:
    """LinUCB's upper bounds ``scores + offset + width * sqrt(variance)`` in place, and each row's
    ``out.shape[1]`` best allowed items, best first."""
    for b in range(scores.shape[0]):
        row = scores[b]
        for i in range(len(row)):
            row[i] += offset[i] + width * np.sqrt(variances[b, i])
        select_top(row, allowed[b], out[b])


class LinThompsonAgent(LinearBandit):
    """Linear Thompson sampling (Agrawal & Goyal 2013): draw ``theta_u`` from the posterior
    (covariance scaled by ``(alpha * noise)^2``) and rank by ``offset_i + x_i . theta_u``."""

    name = "lin-thompson"

    def choose(self, observation: dict[str, np.ndarray], allowed: np.ndarray) -> np.ndarray:
        assert self.context is not None
        mean, covariance = self.posterior()
        factor = np.linalg.cholesky(covariance)
        theta = mean + self.alpha * self.noise * np.einsum(
            "bde,be->bd", factor, self.rng.standard_normal(mean.shape)
        )
        return top_allowed(self.offset + theta @ self.x.T, allowed, self.context.slate_size)
