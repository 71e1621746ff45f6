"""`History`: the observable part of an episode, batched over users (the observation's recent items,
recent responses and running summaries)."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from recworld.envs.compiled import clear_history, observe_history, record_batch

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
        widths = {key: box.shape[0] for key, box in self.space_parts(item_dim).items()}
        self.layout = Layout(widths, batch, HISTORY_PARTS)  # for `observe`

    def clear(self, index: np.ndarray) -> None:
        """Forget the episodes of the users at ``index``."""
        clear_history(np.asarray(index, dtype=np.int64), self.ring())

    def advance(self) -> int:
        """Move the ring's head back one position for a new step; the new head."""
        self.head = (self.head - 1) % self.window
        return self.head

    def state(self) -> tuple:
        """``(head, *ring())``, as `recworld.envs.compiled.observe_history` reads it."""
        return (self.head, *self.ring())

    def ring(self) -> tuple:
        """The arrays a compiled step writes a step into (`recworld.envs.compiled.record_batch`)."""
        return (self.items, self.responses, self.shown_sum, self.rated_sum, self.n_shown, self.n_rated)

    def record(
        self,
        items: np.ndarray,
        features: np.ndarray,
        ratings: np.ndarray,
        taken: np.ndarray,
        shown: np.ndarray,
        clicked: np.ndarray | None = None,
    ) -> None:
        """Add one step: ``items`` ``(B, S)`` indices into the feature table ``features``,
        ``ratings``/``taken``/``shown``/``clicked`` ``(B, S)`` (``clicked`` defaults to ``taken``)."""
        head = self.advance()
        record_batch(
            0,
            len(items),
            head,
            np.asarray(items, dtype=np.int64),
            np.asarray(ratings, dtype=np.float64),
            np.asarray(taken, dtype=bool),
            np.asarray(shown, dtype=bool),
            np.asarray(taken if clicked is None else clicked, dtype=bool),
            features,
            self.low,
            self.span,
            *self.ring(),
        )

    def space_parts(self, item_dim: int) -> dict[str, spaces.Box]:
        """Flat (1-D) boxes, as stable-baselines3 expects; row-major over (slot, feature)."""
        n = self.window * self.slots
        return {
            "recent_items": spaces.Box(0.0, 1.0, (n * item_dim,), np.float32),
            "recent_responses": spaces.Box(0.0, 1.0, (n * len(RESPONSE_CHANNELS),), np.float32),
            "history": spaces.Box(-1.0, 1.0, (2 * item_dim,), np.float32),
        }

    def observe(self, first: bool = False) -> dict[str, np.ndarray]:
        """Fresh arrays (an agent may keep them): the ring unrolled, most recent step first; ``first``:
        the first user's only."""
        layout = self.layout
        buffer = layout.new()
        observe_history(0, len(self.n_shown), buffer, layout.bases, layout.strides, *self.state())
        return layout.first(buffer) if first else layout.parts(buffer)


#: the observation's parts in the order the compiled observation writes them
HISTORY_PARTS = ("recent_items", "recent_responses", "history")
OBSERVATION_PARTS = ("user", "progress", *HISTORY_PARTS)


class Layout:
    """Where an observation's parts go in one fresh flat float32 buffer for ``batch`` users: part after
    part in the order of ``widths`` (the space's keys), each a contiguous ``(batch, width)`` array, or
    with ``rows=True`` user after user with the parts side by side (the flattened observation). With
    one user the two are the same. ``bases``/``strides`` (in the compiled writer's part ``order``) say
    where user ``b``'s part starts: ``base + b * stride``."""

    def __init__(self, widths: dict[str, int], batch: int, order: tuple[str, ...], rows: bool = False):
        self.widths, self.batch, self.rows = widths, batch, rows
        self.total = sum(widths.values())
        offsets, at = {}, 0
        for key, width in widths.items():
            offsets[key] = at
            at += width
        #: the first user's parts (part after part): where `first` cuts them
        self.first_slices = tuple(
            (key, slice(batch * at, batch * at + widths[key])) for key, at in offsets.items()
        )
        #: each part's cut of a buffer (part after part) and its shape: the views `parts` makes
        self.part_cuts = tuple(
            (key, slice(batch * at, batch * (at + widths[key])), (batch, widths[key]))
            for key, at in offsets.items()
        )
        self.bases = np.array([offsets[k] if rows else batch * offsets[k] for k in order], dtype=np.int64)
        self.strides = np.array([self.total if rows else widths[k] for k in order], dtype=np.int64)

    def new(self) -> np.ndarray:
        return np.empty(self.batch * self.total, dtype=np.float32)

    def parts(self, buffer: np.ndarray) -> dict[str, np.ndarray]:
        """The parts of a written ``buffer`` (part after part), ``(batch, width)`` views."""
        return {key: buffer[cut].reshape(shape) for key, cut, shape in self.part_cuts}

    def first(self, buffer: np.ndarray) -> dict[str, np.ndarray]:
        """The first user's parts of a written ``buffer`` (part after part), 1-D views (a single
        environment's observation)."""
        return {key: buffer[cut] for key, cut in self.first_slices}
