"""Feedback RL for ColdStart and Engagement: tabular Q-learning and SARSA, and linear Q-learning.

The catalog (1,682 items on MovieLens-100K) is too large an action set for a table, so the agents
choose a *genre* and `GenreActions` maps it to items: the most popular items of that genre among
the training users that the user has not been shown yet (for slates, the ``S`` most popular,
filled with the most popular other items when the genre runs out). Genres with nothing left to
show are not chosen.

The tabular state (`TabularRL.state`) is ``last genre x last rating x recent rating``:

* the genre the agent chose at the previous step (or "none" at the start): ``G + 1`` values;
* the mean rating of what the user took at the previous step: none taken, low (below
  ``like_threshold - 1``), middle, or liked (at least ``like_threshold``): 4 values;
* an exponential average of the ratings taken so far (rate 0.3, starting at
  ``like_threshold - 0.5``): below ``like_threshold - 0.75``, up to ``like_threshold - 0.25``,
  above: 3 values;

``(G + 1) * 12`` states (240 on MovieLens). Engagement's hidden boredom and satisfaction show in
the ratings, which is what the rating buckets are for.

Learning is from ``Responses.signal`` (the environment's reward) at the next step, as the `Agent`
protocol does it; a batch's temporal-difference errors that hit one table entry are averaged.
The final response of an episode reaches the agent only inside `fit` (whose loop sees the final
observation and whether the user left); in a plain ``act`` loop the last step of each episode is
not learned from.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

import gymnasium
import numpy as np

from recworld.agents.base import Agent, Responses, top_allowed, training_seed
from recworld.agents.checks import check_float, check_int
from recworld.envs.context import EnvContext, env_context

EMA_RATE = 0.3


class OfflineRL(Agent):
    """A learner trained before evaluation by `fit`'s loop on the training users; subclasses learn
    online in `act` and from each episode's final response in `finish`."""

    learns_offline = True
    families = frozenset({"rl"})
    training = False  # True inside `fit` (agents that explore only while training read it)

    def __init__(self, seed: int, alpha: float, gamma: float, epsilon: float, n_envs: int) -> None:
        super().__init__(seed)
        self.alpha = check_float("alpha", alpha, 0.0, 1.0, open_low=True)
        self.gamma = check_float("gamma", gamma, 0.0, 1.0, open_high=True)
        self.epsilon = check_float("epsilon", epsilon, 0.0, 1.0)
        self.n_envs = check_int("n_envs", n_envs, 1, 1024)

    def fit(self, env_id: str, env_kwargs: dict[str, Any], timesteps: int) -> list[tuple[int, float]]:
        """Run ``timesteps`` steps (summed over ``n_envs`` users) on the training users, learning online."""
        timesteps = check_int("timesteps", timesteps, 0)
        env: Any = gymnasium.make_vec(
            env_id,
            num_envs=self.n_envs,
            vectorization_mode="vector_entry_point",
            **{**env_kwargs, "users": "train"},
        )
        self.training = True
        try:
            self.bind(env_context(env), self.n_envs)
            observation, _ = env.reset(seed=training_seed(self.seed))
            starting = np.ones(self.n_envs, dtype=bool)
            restarted = np.zeros(self.n_envs, dtype=bool)
            returns, finished, curve = np.zeros(self.n_envs), [], []
            every, done_steps = max(timesteps // 20, 1), 0
            while done_steps < timesteps:
                actions = self.act(observation, env.action_masks(), starting | restarted)
                observation, reward, terminated, truncated, _ = env.step(actions)
                live = ~restarted  # a sub-environment reset in this step ignored its action
                returns += reward * live
                ended = (terminated | truncated) & live
                if ended.any():
                    self.finish(observation, np.flatnonzero(ended), terminated[ended])
                    finished.extend(returns[ended].tolist())
                    returns[ended] = 0.0
                before = done_steps
                done_steps += int(live.sum())
                if done_steps // every > before // every and finished:
                    curve.append((done_steps, float(np.mean(finished))))
                    finished = []
                # The step after an episode ends resets that user and ignores its action (next-step
                # autoreset), so the user starts afresh at that step and again at the one after.
                starting, restarted = restarted, ended
        finally:
            self.training = False
            env.close()
        return curve

    @abstractmethod
    def finish(self, observation: dict[str, np.ndarray], users: np.ndarray, terminated: np.ndarray) -> None:
        """Learn from the final response of the episodes of ``users`` (no bootstrap if the user left)."""


class GenreActions:
    """Genre-level actions mapped to items by training popularity (see the module docstring)."""

    def __init__(self, context: EnvContext) -> None:
        g = context.n_genres
        self.member = context.item_features[:, :g] > 0.5  # (n_items, G)
        counts = np.bincount(context.train_data.item, minlength=context.n_items).astype(np.float64)
        self.popularity = counts + 1e-3 * context.item_mean_rating  # ties broken by mean rating
        self.order = np.argsort(-self.popularity, kind="stable")
        self.member_by_popularity = self.member[self.order]
        self.slate_size = context.slate_size

    def available(self, allowed: np.ndarray) -> np.ndarray:
        """``(B, G)``: genres with at least one allowed item."""
        return (allowed.astype(np.float32) @ self.member.astype(np.float32)) > 0

    def candidates(self, allowed: np.ndarray) -> np.ndarray:
        """``(B, G)``: each genre's most popular allowed item (0 where none is left)."""
        hits = allowed[:, self.order][:, :, None] & self.member_by_popularity[None]  # (B, n, G)
        return np.asarray(self.order[hits.argmax(axis=1)])

    def items(self, genres: np.ndarray, allowed: np.ndarray) -> np.ndarray:
        """``(B, S)`` items for the chosen ``genres`` ``(B,)``."""
        in_genre = self.member[:, genres].T  # (B, n_items)
        scores = in_genre * (2.0 * self.popularity.max() + 1.0) + self.popularity
        return top_allowed(scores, allowed, self.slate_size)


class GenreRL(OfflineRL):
    """Shared part of the genre-level learners: per-user memory and acting."""

    def __init__(
        self,
        seed: int = 0,
        alpha: float = 0.1,
        gamma: float = 0.9,
        epsilon: float = 0.1,
        n_envs: int = 8,
    ) -> None:
        super().__init__(seed, alpha, gamma, epsilon, n_envs)
        self.trained_for: tuple[int, int] | None = None  # (n_items, n_genres) of the learned values

    # ------------------------------------------------------------------ per context and user
    def prepare(self, context: EnvContext) -> None:
        self.actions = GenreActions(context)
        self.n_genres = context.n_genres
        self.like = float(context.like_threshold)
        self.low, self.high = float(context.rating_levels.min()), float(context.rating_levels.max())
        b, g = self.batch, context.n_genres
        self.genre = np.full(b, g, dtype=np.int64)  # the last chosen genre; g = none
        self.last_bucket = np.zeros(b, dtype=np.int64)
        self.average = np.zeros(b)
        self.reward = np.zeros(b)
        self.pending = np.zeros(b, dtype=bool)
        self.last_rating = np.zeros(b)
        self.recent_genres = np.zeros((b, g))
        if self.trained_for != (context.n_items, g):
            self.initialise(context)
            self.trained_for = (context.n_items, g)

    @abstractmethod
    def initialise(self, context: EnvContext) -> None:
        """Fresh learned values for a catalog of this shape."""

    def begin(self, index: np.ndarray) -> None:
        self.genre[index] = self.n_genres
        self.last_bucket[index] = 0
        self.average[index] = self.like - 0.5
        self.last_rating[index] = 0.0
        self.recent_genres[index] = 0.0
        self.pending[index] = False

    def update(self, responses: Responses) -> None:
        users, taken = responses.users, responses.taken
        n_taken = taken.sum(axis=1)
        mean = (responses.ratings * taken).sum(axis=1) / np.maximum(n_taken, 1)
        took = n_taken > 0
        bucket = np.where(mean >= self.like, 3, np.where(mean >= self.like - 1, 2, 1))
        self.last_bucket[users] = np.where(took, bucket, 0)
        self.last_rating[users] = np.where(took, (mean - self.low) / (self.high - self.low), 0.0)
        self.average[users] = np.where(
            took, (1 - EMA_RATE) * self.average[users] + EMA_RATE * mean, self.average[users]
        )
        shown = self.actions.member[responses.items].sum(axis=1)  # (n, G) genres of what was shown
        self.recent_genres[users] = 0.7 * self.recent_genres[users] + shown
        self.reward[users] = responses.signal.sum(axis=1)
        self.pending[users] = True

    # ------------------------------------------------------------------ acting
    def choose(self, observation: dict[str, np.ndarray], allowed: np.ndarray) -> np.ndarray:
        available = self.actions.available(allowed)
        available |= ~available.any(axis=1, keepdims=True)  # nothing left at all: any genre
        values = self.values(observation, allowed, available)  # (B, G)
        learners = np.flatnonzero(self.pending)
        genres = self.policy(values, available)
        if len(learners):
            self.td_update(learners, values[learners], genres[learners], available[learners], terminal=None)
        self.pending[:] = False
        self.genre = genres
        return self.actions.items(genres, allowed)

    def policy(self, values: np.ndarray, available: np.ndarray) -> np.ndarray:
        """epsilon-greedy over the available genres, ties broken at random; ``(B,)``."""
        noise = self.rng.random(values.shape)
        greedy = np.where(available, values + 1e-9 * noise, -np.inf).argmax(axis=1)
        uniform = np.where(available, noise, -np.inf).argmax(axis=1)
        explore = self.rng.random(len(values)) < self.epsilon
        return np.where(explore, uniform, greedy)

    @abstractmethod
    def values(
        self, observation: dict[str, np.ndarray], allowed: np.ndarray, available: np.ndarray | None
    ) -> np.ndarray:
        """``(B, G)`` action values in the current state; also remembers what `td_update` needs."""

    def td_update(
        self,
        users: np.ndarray,
        next_values: np.ndarray,
        next_genres: np.ndarray,
        next_available: np.ndarray,
        terminal: np.ndarray | None,
    ) -> None:
        """One temporal-difference step for ``users``' pending transitions (``terminal``: no bootstrap)."""
        following = self.bootstrap(next_values, next_genres, next_available)
        if terminal is not None:
            following = np.where(terminal, 0.0, following)
        self.learn_toward(users, following)

    @abstractmethod
    def learn_toward(self, users: np.ndarray, following: np.ndarray) -> None:
        """Move the value of ``users``' pending transitions toward ``reward + gamma * following``
        (``following``: the next state's value, 0 where the episode ended)."""

    def bootstrap(
        self, next_values: np.ndarray, next_genres: np.ndarray, next_available: np.ndarray
    ) -> np.ndarray:
        """Q-learning's target value of the next state: the best available action."""
        return np.where(next_available, next_values, -np.inf).max(axis=1)

    def finish(self, observation: dict[str, np.ndarray], users: np.ndarray, terminated: np.ndarray) -> None:
        self.update(self._responses(observation, users))
        allowed = ~self.shown
        available = self.actions.available(allowed)[users]
        available |= ~available.any(axis=1, keepdims=True)
        values = self.values(observation, allowed, None)[users]
        genres = self.policy(values, available)
        self.td_update(users, values, genres, available, terminal=terminated)
        self.pending[users] = False


class TabularRL(GenreRL):
    """A Q table over the documented state (`GenreRL` subclasses differ only in the target)."""

    def initialise(self, context: EnvContext) -> None:
        self.q = np.zeros(((context.n_genres + 1) * 12, context.n_genres))
        self.visits = np.zeros(self.q.shape, dtype=np.int64)
        self.state_now = np.zeros(0, dtype=np.int64)
        self.state_before = np.zeros(self.batch, dtype=np.int64)

    def prepare(self, context: EnvContext) -> None:
        super().prepare(context)
        self.state_before = np.zeros(self.batch, dtype=np.int64)

    def state(self) -> np.ndarray:
        """``(B,)`` state index: ``(genre * 4 + last rating bucket) * 3 + recent average bucket``."""
        average = np.digitize(self.average, [self.like - 0.75, self.like - 0.25])
        return (self.genre * 4 + self.last_bucket) * 3 + average

    def values(
        self, observation: dict[str, np.ndarray], allowed: np.ndarray, available: np.ndarray | None
    ) -> np.ndarray:
        self.state_now = self.state()
        # An action never tried in a state is valued at the mean of the tried ones: neither
        # optimistic nor pessimistic, so greedy choices compare genres instead of sticking to the
        # first one that paid anything.
        return np.where(self.visits[self.state_now] > 0, self.q[self.state_now], self.prior_value())

    def prior_value(self) -> float:
        """The value of untried state-action pairs: the mean of the tried ones (0 before any)."""
        tried = self.visits > 0
        return float(self.q[tried].mean()) if tried.any() else 0.0

    def choose(self, observation: dict[str, np.ndarray], allowed: np.ndarray) -> np.ndarray:
        items = super().choose(observation, allowed)
        self.state_before = self.state_now
        return items

    def learn_toward(self, users: np.ndarray, following: np.ndarray) -> None:
        cell = self.state_before[users] * self.n_genres + self.genre[users]
        current = np.where(self.visits.flat[cell] > 0, self.q.flat[cell], self.prior_value())
        error = self.reward[users] + self.gamma * following - current
        total = np.bincount(cell, weights=error, minlength=self.q.size)
        count = np.bincount(cell, minlength=self.q.size)
        hit = np.flatnonzero(count > 0)
        start = np.where(self.visits.flat[hit] > 0, self.q.flat[hit], self.prior_value())
        self.q.flat[hit] = start + self.alpha * total[hit] / count[hit]
        self.visits.flat[hit] += count[hit]


class QLearningAgent(TabularRL):
    """Tabular Q-learning over genres (module docstring: state, actions, learning).

    Parameters: ``alpha`` (0, 1] step size; ``gamma`` [0, 1) discount; ``epsilon`` [0, 1]
    exploration (in `fit` and online); ``n_envs`` 1..1024 training users at once in `fit`.
    """

    name = "q-learning"


class SarsaAgent(TabularRL):
    """Tabular SARSA over genres: the target uses the action the policy takes next (on-policy).

    Parameters as for ``q-learning``.
    """

    name = "sarsa"

    def bootstrap(
        self, next_values: np.ndarray, next_genres: np.ndarray, next_available: np.ndarray
    ) -> np.ndarray:
        return np.take_along_axis(next_values, next_genres[:, None], axis=1)[:, 0]


class LinearQAgent(GenreRL):
    """Q-learning with a linear value ``Q(s, a) = w . phi(s, a)`` shared by all genres.

    ``phi(s, a)`` (all in [0, 1] or small): a constant; the last rating (scaled) and the recent
    average; the episode's progress; the genre one-hot; whether ``a`` is the last genre; how often
    ``a`` was shown lately (decayed count, the boredom proxy); and, for the item that ``a`` maps to,
    its mean training rating (scaled) and its log popularity (scaled). Semi-gradient TD(0) with the
    batch's errors averaged.

    Parameters: ``alpha`` (0, 1] step size (default 0.01); ``gamma``, ``epsilon``, ``n_envs`` as
    for ``q-learning``.
    """

    name = "linear-q"

    def __init__(
        self,
        seed: int = 0,
        alpha: float = 0.01,
        gamma: float = 0.9,
        epsilon: float = 0.1,
        n_envs: int = 8,
    ) -> None:
        super().__init__(seed, alpha=alpha, gamma=gamma, epsilon=epsilon, n_envs=n_envs)

    def initialise(self, context: EnvContext) -> None:
        self.weights = np.zeros(context.n_genres + 8)

    def prepare(self, context: EnvContext) -> None:
        super().prepare(context)
        mean = context.item_mean_rating.astype(np.float64)
        self.item_rating = (mean - self.low) / (self.high - self.low)
        pop = np.log1p(np.bincount(context.train_data.item, minlength=context.n_items))
        self.item_popularity = pop / max(pop.max(), 1.0)
        self.features_before = np.zeros((self.batch, len(self.weights)))
        self.features_now = np.zeros((self.batch, context.n_genres, len(self.weights)))

    def features(self, observation: dict[str, np.ndarray], allowed: np.ndarray) -> np.ndarray:
        """``(B, G, F)`` features of every genre action in the current state."""
        b, g = self.batch, self.n_genres
        candidates = self.actions.candidates(allowed)  # (B, G)
        progress = np.asarray(observation["progress"], dtype=np.float64).reshape(b, -1)[:, :1]
        average = (self.average - self.low) / (self.high - self.low)
        state = np.column_stack([np.ones(b), self.last_rating, average, progress[:, 0]])  # (B, 4)
        recent = self.recent_genres / (1.0 + self.recent_genres)
        per_action = np.stack(
            [
                (np.arange(g)[None, :] == self.genre[:, None]).astype(np.float64),
                recent,
                self.item_rating[candidates],
                self.item_popularity[candidates],
            ],
            axis=-1,
        )  # (B, G, 4)
        one_hot = np.broadcast_to(np.eye(g), (b, g, g))
        return np.concatenate([np.broadcast_to(state[:, None, :], (b, g, 4)), one_hot, per_action], axis=-1)

    def values(
        self, observation: dict[str, np.ndarray], allowed: np.ndarray, available: np.ndarray | None
    ) -> np.ndarray:
        self.features_now = self.features(observation, allowed)
        return np.asarray(self.features_now @ self.weights)

    def choose(self, observation: dict[str, np.ndarray], allowed: np.ndarray) -> np.ndarray:
        items = super().choose(observation, allowed)
        self.features_before = self.features_now[np.arange(self.batch), self.genre]
        return items

    def learn_toward(self, users: np.ndarray, following: np.ndarray) -> None:
        phi = self.features_before[users]
        error = self.reward[users] + self.gamma * following - phi @ self.weights
        error = np.clip(error, -10.0, 10.0)  # keeps early, badly scaled errors from diverging
        self.weights += self.alpha * (error[:, None] * phi).mean(axis=0)


class SlateQAgent(OfflineRL):
    """SlateQ-style item-level Q-learning (Ie et al., IJCAI 2019): a linear long-term value per item,
    ``Q(s, i) = w . phi(s, i)``, learned on each item a user took from that item's own reward; a
    slate is the ``S`` items of highest ``Q`` (SlateQ's top-k choice), one item the one of highest ``Q``.

    ``phi(s, i)``: a constant; the item's reward estimate shared by every user (popularity-informed
    prior from the training users, corrected by every response, as the item bandits keep it),
    standardised; two *repetition* features, how much of the item's genre profile this user took
    lately (``sum(min(recent, g))`` over exponential averages of taken profiles with memories
    ``memory`` and ``memory / 3``); and two state features, an exponential average of the user's
    recent rewards (standardised) and the episode's progress. The weights start at "greedy on the
    shared estimate" (a bandit's choice) and TD learning moves them toward the long-run value: a
    repetition weight that turns negative is the agent learning that wearing a user out costs later.

    Parameters: ``alpha`` (0, 1] step size (default 0.05); ``gamma`` [0, 1) discount (0.95);
    ``epsilon`` [0, 1] exploration while training in `fit` (evaluation is greedy); ``n_envs``
    1..1024 training users at once; ``memory`` (0, 1] (0.3); ``prior_strength`` > 0 (10, as the item
    bandits).
    """

    name = "slate-q"
    n_features = 6

    def __init__(
        self,
        seed: int = 0,
        alpha: float = 0.05,
        gamma: float = 0.95,
        epsilon: float = 0.1,
        n_envs: int = 16,
        memory: float = 0.3,
        prior_strength: float = 10.0,
    ) -> None:
        super().__init__(seed, alpha, gamma, epsilon, n_envs)
        self.memory = check_float("memory", memory, 0.0, 1.0, open_low=True)
        self.prior_strength = check_float("prior_strength", prior_strength, 0.0, open_low=True)
        self.weights = np.zeros(self.n_features)
        self.weights[1] = 1.0  # greedy on the shared reward estimate; kept from `fit` to evaluation

    def prepare(self, context: EnvContext) -> None:
        from recworld.agents.bandits import popularity_prior

        mean, counts, self.noise = popularity_prior(context)
        self.pulls = np.minimum(counts, self.prior_strength) + 1.0
        self.total = self.pulls * mean
        self.center = float(np.median(mean))
        genres = context.item_features[:, : context.n_genres].astype(np.float64)
        self.profiles = genres / np.maximum(genres.sum(axis=1, keepdims=True), 1.0)
        b, g, s = self.batch, context.n_genres, context.slate_size
        self.recent = np.zeros((2, b, g))
        self.average = np.zeros(b)
        self.slot_reward = np.zeros((b, s))
        self.slot_taken = np.zeros((b, s), dtype=bool)
        self.pending = np.zeros(b, dtype=bool)
        self.phi_before = np.zeros((b, s, self.n_features))

    def begin(self, index: np.ndarray) -> None:
        self.recent[:, index] = 0.0
        self.average[index] = 0.0
        self.pending[index] = False

    def update(self, responses: Responses) -> None:
        users, taken = responses.users, responses.taken
        np.add.at(self.pulls, responses.items.ravel(), 1.0)
        np.add.at(self.total, responses.items.ravel(), responses.signal.ravel())
        took = np.einsum("ns,nsg->ng", taken.astype(np.float64), self.profiles[responses.items])
        for k, rate in enumerate((self.memory, self.memory / 3)):
            self.recent[k, users] = (1 - rate) * self.recent[k, users] + rate * took
        self.slot_reward[users] = responses.signal
        self.slot_taken[users] = taken
        step_reward = responses.signal.sum(axis=1) / self.noise
        self.average[users] = (1 - EMA_RATE) * self.average[users] + EMA_RATE * step_reward
        self.pending[users] = True

    def features(self, observation: dict[str, np.ndarray]) -> np.ndarray:
        """``(B, n_items, F)``: the features of every item in each user's current state."""
        b, n = self.batch, len(self.pulls)
        estimate = (self.total / self.pulls - self.center) / self.noise
        # how much of each item's genre profile the user took lately (histogram intersection)
        repetition = np.minimum(self.recent[:, :, None, :], self.profiles[None, None]).sum(axis=-1)
        progress = np.asarray(observation["progress"], dtype=np.float64).reshape(b, -1)[:, 0]
        phi = np.empty((b, n, self.n_features))
        phi[..., 0] = 1.0
        phi[..., 1] = estimate
        phi[..., 2] = repetition[0]
        phi[..., 3] = repetition[1]
        phi[..., 4] = self.average[:, None]
        phi[..., 5] = progress[:, None]
        return phi

    def choose(self, observation: dict[str, np.ndarray], allowed: np.ndarray) -> np.ndarray:
        assert self.context is not None
        self.phi_now = self.features(observation)
        values = np.where(allowed, self.phi_now @ self.weights, -np.inf)
        learners = np.flatnonzero(self.pending)
        if len(learners):
            self.td_update(learners, values[learners].max(axis=1), terminal=None)
        self.pending[:] = False
        if self.training and self.epsilon > 0:
            explore = self.rng.random(self.batch) < self.epsilon
            values = np.where(
                explore[:, None], np.where(allowed, self.rng.random(allowed.shape), -np.inf), values
            )
        items = top_allowed(values, allowed, self.context.slate_size)
        self.phi_before = np.take_along_axis(self.phi_now, items[:, :, None], axis=1)  # (B, S, F)
        return items

    def td_update(self, users: np.ndarray, following: np.ndarray, terminal: np.ndarray | None) -> None:
        """One semi-gradient step for ``users``' pending transitions, on each item the user took:
        its own reward plus the discounted value of the next state's best item (for one item per
        step, Q-learning; for slates, SlateQ's item-wise update with the best item's value standing
        in for the choice-weighted value of the next slate)."""
        following = np.where(np.isfinite(following), following, 0.0)
        if terminal is not None:
            following = np.where(terminal, 0.0, following)
        phi = self.phi_before[users]  # (n, S, F)
        target = self.slot_reward[users] / self.noise + self.gamma * following[:, None]
        error = np.clip(target - phi @ self.weights, -10, 10) * self.slot_taken[users]
        count = max(int(self.slot_taken[users].sum()), 1)
        self.weights += self.alpha * np.einsum("ns,nsf->f", error, phi) / count

    def finish(self, observation: dict[str, np.ndarray], users: np.ndarray, terminated: np.ndarray) -> None:
        self.update(self._responses(observation, users))
        allowed = ~self.shown[users]
        values = np.where(allowed, self.features(observation)[users] @ self.weights, -np.inf)
        self.td_update(users, values.max(axis=1), terminal=terminated)
        self.pending[users] = False
