"""`History`: the observable part of an episode, batched over users (the observation's recent items,
recent responses and running summaries)."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

RESPONSE_CHANNELS = ("rating", "taken", "shown", "clicked")


class History:
    """The observable part of an episode, batched: the last ``window`` steps' items and responses,
    and running summaries of everything shown and everything rated, in the public item-feature space.

    Responses per shown item (`RESPONSE_CHANNELS`): ``[rating scaled to [0, 1], taken (rated /
    answered), shown, clicked]``. With one item per step the user rates every fresh item and
    ``clicked`` is the choice model's verdict; with slates only clicked items are taken.
    The recent steps live in a ring (one position for all users, as they step together): each step
    is written at ``head``, which then moves back one position, so the observation (most recent
    first) is the ring read from ``head`` round to ``head - 1``, with no shifting of old steps.
    """

    def __init__(self, batch: int, slots: int, window: int, item_dim: int, rating_range: tuple[float, float]):
        self.slots, self.window, self.item_dim = slots, window, item_dim
        self.low, self.span = rating_range[0], rating_range[1] - rating_range[0]
        self.items = np.zeros((batch, window, slots, item_dim), dtype=np.float32)
        self.responses = np.zeros((batch, window, slots, len(RESPONSE_CHANNELS)), dtype=np.float32)
        self.head = 0
        self.shown_sum = np.zeros((batch, item_dim), dtype=np.float32)
        self.rated_sum = np.zeros((batch, item_dim), dtype=np.float32)
        self.n_shown = np.zeros(batch, dtype=np.float32)
        self.n_rated = np.zeros(batch, dtype=np.float32)

    def clear(self, index: np.ndarray) -> None:
        for array in (self.items, self.responses, self.shown_sum, self.rated_sum, self.n_shown, self.n_rated):
            array[index] = 0.0

    def record(
        self,
        features: np.ndarray,
        ratings: np.ndarray,
        taken: np.ndarray,
        shown: np.ndarray,
        clicked: np.ndarray | None = None,
    ) -> None:
        """Add one step: item ``features`` ``(B, S, d)``, ``ratings``/``taken``/``shown``/``clicked``
        ``(B, S)`` (``clicked`` defaults to ``taken``)."""
        self.head = (self.head - 1) % self.window
        items, responses = self.items[:, self.head], self.responses[:, self.head]
        np.multiply(features, shown[..., None], out=items)
        scaled = np.where(taken, (ratings - self.low) / self.span, 0.0)
        responses[..., 0] = scaled
        responses[..., 1] = taken
        responses[..., 2] = shown
        responses[..., 3] = taken if clicked is None else clicked
        self.shown_sum += items.sum(axis=1)
        self.n_shown += shown.sum(axis=1)
        verdict = np.where(taken, 2.0 * scaled - 1.0, 0.0)
        self.rated_sum += (features * verdict[..., None]).sum(axis=1)
        self.n_rated += taken.sum(axis=1)

    def space_parts(self, item_dim: int) -> dict[str, spaces.Box]:
        """Flat (1-D) boxes, as stable-baselines3 expects; row-major over (slot, feature)."""
        n = self.window * self.slots
        return {
            "recent_items": spaces.Box(0.0, 1.0, (n * item_dim,), np.float32),
            "recent_responses": spaces.Box(0.0, 1.0, (n * len(RESPONSE_CHANNELS),), np.float32),
            "history": spaces.Box(-1.0, 1.0, (2 * item_dim,), np.float32),
        }

    def _unrolled(self, ring: np.ndarray) -> np.ndarray:
        """A copy of ``ring`` ``(B, window, ...)`` read from ``head`` on: most recent step first."""
        return np.concatenate([ring[:, self.head :], ring[:, : self.head]], axis=1)

    def observe(self) -> dict[str, np.ndarray]:
        """Fresh arrays (an agent may keep them): the ring unrolled, most recent step first."""
        batch, d = len(self.n_shown), self.item_dim
        history = np.empty((batch, 2 * d), dtype=np.float32)
        np.divide(self.shown_sum, np.maximum(self.n_shown, 1.0)[:, None], out=history[:, :d])
        np.divide(self.rated_sum, np.maximum(self.n_rated, 1.0)[:, None], out=history[:, d:])
        return {
            "recent_items": self._unrolled(self.items).reshape(batch, -1),
            "recent_responses": self._unrolled(self.responses).reshape(batch, -1),
            "history": np.clip(history, -1.0, 1.0, out=history),
        }
