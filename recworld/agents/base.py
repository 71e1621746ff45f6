"""The `Agent` protocol: one small plug-in point for every family the benchmark compares.

An agent is bound to an environment's public context and a batch of ``B`` users (the sub-
environments of a vector env, or one user). Each call of `act` (or SB3's `predict`, which is the
same call) does three things for every user, vectorised:

1. users whose episode starts get a fresh state (``episode_start``);
2. the others learn from the response to the agent's previous action, which is in the observation
   (``recent_responses``: the rating, and whether the user took / knew the item);
3. the agent chooses the next action among the items it may still show.

Learning from the observation, not from the reward, is what makes ``predict`` enough: an agent
works unchanged inside stable-baselines3's ``evaluate_policy``, the benchmark, or a user's loop.
Agents see only the observation, the action mask, the public `EnvContext` (with the training users'
ratings) and models trained on the training side; the oracle alone reads the simulator.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from recworld.envs.context import EnvContext

#: the families of agents the field compares: a meta agent is also a bandit or an active learner
FAMILIES = {
    "baseline": "references: random, popularity, the oracles",
    "bandit": "item and linear bandits (and the meta-learned model's bandits)",
    "active": "active learners: which question to ask (preference elicitation)",
    "meta": "agents that adapt a meta-learned embedding model to each user",
    "rl": "feedback reinforcement learning: tabular, linear, SlateQ, stable-baselines3",
}


class AgentError(ValueError):
    """An agent misused: unknown name, parameter out of range, or an environment it cannot handle."""


@dataclass
class Responses:
    """What users answered to the agent's previous action, ``(n, S)`` each, for the users in ``users``."""

    users: np.ndarray
    items: np.ndarray
    ratings: np.ndarray
    taken: np.ndarray
    signal: np.ndarray  # the environment's reward for each slot (`EnvContext.signal`)


