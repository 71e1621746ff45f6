"""User-level splits for cold start, and per-user support/query sampling.

The split is by user: a test user's ratings never reach the training side, which is what makes a
cold-start evaluation honest. Support/query sampling follows the MeLU protocol (K support ratings
to adapt on, N query ratings to score) and is vectorised over users.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from recworld.data.rating_data import RatingData

Part = Literal["train", "validation", "test"]

#: the MeLU protocol's users: those with 13 to 100 ratings (Lee et al., KDD 2019)
MIN_RATINGS, MAX_RATINGS = 13, 100


@dataclass(frozen=True)
class UserSplit:
    """Disjoint sets of user indices. Users outside the ratings-per-user filter are in ``excluded``."""

    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray
    excluded: np.ndarray
    seed: int

    def users(self, part: Part) -> np.ndarray:
        if part not in ("train", "validation", "test"):
            raise ValueError(f"unknown split part {part!r}; use 'train', 'validation' or 'test'")
        users: np.ndarray = getattr(self, part)
        return users

    def ratings(self, data: RatingData, part: Part) -> RatingData:
        """The ratings of one part's users only (same user and item index space as ``data``)."""
        return data.select(np.isin(data.user, self.users(part)))

    def to_dict(self) -> dict[str, object]:
        return {
            "seed": self.seed,
            **{p: self.users(p).tolist() for p in ("train", "validation", "test")},
            "excluded": self.excluded.tolist(),
        }


def split_users(
    data: RatingData,
    *,
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
    seed: int = 0,
    min_ratings: int | None = None,
    max_ratings: int | None = None,
) -> UserSplit:
    """Split users into train/validation/test by ``fractions`` (which sum to 1).

    ``min_ratings``/``max_ratings`` keep only users with that many ratings (inclusive); the MeLU
    protocol uses 13 and 100. The same data and seed always give the same split.
    """
    fractions = tuple(float(f) for f in fractions)  # type: ignore[assignment]
    if len(fractions) != 3 or min(fractions) < 0 or abs(sum(fractions) - 1.0) > 1e-9 or fractions[0] == 0:
        raise ValueError(
            f"fractions must be three non-negative numbers summing to 1 with train > 0, got {fractions}"
        )
    counts = data.counts_per_user()
    keep = np.ones(data.n_users, dtype=bool)
    if min_ratings is not None:
        keep &= counts >= min_ratings
    if max_ratings is not None:
        keep &= counts <= max_ratings
    eligible = np.flatnonzero(keep)
    if len(eligible) < 3:
        upper = "any number of" if max_ratings is None else max_ratings
        which = (
            ""
            if min_ratings is None and max_ratings is None
            else f" with {min_ratings or 0} to {upper} ratings"
        )
        raise ValueError(
            f"only {len(eligible)} users{which}, and a split needs at least 3 — "
            "loosen min_ratings/max_ratings or use a larger dataset"
        )
    shuffled = np.random.default_rng(seed).permutation(eligible)
    n_test = round(fractions[2] * len(shuffled))
    n_val = round(fractions[1] * len(shuffled))
    n_train = len(shuffled) - n_test - n_val
    return UserSplit(
        train=np.sort(shuffled[:n_train]),
        validation=np.sort(shuffled[n_train : n_train + n_val]),
        test=np.sort(shuffled[n_train + n_val :]),
        excluded=np.flatnonzero(~keep),
        seed=seed,
    )


@dataclass(frozen=True)
class SupportQuery:
    """Per-user support and query ratings, as row indices into a `RatingData`'s arrays.

    ``support[i]`` (shape ``(n_users, k)``) and ``query[i]`` (``(n_users, n_query)``) belong to
    ``users[i]``; users with fewer than ``k + n_query`` ratings are listed in ``skipped``.
    """

    users: np.ndarray
    support: np.ndarray
    query: np.ndarray
    skipped: np.ndarray


def support_query(
    data: RatingData,
    users: np.ndarray,
    *,
    k: int,
    n_query: int = 10,
    rng: np.random.Generator | int = 0,
    order: Literal["random", "time"] = "random",
) -> SupportQuery:
    """Sample K support and ``n_query`` query ratings for each user, vectorised over users.

    ``order="random"`` draws both sets at random without overlap; ``order="time"`` takes the
    user's K earliest ratings as support and the ``n_query`` latest as query (ties broken at random).
    """
    if k < 0 or n_query < 0:
        raise ValueError(f"k and n_query must be >= 0, got k={k}, n_query={n_query}")
    if order not in ("random", "time"):
        raise ValueError(f"unknown order {order!r}; use 'random' or 'time'")
    rng = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng
    users = np.unique(np.asarray(users, dtype=np.int64))
    if len(users) and (users[0] < 0 or users[-1] >= data.n_users):
        bad = users[0] if users[0] < 0 else users[-1]
        raise ValueError(f"user index {bad} is outside 0..{data.n_users - 1}")
    rows = np.flatnonzero(np.isin(data.user, users))
    tiebreak = rng.random(len(rows))
    keys = (tiebreak,) if order == "random" else (tiebreak, data.timestamp[rows])
    rows = rows[np.lexsort((*keys, data.user[rows]))]  # grouped by user, then by the order key

    counts = np.bincount(data.user[rows], minlength=data.n_users)[users]
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    enough = counts >= k + n_query
    starts, ends = starts[enough], (starts + counts)[enough]
    support = rows[starts[:, None] + np.arange(k)]
    if order == "random":
        query = rows[starts[:, None] + k + np.arange(n_query)]
    else:
        query = rows[ends[:, None] - n_query + np.arange(n_query)]
    return SupportQuery(users=users[enough], support=support, query=query, skipped=users[~enough])
