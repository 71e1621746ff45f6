"""`recworld/Elicitation-v0`: active learning — which questions teach a recommender most about a new user?"""

from __future__ import annotations

import numpy as np

from recworld.envs.base import Kernel, RecEnv, RecVectorEnv
from recworld.envs.recommender import Recommender, default_recommender
from recworld.envs.world import World
from recworld.numerics.metrics import dcg_at_k, exp_gain, masked_mae
from recworld.simulators.base import sample_levels

ELICITATION_REWARDS = ("mae", "ndcg")
MIN_SCORED = 5  # films left to score a replay user on after the last question


class ElicitationKernel(Kernel):
    """Ask one item per step; the user rates it if they know it, else says "don't know"."""

    draws_per_step = 2  # awareness, rating
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
        self.truth = np.zeros((batch, self.n_items), dtype=np.float32)
        self.gains = np.zeros((batch, self.n_items), dtype=np.float32)
        self.predicted = np.zeros((batch, self.n_items), dtype=np.float32)
        # The ideal list changes only when an asked item leaves the candidates, so the best
        # k + budget gains per user, found at reset, always contain it.
        self.ideal_items = np.zeros((batch, k + budget), dtype=np.int64)
        self.ndcg = np.zeros(batch)
        self.mae = np.zeros(batch)

    def start(self, index: np.ndarray) -> None:
        self.asked[index], self.answers[index], self.known[index] = 0, 0.0, False
        # Scored on the films the user did not rate in the data (a world's truth is known for every
        # film), or, on replay and its twin, on the films they rated and were not asked about.
        self.candidates[index] = not self.rated
        for b in index:  # at reset only
            self.candidates[b, self.world.population_rated[self.member[b]]] = self.rated
        self.truth[index] = self.world.expected_ratings()[self.member[index]]
        self.gains[index] = exp_gain(self.truth[index], self.scale[0])
        gains = np.where(self.candidates[index], self.gains[index], -np.inf)
        m = min(self.ideal_items.shape[1], self.n_items)
        self.ideal_items[index, :m] = np.argpartition(-gains, m - 1, axis=1)[:, :m]
        self.predicted[index] = self._predict(index)
        self.ndcg[index] = self._ndcg(index)
        self.mae[index] = self._mae(index, self.predicted[index])

    def _predict(self, rows: np.ndarray) -> np.ndarray:
        """The recommender's scores of every film from the answers so far (predicted ratings)."""
        return self.recommender.scores(
            self.world.population_features[self.member[rows]],
            self.asked[rows],
            self.answers[rows],
            self.known[rows],
        )

    def _mae(self, rows: np.ndarray, predicted: np.ndarray) -> np.ndarray:
        """Error of the predicted ratings (clipped to the scale) against the truth, over the candidates;
        ranking uses the raw scores (clipping would tie every film predicted above the top)."""
        return masked_mae(np.clip(predicted, *self.scale), self.truth[rows], self.candidates[rows])

    def _ndcg(self, rows: np.ndarray) -> np.ndarray:
        candidates, gains = self.candidates[rows], self.gains[rows]
        ideal_items = self.ideal_items[rows]
        ideal_candidates = np.take_along_axis(candidates, ideal_items, axis=1)
        ideal_gains = np.take_along_axis(gains, ideal_items, axis=1)
        ideal = dcg_at_k(ideal_gains, ideal_gains, ideal_candidates, self.k)
        dcg = dcg_at_k(self.predicted[rows], gains, candidates, self.k)
        return np.where(ideal > 0, dcg / np.maximum(ideal, 1e-12), 0.0)

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        item, everyone = actions[:, 0], np.arange(self.batch)
        sim = self.world.simulator
        repeat = self.shown[everyone, item]
        draws = self.draws()
        knows = (draws[:, 0] < sim.awareness(self.user, item)) & ~repeat
        probs = sim.distribution(self.user, item)
        rating = sample_levels(probs, self.levels, draws[:, 1])
        slot = np.minimum(self.t, self.horizon - 1)
        self.asked[everyone, slot] = item
        self.answers[everyone, slot] = rating
        self.known[everyone, slot] = knows
        self.shown[everyone, item] = True
        self.candidates[everyone, item] = False
        # MAE: before and after this answer, on the same films (those still to be predicted), so a
        # question pays only for what it teaches, never for removing a hard film from the score.
        before = self._mae(everyone, self.predicted)
        self.predicted = self._predict(everyone)
        mae = self._mae(everyone, self.predicted)
        ndcg = self._ndcg(everyone)
        reward = before - mae if self.reward == "mae" else ndcg - self.ndcg
        self.ndcg, self.mae = ndcg, mae
        self.history.record(
            self.world.item_features[item][:, None],
            rating[:, None],
            knows[:, None],
            np.ones((self.batch, 1), bool),
        )
        if self.keep_log:
            for b in range(self.batch):  # rendering only
                answer = f"rated {rating[b]:g}" if knows[b] else "don't know"
                self.log[b].append(f"  q{self.t[b] + 1:>2}  {self.world.titles[item[b]][:60]:<60}  {answer}")
        self.t += 1
        info = {
            "known": knows.astype(np.int64),
            "rating": np.where(knows, rating, 0.0),
            "expected_rating": probs @ self.levels,
            "ndcg": ndcg,
            "mae": mae,
            "repeats": repeat.astype(np.int64),
            "user": self.user.copy(),
        }
        return reward, self.t >= self.horizon, np.zeros(self.batch, dtype=bool), info


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
    * v0: initial version.
    """

    kernel_class = ElicitationKernel


class ElicitationVectorEnv(RecVectorEnv):
    """`ElicitationEnv` for ``num_envs`` users at once (see its docstring)."""

    kernel_class = ElicitationKernel
