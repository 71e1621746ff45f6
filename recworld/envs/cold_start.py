"""`recworld/ColdStart-v0`: recommendation to a new user, one item (or slate) per step."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from recworld.envs.base import Kernel, RecEnv, RecVectorEnv
from recworld.envs.rewards import REWARDS, reward_signal
from recworld.envs.world import World
from recworld.simulators.base import sample_levels
from recworld.simulators.choice import CHOICE_MODELS, ChoiceModel

Predictor = Callable[[np.ndarray], np.ndarray]


class RecommendationKernel(Kernel):
    """Recommend ``slate_size`` items per step to each user; the user takes some and rates them.

    With one item per step the user always rates it (explicit feedback, the seed paper's protocol)
    and ``click`` is decided by the choice model. With a slate the choice model decides which
    items the user takes; only taken items are rated. Items repeated within a slate count once;
    items shown earlier in the episode are not taken again (no reward; see ``action_masks``).
    """

    extra_draws = 0  # uniforms per step beyond the 2 per slot (rating and choice)
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
        self.draws_per_step = 2 * slate_size + self.extra_draws
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
            self.predicted = world.item_mean_rating
        elif callable(predictor):
            self.predicted = np.asarray(predictor(np.arange(self.n_items)), dtype=np.float32)
        else:
            self.predicted = np.asarray(predictor, dtype=np.float32)
        if self.predicted.shape != (self.n_items,):
            raise ValueError(f"predictor must give one estimate per item, shape ({self.n_items},)")
        self.levels = np.asarray(world.simulator.rating_levels, dtype=np.float32)
        liked = np.flatnonzero(self.levels >= world.simulator.like_threshold)
        contiguous = len(liked) > 0 and liked[-1] - liked[0] == len(liked) - 1
        self.liked: slice | np.ndarray = slice(liked[0], liked[-1] + 1) if contiguous else liked
        self.like_threshold = float(world.simulator.like_threshold)
        self.scale = (float(self.levels.min()), float(self.levels.max()))
        self.pointer = np.zeros(batch, dtype=np.int64)  # into each user's list of best items
        self.top: tuple[np.ndarray, np.ndarray] | None = None  # the world's lists, fetched when needed

    def start(self, index: np.ndarray) -> None:
        self.pointer[index] = 0
        if self.rated:  # only the films the user rated can be recommended: the rest count as shown
            self.shown[index] = True
            for b in index:  # at reset only
                self.shown[b, self.world.population_rated[self.member[b]]] = False

    # -------------------------------------------------------------- hooks for Engagement
    def score_shift(self, items: np.ndarray) -> np.ndarray | None:
        """Dynamics' shift of the scores of ``items`` ``(B, S)``; none in a static world."""
        return None

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

    def best_unseen_expected(self) -> np.ndarray | None:
        """Expected ratings of the best unseen items, for regret (None skips regret)."""
        return self.best_unseen()[1]

    def after_step(self, items: np.ndarray, ratings: np.ndarray, taken: np.ndarray) -> np.ndarray:
        """Update user state; return who ends the episode by leaving (never, in a static world)."""
        return np.zeros(self.batch, dtype=bool)

    # -------------------------------------------------------------- the step
    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        items, s, rows = actions, self.slate_size, self.rows[:, None]
        fresh = ~self.shown[rows, items]  # neither shown earlier nor (below) repeated in the slate
        if s > 1:
            fresh &= ~np.triu(items[:, :, None] == items[:, None, :], k=1).any(axis=1)
        best_expected = self.best_unseen_expected()

        probs = self.world.simulator.rating_probabilities(self.user, self._scores(items))
        expected = probs @ self.levels
        like = probs[..., self.liked].sum(axis=-1)
        draws = self.draws()
        ratings = sample_levels(probs, self.levels, draws[:, :s])
        clicks = self.choice.clicks(
            np.where(fresh, expected, -np.inf), np.where(fresh, like, 0.0), draws[:, s : 2 * s]
        )
        clicks &= fresh
        taken = fresh if s == 1 else clicks
        n_fresh = fresh.sum(axis=1)
        n_taken = n_fresh if s == 1 else taken.sum(axis=1)
        rating_sum = (ratings * taken).sum(axis=1)
        n_clicks = clicks.sum(axis=1)

        reward = reward_signal(
            self.reward, ratings, taken, clicks, self.predicted[items], self.scale, self.like_threshold
        ).sum(axis=1)

        expected_sum = (expected * fresh).sum(axis=1)
        info = {
            "rating": np.where(n_taken > 0, rating_sum / np.maximum(n_taken, 1), 0.0),
            "expected_rating": expected_sum / np.maximum(n_fresh, 1),
            "regret": (
                np.zeros(self.batch)
                if best_expected is None
                else (best_expected.sum(axis=1) - expected_sum) / s
            ),
            "clicks": n_clicks,
            "repeats": s - n_fresh,
            "user": self.user.copy(),
        }
        self.shown[rows, items] = True
        self.history.record(self.world.item_features[items], ratings, taken, fresh, clicks)
        left = self.after_step(items, ratings, taken)
        if self.keep_log:
            self._log(items, ratings, taken)
        self.t += 1
        truncated = (self.t >= self.horizon) & ~left
        return reward.astype(np.float64), left, truncated, info

    def _scores(self, items: np.ndarray) -> np.ndarray:
        scores = self.world.simulator.score(self.user, items)
        shift = self.score_shift(items)
        return scores if shift is None else scores + shift

    def _log(self, items: np.ndarray, ratings: np.ndarray, taken: np.ndarray) -> None:
        for b in range(self.batch):  # rendering only
            for item, rating, took in zip(items[b], ratings[b], taken[b], strict=True):
                answer = f"rated {rating:g}" if took else "skipped"
                self.log[b].append(f"  t={self.t[b]:>3}  {self.world.titles[item][:60]:<60}  {answer}")


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
    * v0: initial version.
    """

    kernel_class = RecommendationKernel


class ColdStartVectorEnv(RecVectorEnv):
    """`ColdStartEnv` for ``num_envs`` users at once (see its docstring); sub-environment ``i``
    reset with seed ``s`` behaves exactly like ``ColdStartEnv`` reset with seed ``s + i``."""

    kernel_class = RecommendationKernel
