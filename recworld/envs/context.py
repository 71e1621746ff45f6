"""What agents may know about an environment, and the one privileged view the oracle uses.

Agents see the observation, the public part of ``info`` (`PUBLIC_INFO`), the action mask, the
public facts of `EnvContext` and the training users' ratings. The simulator's truth is reachable
only through `oracle_choice`, which the oracle baseline alone calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from recworld.data import RatingData
from recworld.envs.base import Kernel
from recworld.envs.history import RESPONSE_CHANNELS
from recworld.envs.rewards import reward_signal

#: ``info`` keys an agent may read; the others (expected rating, regret, ndcg, user, satisfaction)
#: are the simulator's truth, for evaluation only.
PUBLIC_INFO = ("rating", "clicks", "known", "repeats")

KINDS = {
    "RecommendationKernel": "ColdStart",
    "ElicitationKernel": "Elicitation",
    "EngagementKernel": "Engagement",
}


@dataclass(frozen=True)
class LatestResponses:
    """The previous step's responses read from an observation, ``(B, S)`` each: the rating (on the
    scale; 0 scaled where not taken), whether the user took, was shown and clicked each item."""

    ratings: np.ndarray
    taken: np.ndarray
    shown: np.ndarray
    clicked: np.ndarray


@dataclass(frozen=True)
class EnvContext:
    """Public facts of an environment and its training side.

    Attributes:
        kind: ``"ColdStart"``, ``"Elicitation"``, ``"Engagement"``, or ``"Replay"`` (logged data).
        n_items, slate_size, horizon, window: the sizes of the task.
        reward: the reward option (`recworld.envs.rewards.REWARDS`; ``mae``/``ndcg`` for Elicitation).
        item_features: ``(n_items, G + 1)`` genre multi-hot and scaled year (public side information).
        n_genres: ``G``.
        titles: item text.
        rating_levels, like_threshold: the rating scale.
        item_mean_rating: each item's mean training rating (shrunk).
        surprise_baseline: what the ``surprise`` reward subtracts from a rating, per item (the
            environment's ``predictor``; ``item_mean_rating`` by default).
        response_channels: the per-item fields of ``recent_responses``, in order.
        train_data: the training users' ratings (the only ratings an agent may learn from).
        user_dim: size of the ``user`` observation.
        repeats: True where an item may be shown again (replay: every round is a new visit);
            otherwise an agent never shows an item twice in an episode.
    """

    kind: str
    n_items: int
    slate_size: int
    horizon: int
    window: int
    reward: str
    item_features: np.ndarray
    n_genres: int
    titles: list[str]
    rating_levels: np.ndarray
    like_threshold: float
    item_mean_rating: np.ndarray
    train_data: RatingData
    user_dim: int
    surprise_baseline: np.ndarray
    response_channels: tuple[str, ...] = RESPONSE_CHANNELS
    repeats: bool = False

    def latest_responses(
        self, observation: dict[str, np.ndarray], users: Any = slice(None)
    ) -> LatestResponses:
        """The previous step's responses of the ``users`` (rows of a batched observation), decoded
        from ``recent_responses`` (most recent step first, `response_channels` per slot). Ratings are
        the rating levels exactly: the observation holds them as float32 fractions of the scale, which
        on most scales decode a rounding error away from the level (a 6 on 1..7 as 5.9999998)."""
        channels = self.response_channels
        recent = np.asarray(observation["recent_responses"])[users]
        latest = recent.reshape(len(recent), -1, len(channels))[:, : self.slate_size]
        levels = np.asarray(self.rating_levels, dtype=np.float64)
        low, high = float(levels.min()), float(levels.max())
        scaled = low + latest[..., channels.index("rating")].astype(np.float64) * (high - low)
        nearest = np.abs(scaled[..., None] - levels).argmin(axis=-1)
        return LatestResponses(
            ratings=levels[nearest],
            taken=latest[..., channels.index("taken")] > 0.5,
            shown=latest[..., channels.index("shown")] > 0.5,
            clicked=latest[..., channels.index("clicked")] > 0.5,
        )

    def signal(
        self, items: np.ndarray, ratings: np.ndarray, taken: np.ndarray, clicked: np.ndarray
    ) -> np.ndarray:
        """The environment's reward for each slot of a response, as the kernel computes it
        (`recworld.envs.rewards`); on Elicitation, where the reward scores the recommender rather than
        the answer, the answer itself."""
        if self.kind == "Elicitation":
            return np.asarray(ratings, dtype=np.float64) * taken
        scale = (float(self.rating_levels.min()), float(self.rating_levels.max()))
        return reward_signal(
            self.reward, ratings, taken, clicked, self.surprise_baseline[items], scale, self.like_threshold
        )


def kernel_of(env: Any) -> Kernel:
    kernel = getattr(getattr(env, "unwrapped", env), "kernel", None)
    if not isinstance(kernel, Kernel):
        raise TypeError(f"{env!r} is not a recworld environment (single or vector)")
    return kernel


def env_context(env: Any) -> EnvContext:
    """The public context of a recworld environment (single or vector, wrapped or not)."""
    own = getattr(getattr(env, "unwrapped", env), "public_context", None)
    if callable(own):  # environments on logged data build their own
        return own()
    kernel = kernel_of(env)
    world = kernel.world
    return EnvContext(
        kind=KINDS[type(kernel).__name__],
        n_items=kernel.n_items,
        slate_size=kernel.slate_size,
        horizon=kernel.horizon,
        window=kernel.history.window,
        reward=getattr(kernel, "reward", "ndcg"),
        item_features=world.item_features,
        n_genres=world.genre_profiles.shape[1],
        titles=world.titles,
        rating_levels=np.asarray(world.simulator.rating_levels, dtype=np.float32),
        like_threshold=float(world.simulator.like_threshold),
        item_mean_rating=world.item_mean_rating,
        train_data=world.train_data,
        user_dim=world.population_features.shape[1],
        surprise_baseline=np.asarray(
            getattr(kernel, "surprise_baseline", world.item_mean_rating), dtype=np.float32
        ),
    )


def oracle_choice(env: Any) -> np.ndarray:
    """PRIVILEGED: each user's best unseen items by the simulator's truth, ``(B, S)``.

    For the oracle baseline only — it reads the hidden simulator. Recommendation environments only.
    """
    kernel = kernel_of(env)
    best_unseen = getattr(kernel, "best_unseen", None)
    if best_unseen is None:
        raise TypeError("the oracle is defined for ColdStart and Engagement, not for Elicitation")
    items, _ = best_unseen()
    return np.asarray(items)


def oracle_plan(env: Any, depth: int, n_top: int, shortlist: int) -> np.ndarray:
    """PRIVILEGED: each user's next item by lookahead on a copy of the true dynamic state, ``(B, 1)``
    (`recworld.envs.engagement.EngagementKernel.plan`). For the planning oracle only; Engagement only."""
    kernel = kernel_of(env)
    plan = getattr(kernel, "plan", None)
    if plan is None:
        raise TypeError("the planning oracle is defined for Engagement only")
    return np.asarray(plan(depth, n_top, shortlist))
