"""Baselines: random, popularity (training data) and the oracle (which reads the simulator)."""

from __future__ import annotations

from typing import Any

import numpy as np

from recworld.agents.base import Agent, AgentError, top_allowed
from recworld.agents.checks import check_int
from recworld.envs.context import EnvContext, oracle_choice, oracle_plan


class RandomAgent(Agent):
    """Uniformly random allowed items. Supports every environment."""

    name = "random"
    families = frozenset({"baseline"})
    supports = frozenset({"ColdStart", "Elicitation", "Engagement", "Replay"})

    def choose(self, observation: dict[str, np.ndarray], allowed: np.ndarray) -> np.ndarray:
        assert self.context is not None
        noise = self.rng.random(allowed.shape)
        return top_allowed(noise, allowed, self.context.slate_size)


class PopularityAgent(Agent):
    """The most-rated items among the training users, in order. Supports every environment
    (on Elicitation it asks about the films most people know)."""

    name = "popularity"
    families = frozenset({"baseline"})
    supports = frozenset({"ColdStart", "Elicitation", "Engagement", "Replay"})

    def prepare(self, context: EnvContext) -> None:
        counts = np.bincount(context.train_data.item, minlength=context.n_items).astype(np.float64)
        # Ties broken by mean training rating, so the order is total and deterministic.
        self.scores = counts + 1e-3 * context.item_mean_rating

    def choose(self, observation: dict[str, np.ndarray], allowed: np.ndarray) -> np.ndarray:
        assert self.context is not None
        return top_allowed(np.broadcast_to(self.scores, allowed.shape), allowed, self.context.slate_size)


class OracleAgent(Agent):
    """PRIVILEGED: reads the simulator's hidden truth and shows each user's best unseen items.

    The upper reference of the benchmark, not a method: no real recommender can do this. With
    ``oracle-planner`` the only agents that read the simulator (`recworld.envs.context.oracle_choice`).
    ColdStart and Engagement only. On Engagement it is *myopic*: greedy on the true preferences of
    the moment, blind to what a film does to the user's satisfaction and return (see
    ``oracle-planner``).
    """

    name = "oracle"
    families = frozenset({"baseline"})
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


class OraclePlannerAgent(OracleAgent):
    """PRIVILEGED: lookahead on a copy of the user's true dynamic state (Engagement only).

    For each user and step: candidates are the ``n_top`` best unseen films under today's true scores
    plus the best unseen film of each genre; each is rolled out ``depth`` steps on expected values
    (then greedy among the user's ``shortlist`` best films), weighting expected rewards by the chance
    the user is still there, plus a stationary tail to the horizon; the best candidate is shown.
    Batched over users (`recworld.envs.engagement.EngagementKernel.plan`). The gap between it and the
    myopic ``oracle`` measures how much the long run matters in a world.

    Parameters: ``depth`` 1..100 (default 10), ``n_top`` 1..100 (default 8), ``shortlist`` 8..2000
    (default 128).
    """

    name = "oracle-planner"
    supports = frozenset({"Engagement"})

    def __init__(
        self, seed: int = 0, env: Any = None, depth: int = 10, n_top: int = 8, shortlist: int = 128
    ) -> None:
        super().__init__(seed, env)
        self.depth = check_int("depth", depth, 1, 100)
        self.n_top = check_int("n_top", n_top, 1, 100)
        self.shortlist = check_int("shortlist", shortlist, 8, 2000)

    def choose(self, observation: dict[str, np.ndarray], allowed: np.ndarray) -> np.ndarray:
        if self.env is None:
            raise AgentError(
                "the planner needs the environment: OraclePlannerAgent(env=env) or agent.attach(env)"
            )
        assert self.context is not None
        n_top = min(self.n_top, self.context.n_items)
        shortlist = min(self.shortlist, self.context.n_items)
        return oracle_plan(self.env, self.depth, n_top, shortlist)
