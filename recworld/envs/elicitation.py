"""`recworld/Elicitation-v0`: active learning — which questions teach a recommender most about a new user?"""

from __future__ import annotations

import numpy as np

from recworld.envs.base import Kernel, RecEnv, RecVectorEnv
from recworld.envs.compiled import blocks, pack
from recworld.envs.elicitation_step import (
    elicitation_answers,
    elicitation_finish,
    elicitation_start_packed,
    elicitation_step_blocks,
    elicitation_step_packed,
)
from recworld.envs.recommender import FoldInRecommender, Recommender, default_recommender
from recworld.envs.world import World
from recworld.simulators import TabularSimulator

ELICITATION_REWARDS = ("mae", "ndcg")
MIN_SCORED = 5  # films left to score a replay user on after the last question


class ElicitationKernel(Kernel):
    """Ask one item per step; the user rates it if they know it, else says "don't know"."""

    env_id = "recworld/Elicitation-v0"

    def __init__(
        self,
        world: World,
        batch: int,
        *,
        budget: int = 10,
        window: int = 5,
        recommender: Recommender | None = None,
        k: int = 10,
        reward: str = "mae",
        candidates: str | None = None,
    ) -> None:
        if budget < 1:
            raise ValueError(f"budget must be at least 1 question, got {budget}")
        if not 1 <= k <= world.n_items:
            raise ValueError(f"k must be between 1 and {world.n_items}, got {k}")
        if reward not in ELICITATION_REWARDS:
            raise ValueError(
                f"{self.env_id}: reward={reward!r} is not one of {', '.join(ELICITATION_REWARDS)} "
                "(mae: the drop in the recommender's error; ndcg: the gain in its top-k list)"
            )
        super().__init__(world, batch, budget, 1, window)
        self.rated = self.rated_only(
            candidates, budget + MIN_SCORED, f"{budget} questions + {MIN_SCORED} to score"
        )
        self.recommender = recommender if recommender is not None else default_recommender(world)
        self.k, self.reward = k, reward
        self.levels = np.asarray(world.simulator.rating_levels, dtype=np.float32)
        self.scale = (float(self.levels.min()), float(self.levels.max()))
        self.asked = np.zeros((batch, budget), dtype=np.int64)
        self.answers = np.zeros((batch, budget), dtype=np.float32)
        self.known = np.zeros((batch, budget), dtype=bool)
        self.candidates = np.ones((batch, self.n_items), dtype=bool)  # the films the recommender is scored on
        # the population's truth (expected ratings), their gains and who rated what in the data
        self.truth = world.expected_ratings()
        self.gains = world.expected_gains()
        self.rated_table = world.rated_mask()
        self.predicted = np.zeros((batch, self.n_items), dtype=np.float32)
        # The ideal list changes only when an asked item leaves the candidates, so the best
        # k + budget candidates by gain, sorted at reset, always contain it.
        self.ideal_items = np.zeros((batch, min(k + budget, self.n_items)), dtype=np.int64)
        self.top = np.full((batch, k), -1, dtype=np.int64)  # the recommender's list
        self.error_sum = np.zeros(batch)  # the recommender's absolute error summed over the candidates
        self.n_candidates = np.zeros(batch, dtype=np.int64)
        self.ideal = np.zeros(batch)
        self.ndcg = np.zeros(batch)
        self.mae = np.zeros(batch)
        self._compiled_arguments(world, batch)
        # each member's start under the prior, kept after their first episode (fold-in only)
        population = len(world.population) if self.fold_in else 0
        self.start_cache = (
            np.zeros(population, dtype=bool),
            np.zeros((population, k), dtype=np.int64),
            np.zeros((population, self.ideal_items.shape[1]), dtype=np.int64),
            np.zeros((population, 4)),
            np.zeros(population, dtype=np.int64),
        )

    def _compiled_arguments(self, world: World, batch: int) -> None:
        """The world and the recommender as the compiled step reads them: a fitted world's tables and
        the default fold-in recommender's posterior, updated one answer at a time; the answers of a
        simulator of your own, and the predictions of a recommender of your own, come from Python."""
        sim, n_levels = world.simulator, len(self.levels)
        self.in_python = not isinstance(sim, TabularSimulator)  # replay's awareness is its rated table
        if isinstance(sim, TabularSimulator):
            self.table, self.noise, self.thresholds = sim.scores, sim.noise, sim.thresholds
            self.aware_user, self.aware_item = sim.aware_user, sim.aware_item
            self.aware_shape = np.array([sim.aware_preference, sim.score_center, sim.score_scale])
        else:
            self.table, self.noise = world.population_scores(), np.zeros(0, dtype=np.float32)
            self.thresholds = np.zeros(n_levels - 1, dtype=np.float32)
            self.aware_user = self.aware_item = np.zeros(0, dtype=np.float32)
            self.aware_shape = np.ones(3)
        self.table_rows = np.zeros(batch, dtype=np.int64)
        self.sigma = np.zeros(batch, dtype=np.float32)
        self.probs = np.zeros((batch, 1, n_levels), dtype=np.float32)
        self.awareness = np.zeros(batch, dtype=np.float32)
        self.fold_in = isinstance(self.recommender, FoldInRecommender)
        if self.fold_in:
            rec = self.recommender
            assert isinstance(rec, FoldInRecommender)
            self.design, self.offset = rec.design.astype(np.float64), rec.offset.astype(np.float64)
            self.design_t = np.ascontiguousarray(self.design.T, dtype=np.float32)
            d = self.design.shape[1]
            self.prior_inverse = np.linalg.inv(rec.prior.precision)
            self.prior_rhs = rec.prior.precision @ rec.prior.mean
            self.prior_prediction = (self.offset + self.design @ rec.prior.mean).astype(np.float32)
        else:
            self.design, self.offset, d = np.zeros((1, 1)), np.zeros(1), 1
            self.design_t = np.zeros((1, 1), dtype=np.float32)
            self.prior_prediction = np.zeros(0, dtype=np.float32)
            self.prior_inverse, self.prior_rhs = np.zeros((1, 1)), np.zeros(1)
        self.inverse = np.zeros((batch, d, d)) if self.fold_in else np.zeros((1, 1, 1))
        self.rhs = np.zeros((batch, d)) if self.fold_in else np.zeros((1, 1))
        # users whose fold-in has no answer yet: their posterior is the prior, their predictions
        # `prior_prediction` (their rows of inverse, rhs and predicted are written at their first answer)
        self.at_prior = np.zeros(batch, dtype=bool)
        self.arguments: tuple[tuple, tuple] | None = None  # the compiled step's, built at the first step
        # what the compiled step writes: rewards, terminated, info floats and counts
        self.outputs = (
            np.zeros(batch),
            np.zeros(batch, dtype=bool),
            np.zeros((4, batch)),
            np.zeros((2, batch), dtype=np.int64),
        )
        self.never = np.zeros(batch, dtype=bool)  # truncated: an episode ends only at its horizon

    def start(self, index: np.ndarray) -> None:
        # Scored on the films the user did not rate in the data (a world's truth is known for every
        # film), or, on replay and its twin, on the films they rated and were not asked about.
        packed = self.packed.get("start_elicitation")
        if packed is None:
            if self.arguments is None:
                self.arguments = self._step_arguments()
            scores = self.arguments[1][0][1]  # the recommender's metrics state
            rows_of = self.member if self.in_python else self.user
            answers = (self.asked, self.answers, self.known)
            episode = (
                *answers,
                self.table_rows,
                rows_of,
                self.sigma,
                self.noise,
                self.user,
                self.at_prior,
                self.fold_in,
            )
            items = (episode, self.rated_table, self.rated, self.prior_prediction, scores, self.start_cache)
            packed = self.packed["start_elicitation"] = pack(items)
        if self.fold_in:
            elicitation_start_packed(index, packed, clear=True, score=True)
        else:  # a recommender of your own predicts from no answers, between the two
            elicitation_start_packed(index, packed, clear=True, score=False)
            self.predicted[index] = self._predict(index)
            elicitation_start_packed(index, packed, clear=False, score=True)

    def predictions(self) -> np.ndarray:
        """The recommender's predicted rating of every film for each user, ``(B, n_items)``: a user with
        no answer yet (``at_prior``) has the prior's (their row of ``predicted`` is written at their
        first answer)."""
        if not self.fold_in:
            return self.predicted.copy()
        return np.where(self.at_prior[:, None], self.prior_prediction, self.predicted)

    def _predict(self, rows: np.ndarray) -> np.ndarray:
        """A recommender of your own: its scores of every film from the answers so far (predicted ratings)."""
        return self.recommender.scores(
            self.world.population_features[self.member[rows]],
            self.asked[rows],
            self.answers[rows],
            self.known[rows],
        )

    def step(
        self, actions: np.ndarray, fresh: bool = False
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        head = self.history.advance()
        item = actions[:, 0]
        if self.arguments is None:
            self.arguments = self._step_arguments()
        answer_arguments, finish_arguments = self.arguments
        if self.in_python:  # a simulator of your own (or replay): its answers from Python
            sim = self.world.simulator
            self.awareness[:] = sim.awareness(self.user, item)
            self.probs[:, 0] = sim.rating_probabilities(self.user, sim.score(self.user, item))
        if self.fold_in:
            packed = self.packed.get("step")
            if packed is None:
                packed = self.packed["step"] = pack((answer_arguments, finish_arguments))
            n_blocks = blocks(self.batch)
            if n_blocks > 1:
                elicitation_step_blocks(actions, head, packed, n_blocks)
            else:
                elicitation_step_packed(actions, head, packed)
        else:  # a recommender of your own sees every question (a "don't know" is an answer too)
            answered = elicitation_answers(0, self.batch, actions, *answer_arguments)
            given = self._predict(self.rows).astype(np.float32)
            everyone = np.ones(self.batch, dtype=bool)
            elicitation_finish(
                0, self.batch, actions, head, answered, everyone, False, given, *finish_arguments
            )
        reward, terminated, floats, counts = self.outputs
        if self.keep_log:
            for b in range(self.batch):  # rendering only
                answer = f"rated {floats[0, b]:g}" if counts[0, b] else "don't know"
                self.log[b].append(f"  q{self.t[b]:>2}  {self.world.titles[item[b]][:60]:<60}  {answer}")
        if fresh:  # each block copied once
            reward, terminated = reward.copy(), terminated.copy()
            floats, counts = floats.copy(), counts.copy()
        info = {
            "known": counts[0],
            "rating": floats[0],
            "expected_rating": floats[1],
            "ndcg": floats[2],
            "mae": floats[3],
            "repeats": counts[1],
            "user": self.user.copy() if fresh else self.user,
        }
        return reward, terminated, self.never.copy() if fresh else self.never, info

    def _step_arguments(self) -> tuple[tuple, tuple]:
        """What the compiled step reads: arrays the kernel updates in place, so the tuples are built once."""
        answer_arguments = (
            self.table_rows,
            self.table,
            self.sigma,
            self.thresholds,
            self.levels,
            self.probs,
            self.in_python,
            self.awareness,
            self.in_python,
            self.aware_user,
            self.aware_item,
            self.aware_shape,
            self.keys,
            self.t,
            self.horizon,
            self.shown,
            self.asked,
            self.answers,
            self.known,
        )
        posterior = (  # `recworld.envs.elicitation_step.POSTERIOR`
            self.design,
            self.design_t,
            self.offset,
            self.inverse,
            self.rhs,
            self.at_prior,
            self.prior_inverse,
            self.prior_rhs,
            self.prior_prediction,
        )
        scores = (  # `recworld.envs.elicitation_step.SCORES`
            self.member,
            self.predicted,
            self.truth,
            self.gains,
            self.candidates,
            self.ideal_items,
            self.top,
            self.error_sum,
            self.n_candidates,
            self.ideal,
            self.ndcg,
            self.mae,
            *self.scale,
        )
        mae_reward = self.reward == "mae"
        ring, features = self.history.ring(), self.world.item_features
        return answer_arguments, (
            (posterior, scores),
            ring,
            features,
            self.t,
            self.horizon,
            mae_reward,
            self.outputs,
        )


class ElicitationEnv(RecEnv):
    """Preference elicitation as active learning.

    ## Description
    A new user arrives; the agent has a budget of questions. Each step asks the user to rate an
    item. Like a real newcomer, the user can only rate films they know (the simulator's awareness
    model, fitted to who rated what); otherwise they say "don't know". A recommender turns the
    answers into a top-10 list for the user; the agent is rewarded for how much the answers improve
    that list.

    ## Action Space
    ``Discrete(n_items)``: the item to ask about. Asking twice teaches nothing (``action_masks()``).

    ## Observation Space
    As `ColdStartEnv` (``user``, ``progress``, ``recent_items``, ``recent_responses``, ``history``);
    the responses are ``[rating scaled to [0, 1] if answered, answered, asked]``.

    ## Rewards
    The recommender (``recommender=``, any object with the `Recommender` protocol's ``scores``,
    returning predicted ratings; the default is MF fold-in with an empirical-Bayes prior, fitted on
    the training users' observed ratings only) is scored on the *candidates*: the films the user did
    not rate in the data, or, with ``candidates="rated"`` and on replay, the films they rated; a film
    leaves the candidates once asked about.

    * ``reward="mae"`` (default): the drop in the mean absolute error of the recommender's predicted
      ratings against the user's true (expected) ratings over the candidates still to be predicted,
      before vs after the answer. This is how elicitation is measured in the literature (Rashid et al.
      2002; Elahi, Ricci and Rubens 2016), and it sees everything an answer teaches: most of what a
      few ratings tell about a new user is their rating bias, which moves every prediction and no
      ranking. With the default recommender an answer cannot raise the expected error in a world
      drawn from its own prior, so a question's reward is what it teaches.
    * ``reward="ndcg"``: the change in nDCG@``k`` (default 10) of the recommender's list over the
      candidates, with gains ``2^(r - 1) - 1`` of the true rating ``r``; per-step rewards sum to the
      final nDCG minus the nDCG before any question.

    ## Starting State
    A user drawn from the population; no questions asked.

    ## Episode End
    Termination when the budget of questions is spent (default 10).

    ## Info
    Flat scalars: ``known`` (1 if answered), ``rating`` (the answer, 0 if unknown), ``ndcg``, ``mae``,
    ``expected_rating`` of the asked item, ``repeats``, ``user``.

    ## Arguments
    >>> import gymnasium as gym
    >>> env = gym.make("recworld/Elicitation-v0", budget=5)  # doctest: +SKIP

    ``dataset``, ``simulator``, ``users``, ``split_seed``, ``n_synthetic``, ``population_seed``,
    ``user_spread``, ``window``, ``candidates`` and ``render_mode`` as in `ColdStartEnv`; ``budget``
    (10), ``recommender``, ``k`` (10), ``reward`` (``"mae"`` or ``"ndcg"``).

    On ``simulator="replay"`` (the real-data twin) a user answers a question exactly when they rated
    the film, with the rating they gave, and the recommender is scored against their real ratings
    of the films not asked about; each user needs ``budget + 5`` ratings.

    ## Version History
    * v0: initial version. Since recworld 0.2 the step is compiled and its draws are counter-based
      (`recworld.numerics.counter`): the same distributions, other trajectories for a given seed.
      Since 0.2 too, the ordinal rating's normal CDF comes from a table (`recworld.numerics.normal`,
      absolute error under 5e-8): probabilities and expected ratings move in the seventh digit.
    """

    kernel_class = ElicitationKernel


class ElicitationVectorEnv(RecVectorEnv):
    """`ElicitationEnv` for ``num_envs`` users at once (see its docstring)."""

    kernel_class = ElicitationKernel