class Agent(ABC):
    """Base class of recworld agents (see the module docstring).

    Subclasses set ``name``, ``supports`` (environment kinds) and ``families``, and implement `choose`; most
    also implement `begin` (per-episode state) and `update` (learning from responses). Agents that
    need training before evaluation implement `fit`.
    """

    name: ClassVar[str]
    supports: ClassVar[frozenset[str]] = frozenset({"ColdStart", "Engagement"})
    #: the families the benchmark compares (`FAMILIES`) this agent belongs to
    families: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Append stable-baselines3's "Can I use?" table of environments to each agent's docstring."""
        super().__init_subclass__(**kwargs)
        if cls.__doc__ and "name" in vars(cls):
            rows = "\n".join(
                f"    | {kind} | {'yes' if kind in cls.supports else 'no'} |"
                for kind in ("ColdStart", "Elicitation", "Engagement", "Replay")
            )
            cls.__doc__ = (
                cls.__doc__.rstrip()
                + "\n\n    Can I use it?\n\n    | environment | supported |\n    |---|---|\n"
                + rows
                + "\n"
            )

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.context: EnvContext | None = None
        self.batch = 0

    # ------------------------------------------------------------------ binding
    def bind(self, context: EnvContext, batch: int) -> Agent:
        """Attach to an environment's public context and a batch of users; returns self."""
        if context.kind not in self.supports:
            raise AgentError(
                f"agent {self.name!r} does not support {context.kind} environments; it supports "
                f"{', '.join(sorted(self.supports))}"
            )
        if batch < 1:
            raise AgentError(f"batch must be at least 1, got {batch}")
        self.context, self.batch = context, batch
        self.rng = np.random.default_rng(self.seed)
        self.shown = np.zeros((batch, context.n_items), dtype=bool)
        self.previous = np.full((batch, context.slate_size), -1, dtype=np.int64)
        self.prepare(context)
        self.begin(np.arange(batch))
        return self

    def prepare(self, context: EnvContext) -> None:  # noqa: B027 - optional hook
        """Per-context set-up (priors from the training data, models); called by `bind`."""

    #: True for agents that need `fit` before evaluation (the benchmark passes them a budget)
    learns_offline: ClassVar[bool] = False
    #: True for the oracle alone: it is given the environment and reads the simulator
    privileged: ClassVar[bool] = False

    def fit(self, env_id: str, env_kwargs: dict[str, Any], timesteps: int) -> list[tuple[int, float]]:
        """Train on the environment's *training* users (``users="train"``) for ``timesteps`` steps
        before evaluation; returns the learning curve as (timesteps, mean episode return) pairs.
        Agents that learn only online return an empty curve."""
        return []

    def learn(self, env: Any, total_timesteps: int) -> Agent:
        """stable-baselines3's shape: train for ``total_timesteps`` steps on the environment ``env``
        stands for — its id and arguments (``gymnasium.make`` / ``make_vec`` record them), on its
        *training* users whatever ``users`` it was made with — and return self; the learning curve is
        kept in ``learning_curve``. Agents that learn only online return at once."""
        spec = getattr(env, "spec", None) or getattr(getattr(env, "unwrapped", None), "spec", None)
        if spec is None:
            raise AgentError(
                "learn(env, ...) needs an environment made with gymnasium.make or make_vec (training "
                "environments are built from its id and arguments); or call fit(env_id, kwargs, timesteps)"
            )
        skipped = {"users", "num_envs", "vectorization_mode", "autoreset_mode", "render_mode"}
        kwargs = {key: value for key, value in spec.kwargs.items() if key not in skipped}
        self.learning_curve = self.fit(spec.id, kwargs, total_timesteps)
        return self

    # ------------------------------------------------------------------ the protocol
    def act(
        self,
        observation: dict[str, np.ndarray],
        mask: np.ndarray | None = None,
        episode_start: np.ndarray | None = None,
    ) -> np.ndarray:
        """Actions for a batch: ``(B,)`` item indices, or ``(B, S)`` slates."""
        if self.context is None:
            raise AgentError(f"agent {self.name!r} is not bound; call bind(env_context(env), batch) first")
        context = self.context
        starting = (
            np.zeros(self.batch, dtype=bool) if episode_start is None else np.asarray(episode_start, bool)
        )
        if starting.any():
            index = np.flatnonzero(starting)
            self.shown[index] = False
            self.previous[index] = -1
            self.begin(index)
        answered = np.flatnonzero(~starting & (self.previous[:, 0] >= 0) & self._was_shown(observation))
        if len(answered):
            self.update(self._responses(observation, answered))
        allowed = np.ones_like(self.shown) if context.repeats else ~self.shown
        if mask is not None:
            allowed &= np.asarray(mask, dtype=bool).reshape(self.batch, -1)[:, : context.n_items]
        actions = self.choose(observation, allowed)
        actions = np.asarray(actions, dtype=np.int64).reshape(self.batch, context.slate_size)
        if not context.repeats:
            self.shown[np.arange(self.batch)[:, None], actions] = True
        self.previous = actions
        return actions[:, 0] if context.slate_size == 1 else actions

    def predict(
        self,
        observation: dict[str, np.ndarray],
        state: Any = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = True,
    ) -> tuple[np.ndarray, Any]:
        """stable-baselines3's ``PolicyPredictor`` interface (``evaluate_policy`` calls it).

        A single (unbatched) observation gives a single action. The first call of an episode must
        come with ``episode_start`` True (``evaluate_policy`` does this).
        """
        single = observation["progress"].ndim == 1
        batch = {k: np.asarray(v)[None] if single else np.asarray(v) for k, v in observation.items()}
        if self.context is not None and len(batch["progress"]) != self.batch:
            raise AgentError(f"agent is bound to {self.batch} users, got a batch of {len(batch['progress'])}")
        start = None if episode_start is None else np.asarray(episode_start, dtype=bool).reshape(-1)
        actions = self.act(batch, None, start)
        return (actions[0] if single else actions), state

    # ------------------------------------------------------------------ for subclasses
    def begin(self, index: np.ndarray) -> None:  # noqa: B027 - optional hook
        """Reset the per-episode state of the users at ``index``."""

    def update(self, responses: Responses) -> None:  # noqa: B027 - optional hook
        """Learn from the users' responses to the previous action."""

    @abstractmethod
    def choose(self, observation: dict[str, np.ndarray], allowed: np.ndarray) -> np.ndarray:
        """Choose ``(B, S)`` items among ``allowed`` (``(B, n_items)`` bool)."""

    # ------------------------------------------------------------------ helpers
    def _was_shown(self, observation: dict[str, np.ndarray]) -> np.ndarray:
        """``(B,)``: whether any item of each user's previous action was shown. Nothing is learned
        from an action that was not (every slot a repeat, or a replay round that did not match)."""
        assert self.context is not None
        return np.asarray(self.context.latest_responses(observation).shown.any(axis=1))

    def _responses(self, observation: dict[str, np.ndarray], users: np.ndarray) -> Responses:
        context = self.context
        assert context is not None
        latest = context.latest_responses(observation, users)
        items = self.previous[users]
        signal = context.signal(items, latest.ratings, latest.taken, latest.clicked)
        return Responses(users, items, latest.ratings, latest.taken, signal)


def training_seed(seed: int) -> int:
    """The reset seed of an agent's training environments. Vector environments seed user ``i``
    with ``s + i``, so training at seeds 0 and 1 with ``s = seed`` would share all but one user's
    stream; a hash of the seed keeps different seeds' training runs apart."""
    return int(np.random.SeedSequence([seed, 1]).generate_state(1)[0])


def top_allowed(scores: np.ndarray, allowed: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` highest-scoring allowed items per row, best first, ``(B, k)``; vectorised."""
    masked = np.where(allowed, scores, -np.inf)
    if k == 1:
        return masked.argmax(axis=1)[:, None]
    top = np.argpartition(-masked, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(masked, top, axis=1), axis=1, kind="stable")
    return np.take_along_axis(top, order, axis=1)
