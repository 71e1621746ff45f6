"""`recworld/ColdStart-v0`: recommendation to a new user, one item (or slate) per step."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from recworld.envs.base import Kernel, RecEnv, RecVectorEnv
from recworld.envs.compiled import (
    REWARD_KINDS,
    Packed,
    blocks,
    pack,
    preferences,
    recommend_autoreset_block,
    recommend_autoreset_blocks,
    recommend_step_blocks,
    recommend_step_packed,
    scores_of,
    start_recommendation,
)
from recworld.envs.rewards import REWARDS
from recworld.envs.world import World
from recworld.numerics.counter import uniforms
from recworld.simulators import ReplaySimulator, TabularSimulator
from recworld.simulators.choice import CHOICE_MODELS, Cascade, ChoiceModel, MultinomialLogit, PositionBased

Predictor = Callable[[np.ndarray], np.ndarray]


class RecommendationKernel(Kernel):
    """Recommend ``slate_size`` items per step to each user; the user takes some and rates them.

    With one item per step the user always rates it (explicit feedback, the seed paper's protocol)
    and ``click`` is decided by the choice model. With a slate the choice model decides which
    items the user takes; only taken items are rated. Items repeated within a slate count once;
    items shown earlier in the episode are not taken again (no reward; see ``action_masks``).
    """

    env_id = "recworld/ColdStart-v0"

    def __init__(
        self,
        world: World,
        batch: int,
        *,
        horizon: int = 20,
        slate_size: int = 1,
        window: int = 5,
        reward: str = "rating",
        choice_model: str | ChoiceModel = "mnl",
        predictor: Predictor | np.ndarray | None = None,
        candidates: str | None = None,
    ) -> None:
        super().__init__(world, batch, horizon, slate_size, window)
        self.rated = self.rated_only(
            candidates, horizon * slate_size, f"horizon {horizon} x slate_size {slate_size}"
        )
        if reward not in REWARDS:
            raise ValueError(f"{self.env_id}: reward={reward!r} is not one of {', '.join(REWARDS)}")
        self.reward = reward
        if isinstance(choice_model, str):
            if choice_model not in CHOICE_MODELS:
                raise ValueError(f"choice_model={choice_model!r} is not one of {', '.join(CHOICE_MODELS)}")
            self.choice: ChoiceModel = CHOICE_MODELS[choice_model]()
        else:
            self.choice = choice_model
        if predictor is None:
            self.surprise_baseline = world.item_mean_rating
        elif callable(predictor):
            self.surprise_baseline = np.asarray(predictor(np.arange(self.n_items)), dtype=np.float32)
        else:
            self.surprise_baseline = np.asarray(predictor, dtype=np.float32)
        if self.surprise_baseline.shape != (self.n_items,):
            raise ValueError(f"predictor must give one estimate per item, shape ({self.n_items},)")
        self.levels = np.asarray(world.simulator.rating_levels, dtype=np.float32)
        liked = np.flatnonzero(self.levels >= world.simulator.like_threshold)
        contiguous = len(liked) > 0 and liked[-1] - liked[0] == len(liked) - 1
        self.liked: slice | np.ndarray = slice(liked[0], liked[-1] + 1) if contiguous else liked
        self.like_threshold = float(world.simulator.like_threshold)
        self.scale = (float(self.levels.min()), float(self.levels.max()))
        self.pointer = np.zeros(batch, dtype=np.int64)  # into each user's list of best items
        self.top: tuple[np.ndarray, np.ndarray] | None = None  # the world's lists, fetched when needed
        self._compiled_arguments(world, batch)

    def _compiled_arguments(self, world: World, batch: int) -> None:
        """The world and the choice model as `recworld.envs.compiled.recommend_step` reads them."""
        sim, n_levels = world.simulator, len(self.levels)
        self.liked_levels = self.levels >= self.like_threshold
        self.reward_kind = REWARD_KINDS[self.reward]
        # latent scores: a fitted world's own table (row: the user), or, for a simulator of your own,
        # the population's scores (row: the member), whose rating probabilities then come from Python
        self.probs_in_python = not isinstance(sim, TabularSimulator | ReplaySimulator)
        if isinstance(sim, TabularSimulator):
            self.table, self.noise, self.thresholds = sim.scores, sim.noise, sim.thresholds
        elif isinstance(sim, ReplaySimulator):  # deterministic: a real rating is what it is
            self.table, self.noise = sim.scores, np.zeros(sim.n_users, dtype=np.float32)
            self.thresholds = ((self.levels[1:] + self.levels[:-1]) / 2).astype(np.float32)
        else:
            self.table, self.noise = world.population_scores(), np.zeros(0, dtype=np.float32)
            self.thresholds = np.zeros(n_levels - 1, dtype=np.float32)
        self.table_rows = np.zeros(batch, dtype=np.int64)
        self.sigma = np.zeros(batch, dtype=np.float32)
        self.probs = np.zeros((batch, self.slate_size, n_levels), dtype=np.float32)
        kinds = {MultinomialLogit: 0, Cascade: 1, PositionBased: 2}
        kind = kinds.get(type(self.choice), -1)  # -1: a model of your own, run in Python
        self.choice_parameters = np.array(
            [
                kind,
                getattr(self.choice, "temperature", 1.0),
                getattr(self.choice, "no_click_rating", 0.0),
                getattr(self.choice, "decay", 1.0),
            ],
            dtype=np.float64,
        )
        # Engagement's dynamics (none in a static world)
        self.dynamics_parameters = np.zeros(0)
        self.dynamic_state: tuple = (
            *(np.zeros((batch, 0), dtype=np.float32) for _ in range(3)),
            np.zeros(batch, dtype=np.float32),
            np.zeros(batch, dtype=np.int64),
        )
        self.best_given = np.zeros(batch)
        self.regret_in_python = False  # Engagement with a simulator of your own: `best_unseen` in Python
        self.probs_given = self.probs_in_python or kind < 0
        self.arguments: tuple | None = None  # recommend_step's, built at the first step
        self.no_clicks = np.zeros((batch, self.slate_size), dtype=bool)
        # what the compiled step writes: rewards, (terminated, truncated), info floats and counts
        self.outputs = (
            np.zeros(batch),
            np.zeros((2, batch), dtype=bool),
            np.zeros((len(self.info_floats), batch)),
            np.zeros((len(self.info_counts), batch), dtype=np.int64),
        )
        #: the step's info as views of the kernel's own arrays (`Kernel.step` without ``fresh``), made at
        #: the first step (a pickle would copy the views apart from the arrays)
        self.own_info: dict[str, np.ndarray] | None = None
        #: the vector environment's arrays in the packed ``"autoreset"`` arguments (`packed_autoreset`)
        self.autoreset_of: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {**super().__getstate__(), "own_info": None}

    def start(self, index: np.ndarray) -> None:
        start_recommendation(index, self.packed_start_recommendation())

    def packed_start_recommendation(self) -> Packed:
        """`recworld.envs.compiled.start_recommendation`'s packed arguments. On candidates="rated" only
        the films the user rated can be recommended: the rest count as shown."""
        packed = self.packed.get("start_recommendation")
        if packed is None:
            rows_of = self.member if self.probs_in_python else self.user
            rated = self.world.rated_mask() if self.rated else np.zeros((0, 0), dtype=bool)
            episode = (self.pointer, self.table_rows, rows_of, self.sigma, self.noise, self.user, self.member)
            dynamic = self.dynamics_parameters.size > 0
            items = (*episode, rated, self.shown, dynamic, self.dynamic_state)
            packed = self.packed["start_recommendation"] = pack(items)
        return packed

    # -------------------------------------------------------------- the truth, for regret and oracles
    def best_unseen(self) -> tuple[np.ndarray, np.ndarray]:
        """Each user's ``S`` best items not shown yet and their expected ratings, ``(B, S)`` each —
        the simulator's truth, for regret and for the oracle baseline. In a static world they come
        from precomputed lists (not a scan of the catalog): with one item per step, a pointer into
        each user's list moves past what was shown."""
        if self.top is None:
            self.top = self.world.top_items(self.horizon * self.slate_size + self.slate_size, self.rated)
        top, expected = self.top
        if self.slate_size == 1:
            # At most a few passes: the pointer only moves forward. It stops at the end of the list,
            # which only a user with no unseen candidate left reaches (a finished episode that a
            # vector environment steps once more before it restarts it; that step is discarded).
            last = top.shape[1] - 1
            while True:
                blocked = self.shown[self.rows, top[self.member, self.pointer]] & (self.pointer < last)
                if not blocked.any():
                    break
                self.pointer += blocked
            return top[self.member, self.pointer][:, None], expected[self.member, self.pointer][:, None]
        unseen = ~np.take_along_axis(self.shown, top[self.member], axis=1)
        first = np.argsort(~unseen, axis=1, kind="stable")[:, : self.slate_size]
        return np.take_along_axis(top[self.member], first, axis=1), np.take_along_axis(
            expected[self.member], first, axis=1
        )

    def regret_lists(self) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
        """How the compiled step finds the best unseen items (its ``regret_mode``) and the lists it
        reads: here each user's precomputed best items, ``(population, m)``, and their expected ratings."""
        if self.top is None:
            top, expected = self.world.top_items(self.horizon * self.slate_size + self.slate_size, self.rated)
            self.top = (top.astype(np.int32), expected)
        return 1, self.top[0], self.top[1], self.member

    # -------------------------------------------------------------- the step
    #: the info keys of the compiled step's float and count outputs, in the order of their rows
    info_floats: tuple[str, ...] = ("rating", "expected_rating", "regret")
    info_counts: tuple[str, ...] = ("clicks", "repeats")

    @functools.cached_property
    def info_keys(self) -> tuple[str, ...]:
        """The info's keys in the order of the step's output rows: the floats', the counts', ``user``."""
        return (*self.info_floats, *self.info_counts, "user")

    def step(
        self, actions: np.ndarray, fresh: bool = False
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        head, clicks, packed = self._before_step(actions)
        n_blocks = blocks(self.batch)
        if n_blocks > 1:
            recommend_step_blocks(actions, head, clicks, packed, n_blocks)
        else:
            recommend_step_packed(actions, head, clicks, packed)
        if self.keep_log:
            self._log(actions)
        return self._step_outputs(fresh)

    def step_autoreset(
        self, actions: np.ndarray, ended: np.ndarray, seeds: np.ndarray, episodes: np.ndarray
    ) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray], np.ndarray, bool]:
        # One compiled call (`recworld.envs.compiled.recommend_autoreset_block`): the step, the restarts
        # and the observation in one parallel region, with no Python between them.
        if self.keep_log:  # rendering: the plain path, which logs each step and clears restarted users' logs
            return super().step_autoreset(actions, ended, seeds, episodes)
        head, clicks, packed = self._before_step(actions)
        batch = self.batch
        buffer = self.layout.new()
        # the step's outputs, fresh: rewards and info floats, info counts and users, the three flags
        floats = np.empty((1 + len(self.info_floats), batch))
        counts = np.empty((len(self.info_counts) + 1, batch), dtype=np.int64)
        flags = np.empty((3, batch), dtype=bool)
        arguments = (actions, head, clicks, packed, self.packed_autoreset(ended, seeds, episodes), buffer)
        n_blocks = blocks(batch)
        if n_blocks > 1:
            reset = recommend_autoreset_blocks(*arguments, floats, counts, flags, n_blocks)
        else:
            reset = recommend_autoreset_block(0, 1, *arguments, floats, counts, flags)
        reward, *rows = floats
        terminated, truncated, stepped = flags
        info = self._info(*rows, *counts)  # (counts' last row: the users)
        return self.observation(buffer), reward, terminated, truncated, info, stepped, reset > 0

    def packed_autoreset(self, ended: np.ndarray, seeds: np.ndarray, episodes: np.ndarray) -> Packed:
        """`recworld.envs.compiled.recommend_autoreset_block`'s packed arguments for the vector
        environment's ``ended`` flags, ``seeds`` and ``episodes`` (made again when it replaces them)."""
        made = self.packed.get("autoreset")
        of = self.autoreset_of
        if made is None or of is None or of[0] is not ended or of[1] is not seeds or of[2] is not episodes:
            starts = (self.packed_start(), self.packed_start_recommendation(), self.packed_observe())
            made = self.packed["autoreset"] = pack((ended, (seeds, episodes), *starts, self.user))
            self.autoreset_of = (ended, seeds, episodes)
        return made

    def _before_step(self, actions: np.ndarray) -> tuple[int, np.ndarray, Packed]:
        """The ring's next head, the clicks (a choice model of your own: from Python) and the step's
        packed arguments; a simulator of your own answers (and finds the best unseen items) here."""
        head = self.history.advance()
        if self.arguments is None:
            self.arguments = self._step_arguments()
        packed = self.packed.get("step")
        if packed is None:
            packed = self.packed["step"] = pack(self.arguments)
        clicks = self._python_answers(actions) if self.probs_given else self.no_clicks
        if self.regret_in_python:
            self.best_given[:] = self.best_unseen()[1].sum(axis=1)
        return head, clicks, packed

    def _step_outputs(self, fresh: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """What the compiled step wrote: rewards, terminated, truncated and info (see `Kernel.step`)."""
        reward, done, floats, counts = self.outputs
        if not fresh:  # the kernel's own arrays: their views made once
            if self.own_info is None:
                self.own_info = self._info(*floats, *counts, self.user)
            return reward, done[0], done[1], self.own_info.copy()
        reward, done, floats, counts = reward.copy(), done.copy(), floats.copy(), counts.copy()
        return reward, done[0], done[1], self._info(*floats, *counts, self.user.copy())

    def _info(self, *rows: np.ndarray) -> dict[str, np.ndarray]:
        """The info: the step's output rows (its floats', its counts', the users) under `info_keys`."""
        return dict(zip(self.info_keys, rows, strict=True))

    def _step_arguments(self) -> tuple:
        """What `recommend_step` reads after the actions, the ring's head and the clicks: arrays the
        kernel updates in place, so the tuple is built once."""
        regret_mode, top, top_values, top_rows = self.regret_lists()
        return (
            self.table_rows,
            self.table,
            self.sigma,
            self.thresholds,
            self.levels,
            self.liked_levels,
            self.probs,
            self.probs_given,
            self.choice_parameters[0] < 0,
            self.keys,
            self.t,
            self.horizon,
            self.shown,
            self.choice_parameters,
            self.reward_kind,
            self.surprise_baseline,
            self.like_threshold,
            regret_mode,
            top,
            top_values,
            top_rows,
            self.pointer,
            self.history.ring(),
            self.world.item_features,
            self.dynamics_parameters,
            self.dynamic_state,
            self.world.genre_lists(),
            self.best_given,
            *self.outputs,
        )

    def _python_answers(self, actions: np.ndarray) -> np.ndarray:
        """For a simulator or a choice model of your own: the rating probabilities (into ``probs``) and,
        for a choice model of your own, the clicks, ``(B, S)``, from the same draws the compiled step uses."""
        state, genres = self.dynamic_state, self.world.genre_lists()
        shift = preferences(0, self.batch, self.dynamics_parameters, state[0], state[1])[0]
        scores = scores_of(0, self.batch, actions, self.table_rows, self.table, shift, genres)
        self.probs[...] = self.world.simulator.rating_probabilities(self.user, scores)
        if self.choice_parameters[0] >= 0:
            return np.zeros(actions.shape, dtype=bool)
        s = self.slate_size
        fresh = ~self.shown[self.rows[:, None], actions]
        if s > 1:
            fresh &= ~np.triu(actions[:, :, None] == actions[:, None, :], k=1).any(axis=1)
        expected = self.probs @ self.levels
        like = self.probs[..., self.liked_levels].sum(axis=-1)
        draws = uniforms(self.keys, np.minimum(self.t, self.horizon - 1), 2 * s)
        return np.asarray(
            self.choice.clicks(np.where(fresh, expected, -np.inf), np.where(fresh, like, 0.0), draws[:, s:]),
            dtype=bool,
        )

    def _log(self, items: np.ndarray) -> None:
        head, ring = self.history.head, self.history.responses
        for b in range(self.batch):  # rendering only: the step's answers, read back from the history
            for j, item in enumerate(items[b]):
                scaled, took = ring[b, head, j, 0], ring[b, head, j, 1] > 0
                answer = (
                    f"rated {self.scale[0] + scaled * (self.scale[1] - self.scale[0]):g}"
                    if took
                    else "skipped"
                )
                self.log[b].append(f"  t={self.t[b] - 1:>3}  {self.world.titles[item][:60]:<60}  {answer}")


class ColdStartEnv(RecEnv):
    """Recommendation to a new user, one item (or slate) per step.

    ## Description
    An episode is one cold-start user: by default a training user of the split (what anything that
    trains should meet), with ``users="test"`` a held-out user whose ratings never reach the training
    side (what evaluation meets: the benchmark asks for it), or a synthetic user drawn from the
    simulator's user density when ``users="synthetic"``. The agent recommends an item per step and
    sees the user's answer; it knows only the user's demographics at first, and must learn the
    user's taste from the answers.

    ## Action Space
    ``Discrete(n_items)``: the item to recommend, or ``MultiDiscrete([n_items] * slate_size)`` when
    ``slate_size > 1``. Repeats inside a slate are shown once; items shown earlier in the episode
    bring nothing (``action_masks()`` marks them).

    ## Observation Space
    A ``Dict`` of float32 ``Box`` es (flatten it with ``gymnasium.wrappers.FlattenObservation``):

    | key | shape | meaning |
    |---|---|---|
    | ``user`` | ``(d,)`` | standardised age, one-hot gender and occupation (in [-5, 5]) |
    | ``progress`` | ``(1,)`` | step / horizon |
    | ``recent_items`` | ``(window * S * (G + 1),)`` | genres and scaled year of the last items shown |
    | ``recent_responses`` | ``(window * S * 4,)`` | per item: rating in [0, 1], taken, shown, clicked |
    | ``history`` | ``(2 * (G + 1),)`` | mean features of all items shown; rating-weighted mean |

    Items are most recent first; ``G`` is the number of genres (19 on MovieLens).

    ## Rewards
    ``reward="rating"`` (default, sum of the ratings given), ``"centred"`` (rating minus the scale's
    midpoint), ``"like"`` (ratings >= 4), ``"click"`` (clicks under the choice model) or
    ``"surprise"`` (``max(0, rating - p_item)``, ``p`` from the ``predictor``, by default the item's
    mean training rating); defined once in `recworld.envs.rewards`.

    ## Starting State
    A user drawn from the population with the episode's generator; nothing shown yet.

    ## Episode End
    Truncation after ``horizon`` steps (default 20). There is no termination.

    ## Info
    Flat scalars: ``rating``, ``expected_rating`` (the simulator's, for evaluation only),
    ``regret`` (against the user's best unseen items, for evaluation only), ``clicks``,
    ``repeats``, ``user``.

    ## Arguments
    >>> import gymnasium as gym
    >>> env = gym.make("recworld/ColdStart-v0", reward="like", horizon=10)  # doctest: +SKIP

    | argument | default | meaning |
    |---|---|---|
    | ``dataset`` | ``"movielens-100k"`` | dataset name or directory |
    | ``simulator`` | ``"latent-factor"`` | family, ``"replay"`` (real ratings), saved dir, `Simulator` |
    | ``candidates`` | ``"all"`` | ``"rated"``: only the films the user rated (the default on replay) |
    | ``users`` | ``"train"`` | ``train``, ``validation``, ``test`` (held out), ``all``, ``synthetic`` |
    | ``split_seed`` / ``population_seed`` | 0 | seed of the user split / of synthetic users |
    | ``user_spread`` | 0 | with a family name: users drawn from their posterior (see `fit_simulator`) |
    | ``horizon`` | 20 | steps per episode |
    | ``slate_size`` | 1 | items per step |
    | ``choice_model`` | ``"mnl"`` | ``mnl``, ``cascade``, ``position`` or a `ChoiceModel` |
    | ``reward`` | ``"rating"`` | ``rating``, ``centred``, ``like``, ``click`` or ``surprise`` |
    | ``predictor`` | item means | estimates for ``surprise``: an array or a function of items |
    | ``window`` | 5 | steps kept in ``recent_*`` |
    | ``render_mode`` | None | ``"ansi"``: titles shown and the user's answers |

    On ``simulator="replay"`` (the real-data twin, `recworld.simulators.ReplaySimulator`) the truth is
    the user's own ratings: only the films they rated can be recommended (the action mask says so),
    and the reward comes from the rating they really gave. Each user needs ``horizon * slate_size``
    ratings. Agents run on it unchanged; ``recworld bench validate`` compares the two.

    ## Version History
    * v0: initial version. Since recworld 0.2 the step is compiled and its draws are counter-based
      (`recworld.numerics.counter`): the same distributions, other trajectories for a given seed.
      Since 0.2 too, the ordinal rating's normal CDF comes from a table (`recworld.numerics.normal`,
      absolute error under 5e-8): probabilities and expected ratings move in the seventh digit.
    """

    kernel_class = RecommendationKernel


class ColdStartVectorEnv(RecVectorEnv):
    """`ColdStartEnv` for ``num_envs`` users at once (see its docstring); sub-environment ``i``
    reset with seed ``s`` behaves exactly like ``ColdStartEnv`` reset with seed ``s + i``."""

    kernel_class = RecommendationKernel
