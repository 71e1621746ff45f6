"""Agents that wrap the meta-learned embedding model (`recworld.models`).

The model is meta-trained on the environment's training users only (`trained_meta_model`), so that
it adapts to a new user from a handful of ratings. Every step, each agent adapts it — in one
batched call for all its users — to the ratings its users have given so far, then:

* `meta-greedy` recommends the highest predicted rating;
* `meta-ucb` the highest ``mean + beta * std`` (the model's calibrated predictive spread);
* `meta-thompson` the highest draw from ``N(mean, std^2)``;
* `meta-elicitation` (Elicitation) asks about the item whose answer would teach the model most:
  the predictive spread times the chance the user knows the film (its training popularity).
"""

from __future__ import annotations

from abc import abstractmethod

import numpy as np
import torch

from recworld.agents.base import Agent, AgentError, Responses, top_allowed
from recworld.agents.meta_model import trained_meta_model
from recworld.envs.context import EnvContext


class MetaAgent(Agent):
    """Adapts the meta-learned model to each user's answers; subclasses turn predictions into scores."""

    families = frozenset({"meta", "bandit"})

    def __init__(self, seed: int = 0, model_seed: int = 0) -> None:
        super().__init__(seed)
        self.model_seed = model_seed

    def prepare(self, context: EnvContext) -> None:
        self.model = trained_meta_model(context, seed=self.model_seed)
        capacity = context.horizon * context.slate_size
        self.items = np.zeros((self.batch, capacity), dtype=np.int64)
        self.ratings = np.zeros((self.batch, capacity), dtype=np.float32)
        self.answered = np.zeros((self.batch, capacity), dtype=bool)
        self.count = np.zeros(self.batch, dtype=np.int64)
        self.generator = torch.Generator().manual_seed(self.seed)

    def begin(self, index: np.ndarray) -> None:
        self.answered[index] = False
        self.count[index] = 0

    def update(self, responses: Responses) -> None:
        s = responses.items.shape[1]
        slots = np.minimum(self.count[responses.users][:, None] + np.arange(s), self.items.shape[1] - 1)
        rows = responses.users[:, None]
        self.items[rows, slots] = responses.items
        self.ratings[rows, slots] = responses.ratings
        self.answered[rows, slots] = responses.taken
        self.count[responses.users] += s

    def predictions(self, observation: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Each user's predicted rating and predictive standard deviation for every item."""
        users = self.model.adapt(
            torch.from_numpy(self.items),
            torch.from_numpy(self.ratings),
            torch.from_numpy(self.answered),
            torch.as_tensor(np.asarray(observation["user"]), dtype=torch.float32),
        )
        mean, std = users.predict()
        return mean.numpy().astype(np.float64), std.numpy().astype(np.float64)

    @abstractmethod
    def scores(self, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
        """Item scores ``(B, n_items)`` from the predicted ratings and their spread."""

    def choose(self, observation: dict[str, np.ndarray], allowed: np.ndarray) -> np.ndarray:
        assert self.context is not None
        mean, std = self.predictions(observation)
        return top_allowed(self.scores(mean, std), allowed, self.context.slate_size)


class MetaGreedyAgent(MetaAgent):
    """Greedy on the meta-learned model adapted to the user's ratings so far."""

    name = "meta-greedy"

    def scores(self, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
        return mean


class MetaUCBAgent(MetaAgent):
    """Optimism under the model's uncertainty: ``mean + beta * std`` (``beta`` >= 0)."""

    name = "meta-ucb"

    def __init__(self, seed: int = 0, model_seed: int = 0, beta: float = 0.5) -> None:
        super().__init__(seed, model_seed)
        if not beta >= 0:
            raise AgentError(f"beta must be >= 0, got {beta}")
        self.beta = beta

    def scores(self, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
        return mean + self.beta * std


class MetaThompsonAgent(MetaAgent):
    """Thompson sampling from the model's predictive distribution, ``N(mean, (scale * std)^2)``."""

    name = "meta-thompson"

    def __init__(self, seed: int = 0, model_seed: int = 0, scale: float = 0.5) -> None:
        super().__init__(seed, model_seed)
        if not scale > 0:
            raise AgentError(f"scale must be > 0, got {scale}")
        self.scale = scale

    def scores(self, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
        return mean + self.scale * std * self.rng.standard_normal(mean.shape)


class MetaElicitationAgent(MetaAgent):
    """Elicitation: ask about the film with the largest expected adaptation gain, estimated as the
    model's uncertainty about the user's rating of it — the predictive variance less the rating
    noise, i.e. what an answer would teach the adapted layer — times the chance the user can answer
    (the share of training users who rated the film, relative to the most rated one)."""

    name = "meta-elicitation"
    supports = frozenset({"Elicitation"})
    families = frozenset({"meta", "active"})

    def prepare(self, context: EnvContext) -> None:
        super().prepare(context)
        counts = np.bincount(context.train_data.item, minlength=context.n_items).astype(np.float64)
        self.known = counts / max(counts.max(), 1.0)

    def scores(self, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
        noise = float(self.model.calibration.noise_std)
        return np.maximum(std**2 - noise**2, 0.0) * self.known
