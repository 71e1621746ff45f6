"""Rewards as plain functions of the user's responses (vectorised; float32 out).

``surprise`` is the seed paper's reward ``R = max(0, y - p)``: a rating ``y`` counts only by how much
it beats a predictor's estimate ``p`` (by default the item's mean training rating), which rewards
finding what the user likes *more than expected*, not merely popular items.
"""

from __future__ import annotations

import numpy as np


def rating_reward(rating: np.ndarray) -> np.ndarray:
    return np.asarray(rating, dtype=np.float32)


def like_reward(rating: np.ndarray, threshold: float = 4.0) -> np.ndarray:
    return (np.asarray(rating) >= threshold).astype(np.float32)


def click_reward(clicks: np.ndarray) -> np.ndarray:
    """Number of clicked slots (``clicks`` is boolean ``(..., S)``)."""
    return np.asarray(clicks).sum(axis=-1).astype(np.float32)


def surprise_reward(rating: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    return np.maximum(0.0, np.asarray(rating, dtype=np.float32) - np.asarray(predicted, dtype=np.float32))


REWARDS = ("rating", "like", "click", "surprise")
