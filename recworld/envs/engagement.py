"""`recworld/Engagement-v0`: long sessions in which today's recommendation changes tomorrow's user."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from recworld.envs.base import RecEnv, RecVectorEnv
from recworld.envs.cold_start import RecommendationKernel
from recworld.envs.compiled import DYNAMICS
from recworld.envs.rewards import level_rewards
from recworld.envs.world import World
from recworld.simulators import ReplaySimulator
from recworld.simulators.dynamics import EngagementDynamics


class EngagementKernel(RecommendationKernel):
    """`RecommendationKernel` with the user's dynamics (`recworld.simulators.dynamics`): boredom,
    drift, satisfaction, sessions that end and users who come back or leave."""

    env_id = "recworld/Engagement-v0"
    #: the compiled step's info also holds the hidden satisfaction and the session (1, 2, ...)
    info_floats = (*RecommendationKernel.info_floats, "satisfaction")
    info_counts = (*RecommendationKernel.info_counts, "session")

    def __init__(
        self,
        world: World,
        batch: int,
        *,
        horizon: int = 100,
        reward: str = "centred",
        dynamics: Any = None,
        regret: bool = True,
        **options: Any,
    ) -> None:
        if isinstance(world.simulator, ReplaySimulator):
            raise ValueError(
                f"{self.env_id} has no replay twin: MovieLens has no sessions, so nothing in the data says "
                "when a real user would get bored or leave; use a fitted world (simulator='latent-factor' "
                "or 'item-knn')"
            )
        super().__init__(world, batch, horizon=horizon, reward=reward, **options)
        self.dynamics = EngagementDynamics.from_spec(dynamics)
        self.state = self.dynamics.initial_state(batch, world.genre_profiles.shape[1])
        self.compute_regret = regret
        self.dynamics_parameters = dynamics_parameters(self.dynamics)
        state = self.state
        self.dynamic_state = (state.affinity, state.boredom, state.recent, state.satisfaction, state.sessions)

    def unseen_scores(self) -> np.ndarray:
        """Every item's score under today's dynamics, ``-inf`` where shown already, ``(B, n_items)``."""
        scores = self.world.simulator.score(self.user)
        shift = self.dynamics.catalog_shift(self.state, self.world.genre_profiles)
        if shift is not None:
            scores = scores + shift
        np.copyto(scores, -np.inf, where=self.shown)
        return scores

    def best_unseen(self) -> tuple[np.ndarray, np.ndarray]:
        """The best unseen items under today's dynamics (a scan of the catalog) and their
        expected ratings: one-step truth, for regret and for the myopic oracle."""
        scores = self.unseen_scores()
        best = np.argpartition(-scores, self.slate_size - 1, axis=1)[:, : self.slate_size]
        probs = self.world.simulator.rating_probabilities(self.user, np.take_along_axis(scores, best, axis=1))
        return best, probs @ self.levels

    def regret_lists(self) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
        """The best unseen items under today's dynamics: searched by the compiled step along each
        user's items by static score (`World.score_order`), or, for a simulator of your own,
        `best_unseen` in Python; ``regret=False`` skips the search (and reports regret 0), for speed.
        The compiled step reads ``regret_mode`` 2 (the search), 3 (given) or 0 (none)."""
        if not self.compute_regret:
            return 0, self._no_lists, self._no_expected, self.member
        if self.probs_in_python:
            self.regret_in_python = True
            return 3, self._no_lists, self._no_expected, self.member
        return 2, *self.world.score_order(), self.member

    _no_lists = np.zeros((1, 1), dtype=np.int32)
    _no_expected = np.zeros((1, 1), dtype=np.float32)

    def plan(self, depth: int, n_top: int, shortlist: int) -> np.ndarray:
        """PRIVILEGED lookahead: each user's next item by a mean-field rollout of a copy of the true
        state, ``(B, 1)``.

        Candidates: the ``n_top`` best unseen items under today's scores plus the best unseen item of
        each genre. For each, ``depth`` steps are rolled out on expected values (the candidate, then
        greedy on the rolled-out scores among the user's ``shortlist`` best items by static score):
        expected reward weighted by the chance the user is still there, then a stationary tail (the
        rollout's mean reward per step at the last step's survival, over the steps left to the horizon). One
        item per step; rewards with a per-level value (rating, centred, like)."""
        if self.slate_size != 1:
            raise ValueError(
                f"the planner recommends one item per step; slate_size={self.slate_size}: use slate_size=1 "
                "(or the myopic oracle, which fills slates)"
            )
        sim, profiles, dyn = self.world.simulator, self.world.genre_profiles, self.dynamics
        value_of_level = level_rewards(self.reward, self.levels, self.like_threshold).astype(np.float32)
        verdict_of_level = dyn.verdict(self.levels)
        base = sim.score(self.user)  # (B, n)
        now = self.unseen_scores()
        top = np.argpartition(-now, n_top - 1, axis=1)[:, :n_top]
        in_genre = profiles.T[None] > 0  # (1, G, n)
        per_genre = np.where(in_genre, now[:, None, :], -np.inf).argmax(axis=2)  # (B, G)
        candidates = np.concatenate([top, per_genre], axis=1)  # (B, C)
        b, c = candidates.shape
        # the continuation's choices: each user's best unseen items by static score (at least depth + 1)
        shortlist = min(self.n_items, max(shortlist, depth + 1))
        short = np.argpartition(np.where(self.shown, np.inf, -base), shortlist - 1, axis=1)[:, :shortlist]
        rows = np.repeat(np.arange(b), c)
        users = self.user[rows]
        short_base = np.take_along_axis(base, short, axis=1)[rows]  # (BC, L)
        short_profiles = profiles[short][rows]  # (BC, L, G)
        short_free = ~np.take_along_axis(self.shown, short, axis=1)[rows]  # (BC, L)
        state = self.state.repeat(c)
        item = candidates.reshape(-1)
        score = base[rows, item]
        alive = np.ones(b * c, dtype=np.float64)
        value = np.zeros(b * c, dtype=np.float64)
        steps_left = np.maximum(self.horizon - self.t[rows], 1)
        leave = np.zeros(b * c)
        expected_steps = np.zeros(b * c)
        for d in range(depth):
            if d > 0:  # greedy continuation on the rolled-out state, among the shortlist
                preference = dyn.preference(state)
                shifted = short_base
                if preference is not None:
                    shifted = short_base + np.einsum("rg,rlg->rl", preference, short_profiles)
                pick = np.where(short_free, shifted, -np.inf).argmax(axis=1)
                item = short[rows, pick]
                score = shifted[np.arange(b * c), pick]
                short_free[np.arange(b * c), pick] = False
            else:
                shift = dyn.shift(state, profiles[item])
                score = score if shift is None else score + shift
                short_free &= short[rows] != item[:, None]
            probs = sim.rating_probabilities(users, score[:, None])[:, 0]  # (BC, L)
            reward = probs @ value_of_level
            live = d < steps_left
            value += np.where(live, alive * reward, 0.0)
            expected_steps += np.where(live, alive, 0.0)
            p_end, p_return = dyn.update(state, profiles[item], (probs @ verdict_of_level).astype(np.float32))
            leave = p_end * (1.0 - p_return)
            if dyn.boredom is not None:  # the expected carry-over of a new session
                state.boredom *= (1.0 - p_end * p_return * (1.0 - dyn.boredom.carry_over))[:, None]
            alive = np.where(live, alive * (1.0 - leave), alive)
        # The tail: the rollout's mean reward per expected step, at the last step's survival rate (the
        # mean, not the last reward, so that showing a worse film first does not look like saving
        # the better ones for a tail that repeats them).
        tail = np.maximum(steps_left - depth, 0)
        stay = np.clip(1.0 - leave, 0.0, 1.0 - 1e-9)
        per_step = value / np.maximum(expected_steps, 1e-9)
        value += (
            alive * per_step * (1.0 - stay**tail) / (1.0 - stay)
        )  # alive: present at the tail's first step
        # A genre with nothing left to show yields argmax 0 above: drop that candidate if item 0 was shown.
        value[self.shown[rows, candidates.reshape(-1)]] = -np.inf
        best = value.reshape(b, c).argmax(axis=1)
        return candidates[np.arange(b), best][:, None]


def dynamics_parameters(dynamics: EngagementDynamics) -> np.ndarray:
    """The dynamics as the compiled step reads them: `recworld.envs.compiled.DYNAMICS`'s vector, a
    component's flag 1 when on (its parameters then follow)."""
    values: dict[str, float] = {}
    for name in ("boredom", "drift", "satisfaction", "retention"):
        component = getattr(dynamics, name)
        values[name] = float(component is not None)
        for field in dataclasses.fields(component) if component is not None else ():
            values[f"{name}.{field.name}"] = float(getattr(component, field.name))
    values.update(neutral_rating=dynamics.neutral_rating, rating_spread=dynamics.rating_spread)
    return np.array([values.get(name, 0.0) for name in DYNAMICS], dtype=np.float64)


class EngagementEnv(RecEnv):
    """Long-horizon feedback RL: what is shown today changes whether the user stays and comes back.

    ## Description
    An episode is one user's sessions (`recworld.simulators.dynamics`): the user consumes one film
    per step; boredom with repeated genres lowers ratings a little now, interest drifts toward
    liked genres, and satisfaction — built by good, varied films, spent by films that repeat what the
    user just watched, even when they rate well — sets the chance that a session ends and that the
    user comes back for another. Serving the user's favourite genre over and over pays now and loses
    the user later: a delayed effect that a one-step policy cannot see (the planning oracle's lead
    over the myopic oracle measures it). ``dynamics="control"`` switches every carried-over effect off.

    ## Action Space
    ``Discrete(n_items)``, or ``MultiDiscrete([n_items] * slate_size)`` for slates; the user takes
    what the choice model picks (one item per step is always taken and rated).

    ## Observation Space
    As `ColdStartEnv`: ``user``, ``progress``, ``recent_items``, ``recent_responses``, ``history``.
    The dynamic state (boredom, affinity, satisfaction) is hidden; the recent items and ratings reveal it.

    ## Rewards
    ``reward="centred"`` by default: the rating minus the scale's midpoint (3 on 1–5), so a disliked
    film costs and the return counts films worth watching rather than session length times ~4; a
    user who has left gives no more rewards. The other rewards of `ColdStartEnv` are accepted.

    ## Starting State
    A user drawn from the population, in a first session, with neutral satisfaction, no boredom, no drift.

    ## Episode End
    After each step the session ends with probability ``sigmoid(end_bias - end_slope * s)``; the user
    then comes back with probability ``sigmoid(return_bias + return_slope * s)`` (boredom partly
    carried over), and otherwise leaves: termination. Truncation at ``horizon`` steps (default 100).

    ## Info
    As `ColdStartEnv` plus ``satisfaction`` (hidden truth, for evaluation) and ``session`` (1, 2, ...);
    ``regret`` is one-step, against the best unseen items under the current dynamics
    (``regret=False`` skips that catalog scan and reports 0).

    ## Arguments
    >>> import gymnasium as gym
    >>> env = gym.make("recworld/Engagement-v0", dynamics={"drift": None})  # doctest: +SKIP

    All arguments of `ColdStartEnv` (``horizon`` defaulting to 100, ``reward`` to ``"centred"``), plus
    ``dynamics`` (``"default"``, ``"control"``, an `EngagementDynamics`, or a mapping of component
    name to parameters; defaults argued in `recworld.simulators.dynamics`) and ``regret`` (True).

    ## Version History
    * v0: initial version. Since recworld 0.2 the step is compiled and its draws are counter-based
      (`recworld.numerics.counter`): the same distributions, other trajectories for a given seed.
      Since 0.2 too, the ordinal rating's normal CDF comes from a table (`recworld.numerics.normal`,
      absolute error under 5e-8): probabilities and expected ratings move in the seventh digit.
    """

    kernel_class = EngagementKernel


class EngagementVectorEnv(RecVectorEnv):
    """`EngagementEnv` for ``num_envs`` users at once (see its docstring)."""

    kernel_class = EngagementKernel
