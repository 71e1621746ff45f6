"""Baselines: random, popularity (training data) and the oracle (which reads the simulator)."""

from __future__ import annotations

from typing import Any

import numpy as np

from recworld.agents.base import Agent, AgentError, top_allowed
from recworld.envs.context import EnvContext, oracle_choice


class RandomAgent(Agent):
    """Uniformly random allowed items. Supports every environment."""

    name = "random"
    supports = frozenset({"ColdStart", "Elicitation", "Engagement"})

    def choose(self, observation: dict[str, np.ndarray], allowed: np.ndarray) -> np.ndarray:
        assert self.context is not None
        noise = self.rng.random(allowed.shape)
        return top_allowed(noise, allowed, self.context.slate_size)


class PopularityAgent(Agent):
    """The most-rated items among the training users, in order. Supports every environment
    (on Elicitation it asks about the films most people know)."""

    name = "popularity"
    supports = frozenset({"ColdStart", "Elicitation", "Engagement"})

    def prepare(self, context: EnvContext) -> None:
        counts = np.bincount(context.train_data.item, minlength=context.n_items).astype(np.float64)
        # Ties broken by mean training rating, so the order is total and deterministic.
        self.scores = counts + 1e-3 * context.item_mean_rating

    def choose(self, observation: dict[str, np.ndarray], allowed: np.ndarray) -> np.ndarray:
        assert self.context is not None
        return top_allowed(np.broadcast_to(self.scores, allowed.shape), allowed, self.context.slate_size)


class OracleAgent(Agent):
    """PRIVILEGED: reads the simulator's hidden truth and shows each user's best unseen items.

    The upper reference of the benchmark, not a method: no real recommender can do this. It is the
    only agent that reads the simulator (`recworld.envs.context.oracle_choice`). ColdStart and
    Engagement only (on Engagement it is one-step greedy on the true dynamic preferences).
    """

    name = "oracle"
    privileged = True

    def __init__(self, seed: int = 0, env: Any = None) -> None:
        super().__init__(seed)
        self.env = env

    def attach(self, env: Any) -> OracleAgent:
        """Give the oracle the environment whose simulator it reads."""
        self.env = env
        return self

    def choose(self, observation: dict[str, np.ndarray], allowed: np.ndarray) -> np.ndarray:
        if self.env is None:
            raise AgentError("the oracle needs the environment: OracleAgent(env=env) or agent.attach(env)")
        return oracle_choice(self.env)
