"""The simulator protocol: what every environment asks of a simulated user population.

A simulator answers, vectorised over a batch of users and items, four questions about users it
holds the hidden truth of: what does this user think of this item (the latent *score* on the
rating scale), how would they rate it (an ordinal distribution over the rating levels), would they
like it, and do they know it well enough to rate it when asked (*awareness*).

To plug in a simulator of your own, subclass `Simulator` and implement the three abstract methods
(`score`, `rating_probabilities`, `awareness`) plus the attributes ``n_users``, ``n_items`` and
``rating_levels``; everything else (expected and sampled ratings, like probabilities, awareness
draws) is derived here, and every environment accepts it. ``examples/custom_simulator.py`` shows
one in thirty lines.

Shapes: ``users`` is an int array of shape ``(B,)``; ``items`` is ``(B,)`` (one item per user),
``(B, S)`` (a slate per user) or ``None`` (the whole catalog, ``(B, n_items)``). Results have the
shape of ``items``. ``shift`` adds to the score (user dynamics use it); it broadcasts the same way.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np


class SimulatorError(ValueError):
    """A simulator was asked about users or items it does not have, or used before it was fitted."""


class Simulator(ABC):
    """Base class of user-preference simulators (see the module docstring for the protocol)."""

    n_users: int
    n_items: int
    rating_levels: np.ndarray
    like_threshold: float = 4.0

    # ------------------------------------------------------------------ the protocol
    @abstractmethod
    def score(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        """Latent preference of each user for each item, on the rating scale (float32)."""

    @abstractmethod
    def rating_probabilities(self, users: np.ndarray, scores: np.ndarray) -> np.ndarray:
        """Probability of each rating level given (possibly shifted) scores: ``scores.shape + (L,)``."""

    @abstractmethod
    def awareness(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        """Probability that each user knows each item well enough to rate it when asked."""

    # ------------------------------------------------------------------ derived answers
    def distribution(
        self, users: np.ndarray, items: np.ndarray | None = None, shift: np.ndarray | float | None = None
    ) -> np.ndarray:
        """Rating-level probabilities, ``items.shape + (L,)``."""
        scores = self.score(users, items)
        if shift is not None:
            scores = scores + np.asarray(shift, dtype=scores.dtype)
        return self.rating_probabilities(users, scores)

    def expected_rating(
        self, users: np.ndarray, items: np.ndarray | None = None, shift: np.ndarray | float | None = None
    ) -> np.ndarray:
        """The mean of the user's rating distribution for each item."""
        probs = self.distribution(users, items, shift)
        return (probs @ np.asarray(self.rating_levels, dtype=probs.dtype)).astype(np.float32)

    def like_probability(
        self, users: np.ndarray, items: np.ndarray | None = None, shift: np.ndarray | float | None = None
    ) -> np.ndarray:
        """Probability of a rating at or above ``like_threshold`` (4 of 5: the user likes it)."""
        probs = self.distribution(users, items, shift)
        liked = np.asarray(self.rating_levels) >= self.like_threshold
        return probs[..., liked].sum(axis=-1).astype(np.float32)

    def sample_rating(
        self,
        users: np.ndarray,
        items: np.ndarray | None,
        rng: np.random.Generator,
        shift: np.ndarray | float | None = None,
    ) -> np.ndarray:
        """A rating drawn from each user's distribution (one draw per user-item pair)."""
        probs = self.distribution(users, items, shift)
        return sample_levels(probs, self.rating_levels, rng.random(probs.shape[:-1]))

    def sample_knows(
        self, users: np.ndarray, items: np.ndarray | None, rng: np.random.Generator
    ) -> np.ndarray:
        """Whether each user knows each item (a Bernoulli draw from `awareness`)."""
        aware = self.awareness(users, items)
        return rng.random(aware.shape) < aware

    # ------------------------------------------------------------------ checking input
    def check(self, users: np.ndarray, items: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
        """Validate index arrays; return ``users`` shaped to broadcast against ``items``."""
        users = _indices(users, self.n_users, "user")
        if users.ndim != 1:
            raise SimulatorError(f"users must be a 1-D array of user indices, got shape {users.shape}")
        if items is None:
            return users[:, None], None
        items = _indices(items, self.n_items, "item")
        if items.ndim == 0 or items.shape[0] != users.shape[0] or items.ndim > 2:
            raise SimulatorError(
                f"items must have shape (B,) or (B, S) with B = {users.shape[0]} users, got {items.shape}"
            )
        return (users if items.ndim == 1 else users[:, None]), items


def _indices(values: np.ndarray, n: int, kind: str) -> np.ndarray:
    array = np.asarray(values)
    if array.dtype.kind not in "iu":
        raise SimulatorError(f"{kind} indices must be integers, got dtype {array.dtype}")
    if array.size and (array.min() < 0 or array.max() >= n):
        bad = array.min() if array.min() < 0 else array.max()
        raise SimulatorError(f"{kind} index {int(bad)} is outside 0..{n - 1}")
    return array


def sample_levels(probs: np.ndarray, levels: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """The level at each uniform draw's position in the CDF of ``probs`` (last axis); vectorised.

    Environments pass uniforms drawn per episode, so a batch of users reproduces single runs exactly.
    """
    cumulative = np.cumsum(probs, axis=-1)
    u = np.asarray(uniforms)[..., None] * cumulative[..., -1:]
    index = np.minimum((u > cumulative).sum(axis=-1), len(levels) - 1)
    return np.asarray(levels, dtype=np.float32)[index]
