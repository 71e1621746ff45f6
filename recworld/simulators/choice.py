"""Slate choice models: which items of a shown slate does the user click?

Each model turns the user's view of the slate — the expected rating and the like probability of
every slot, both ``(B, S)`` in slate order — into click probabilities and sampled clicks (a boolean
``(B, S)`` array). They are small, swappable pieces, as in RecSim's ``choice_model.py``, but every
draw takes the caller's `numpy.random.Generator`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


class ChoiceModel(Protocol):
    def probabilities(self, expected_rating: np.ndarray, like_probability: np.ndarray) -> np.ndarray:
        """Click probability of every slot, ``(B, S)``."""
        ...

    def clicks(
        self, expected_rating: np.ndarray, like_probability: np.ndarray, uniforms: np.ndarray
    ) -> np.ndarray:
        """Clicks, boolean ``(B, S)``, decided by ``uniforms`` (``(B, S)``, uniform on [0, 1))."""
        ...


def sample_clicks(
    model: ChoiceModel, expected_rating: np.ndarray, like_probability: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Clicks drawn with ``rng``."""
    return model.clicks(expected_rating, like_probability, rng.random(np.shape(like_probability)))


@dataclass(frozen=True)
class MultinomialLogit:
    """At most one click: slot ``j`` with probability proportional to ``exp(rating_j / temperature)``,
    no click with probability proportional to ``exp(no_click_rating / temperature)``.

    ``no_click_rating`` is on the rating scale: with the default 3.5, a slate whose best item the user
    would rate 3 is mostly ignored, one with a 5 is mostly clicked.
    """

    temperature: float = 0.5
    no_click_rating: float = 3.5

    def __post_init__(self) -> None:
        if self.temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {self.temperature}")

    def probabilities(self, expected_rating: np.ndarray, like_probability: np.ndarray) -> np.ndarray:
        logits = (
            np.concatenate(
                [expected_rating, np.full((*expected_rating.shape[:-1], 1), self.no_click_rating)], axis=-1
            )
            / self.temperature
        )
        logits -= logits.max(axis=-1, keepdims=True)
        weights = np.exp(logits)
        return (weights / weights.sum(axis=-1, keepdims=True))[..., :-1].astype(np.float32)

    def clicks(
        self, expected_rating: np.ndarray, like_probability: np.ndarray, uniforms: np.ndarray
    ) -> np.ndarray:
        cumulative = np.cumsum(self.probabilities(expected_rating, like_probability), axis=-1)
        u = uniforms[..., :1]
        chosen = (u < cumulative).argmax(axis=-1)
        slots = np.arange(cumulative.shape[-1])
        return (slots == chosen[..., None]) & (u < cumulative[..., -1:])


@dataclass(frozen=True)
class Cascade:
    """The user scans the slate top-down and clicks the first item they like (Craswell et al. 2008):
    slot ``j`` is clicked with probability ``a_j * prod_{k<j} (1 - a_k)``, ``a`` the like probability."""

    def probabilities(self, expected_rating: np.ndarray, like_probability: np.ndarray) -> np.ndarray:
        survive = np.cumprod(1.0 - like_probability, axis=-1)
        before = np.concatenate([np.ones((*survive.shape[:-1], 1)), survive[..., :-1]], axis=-1)
        return (like_probability * before).astype(np.float32)

    def clicks(
        self, expected_rating: np.ndarray, like_probability: np.ndarray, uniforms: np.ndarray
    ) -> np.ndarray:
        attracted = uniforms < like_probability
        first = attracted & (np.cumsum(attracted, axis=-1) == 1)
        return first


@dataclass(frozen=True)
class PositionBased:
    """Each slot is examined with a probability that decays with its position and clicked if the
    user likes the item; several clicks are possible. Examination of slot ``k`` (from 0) is
    ``1 / (k + 1) ** decay``."""

    decay: float = 1.0

    def examination(self, n_slots: int) -> np.ndarray:
        return 1.0 / (np.arange(n_slots) + 1.0) ** self.decay

    def probabilities(self, expected_rating: np.ndarray, like_probability: np.ndarray) -> np.ndarray:
        return (like_probability * self.examination(like_probability.shape[-1])).astype(np.float32)

    def clicks(
        self, expected_rating: np.ndarray, like_probability: np.ndarray, uniforms: np.ndarray
    ) -> np.ndarray:
        return uniforms < self.probabilities(expected_rating, like_probability)


CHOICE_MODELS = {"mnl": MultinomialLogit, "cascade": Cascade, "position": PositionBased}
