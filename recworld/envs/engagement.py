"""`recworld/Engagement-v0`: long sessions in which today's recommendation changes tomorrow's user."""

from __future__ import annotations

from typing import Any

import numpy as np

from recworld.envs.base import RecEnv, RecVectorEnv
from recworld.envs.cold_start import RecommendationKernel
from recworld.envs.world import World
from recworld.simulators import ReplaySimulator
from recworld.simulators.dynamics import EngagementDynamics


class EngagementKernel(RecommendationKernel):
    """`RecommendationKernel` with the simulator's dynamics: boredom, drift, satisfaction, leaving."""

    extra_draws = 1  # the leave draw
    env_id = "recworld/Engagement-v0"

    def __init__(
        self,
        world: World,
        batch: int,
        *,
        horizon: int = 200,
        dynamics: EngagementDynamics | None = None,
        regret: bool = True,
        **options: Any,
    ) -> None:
        if isinstance(world.simulator, ReplaySimulator):
            raise ValueError(
                f"{self.env_id} has no replay twin: MovieLens has no sessions, so nothing in the data says "
                "when a real user would get bored or leave; use a fitted world (simulator='latent-factor' "
                "or 'item-knn')"
            )
        super().__init__(world, batch, horizon=horizon, **options)
        self.dynamics = dynamics or EngagementDynamics()
        self.state = self.dynamics.initial_state(batch, world.genre_profiles.shape[1])
        self.compute_regret = regret

    def start(self, index: np.ndarray) -> None:
        super().start(index)
        mask = np.zeros(self.batch, dtype=bool)
        mask[index] = True
        self.state.reset(mask)

    def score_shift(self, items: np.ndarray) -> np.ndarray | None:
        return self.dynamics.shift(self.state, self.world.genre_profiles[items])

    def unseen_scores(self) -> np.ndarray:
        """Every item's score under today's dynamics, ``-inf`` where shown already, ``(B, n_items)``."""
        scores = self.world.simulator.score(self.user) + self.dynamics.catalog_shift(
            self.state, self.world.genre_profiles
        )
        np.copyto(scores, -np.inf, where=self.shown)
        return scores

    def best_unseen(self) -> tuple[np.ndarray, np.ndarray]:
        """The best unseen items under today's dynamics (a scan of the catalog) and their
        expected ratings; one-step truth, for regret and for the oracle baseline."""
        scores = self.unseen_scores()
        best = np.argpartition(-scores, self.slate_size - 1, axis=1)[:, : self.slate_size]
        probs = self.world.simulator.rating_probabilities(self.user, np.take_along_axis(scores, best, axis=1))
        return best, probs @ self.levels

    def best_unseen_expected(self) -> np.ndarray | None:
        """``regret=False`` skips the catalog scan (and reports regret 0), for speed. With one item
        per step only the best score matters, so a maximum replaces `best_unseen`'s partition."""
        if not self.compute_regret:
            return None
        if self.slate_size > 1:
            return self.best_unseen()[1]
        best = self.unseen_scores().max(axis=1, keepdims=True)
        return self.world.simulator.rating_probabilities(self.user, best) @ self.levels

    def after_step(self, items: np.ndarray, ratings: np.ndarray, taken: np.ndarray) -> np.ndarray:
        leave = self.dynamics.update(self.state, self.world.genre_profiles[items], ratings, taken)
        return self.draws()[:, -1] < leave

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        reward, terminated, truncated, info = super().step(actions)
        info["satisfaction"] = self.state.satisfaction.astype(np.float64)
        return reward, terminated, truncated, info


class EngagementEnv(RecEnv):
    """Long-horizon feedback RL: recommendations change the user.

    ## Description
    The user of an episode has the simulator's session dynamics
    (`recworld.simulators.dynamics.EngagementDynamics`): genre boredom that grows with repetition and
    fades with time, interest that drifts toward liked genres, and a satisfaction that sets the
    chance of leaving. A policy that always serves the user's favourite genre earns high ratings
    first and a bored, leaving user later: the effects are delayed, which is what feedback RL is for.

    ## Action Space
    ``Discrete(n_items)``, or ``MultiDiscrete([n_items] * slate_size)`` for slates; the user takes
    what the choice model picks (one item per step is always taken and rated).

    ## Observation Space
    As `ColdStartEnv`: ``user``, ``progress``, ``recent_items``, ``recent_responses``, ``history``.
    The dynamic state (boredom, affinity, satisfaction) is hidden; the recent items and ratings reveal it.

    ## Rewards
    As `ColdStartEnv` (default ``"rating"``): a user who leaves early gives no more rewards.

    ## Starting State
    A user drawn from the population, with neutral satisfaction, no boredom and no drift.

    ## Episode End
    Termination when the user leaves (probability ``sigmoid(leave_bias - leave_slope *
    satisfaction)`` after each step); truncation at ``horizon`` steps (default 200).

    ## Info
    As `ColdStartEnv` plus ``satisfaction``; ``regret`` is against the best unseen items under the
    current dynamics (``regret=False`` skips that catalog scan and reports 0).

    ## Arguments
    >>> import gymnasium as gym
    >>> env = gym.make("recworld/Engagement-v0", slate_size=5, choice_model="cascade")  # doctest: +SKIP

    All arguments of `ColdStartEnv` (with ``horizon`` defaulting to 200), plus ``dynamics`` (an
    `EngagementDynamics`, default parameters argued in its module) and ``regret`` (default True).

    ## Version History
    * v0: initial version.
    """

    kernel_class = EngagementKernel


class EngagementVectorEnv(RecVectorEnv):
    """`EngagementEnv` for ``num_envs`` users at once (see its docstring)."""

    kernel_class = EngagementKernel
