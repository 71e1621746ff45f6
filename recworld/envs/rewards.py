"""The recommendation environments' rewards: one definition, computed by the kernel and handed to
agents through `recworld.envs.context.EnvContext.signal` (agents never re-derive it).

* ``rating`` — the rating given;
* ``centred`` — the rating minus the scale's midpoint (3 on MovieLens' 1–5): a film the user
  dislikes costs, a neutral one earns nothing, so a return counts films worth watching rather than
  session length times ~4 (Engagement's default);
* ``like`` — 1 for a rating at or above the like threshold (4 on MovieLens);
* ``click`` — 1 for a clicked slot under the choice model;
* ``surprise`` — the seed paper's ``max(0, rating - p)``, with ``p`` a predictor's estimate (by
  default the item's mean training rating): it rewards finding what the user likes *more than
  expected*, not merely popular films.

Every reward is per slot and counts only what the user took.
"""

from __future__ import annotations

import numpy as np

REWARDS = ("rating", "centred", "like", "click", "surprise")


def reward_signal(
    reward: str,
    ratings: np.ndarray,
    taken: np.ndarray,
    clicked: np.ndarray,
    baseline: np.ndarray,
    rating_scale: tuple[float, float],
    like_threshold: float,
) -> np.ndarray:
    """Per-slot reward, float64 like ``ratings`` (``(B, S)``); ``baseline`` is ``surprise``'s ``p``
    for the items shown."""
    ratings = np.asarray(ratings, dtype=np.float64)
    if reward == "rating":
        value = ratings
    elif reward == "centred":
        value = ratings - 0.5 * (rating_scale[0] + rating_scale[1])
    elif reward == "like":
        value = (ratings >= like_threshold).astype(np.float64)
    elif reward == "click":
        return np.asarray(clicked, dtype=np.float64)
    elif reward == "surprise":
        value = np.maximum(0.0, ratings - np.asarray(baseline, dtype=np.float64))
    else:
        raise ValueError(f"reward={reward!r} is not one of {', '.join(REWARDS)}")
    return value * np.asarray(taken, dtype=np.float64)


def level_rewards(reward: str, levels: np.ndarray, like_threshold: float) -> np.ndarray:
    """The reward of each rating level for a taken film (``rating``, ``centred``, ``like``), for
    expected rewards under a rating distribution."""
    if reward not in ("rating", "centred", "like"):
        raise ValueError(f"reward={reward!r} has no per-level value; expected rating, centred or like")
    scale = (float(levels.min()), float(levels.max()))
    ones = np.ones_like(levels, dtype=bool)
    return reward_signal(reward, levels, ones, ones, np.zeros_like(levels), scale, like_threshold)
