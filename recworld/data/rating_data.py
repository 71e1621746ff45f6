"""`RatingData`: one in-memory form for every rating dataset recworld reads.

Ratings are stored as parallel arrays over contiguous user and item indices (``0..n-1``), so that
every later layer (simulators, models, environments) can index numpy arrays directly. Raw ids from
the files are kept in both directions, together with the side information that real datasets carry:
user demographics, item titles, release years and genres.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recworld.data.errors import DataError

DuplicatePolicy = Literal["error", "last", "mean"]

USER_COLUMNS = ("age", "gender", "occupation", "zip_code")
ITEM_COLUMNS = ("title", "year", "genres")


@dataclass(frozen=True, eq=False)
class RatingData:
    """Explicit ratings with user and item side information.

    Attributes:
        name: dataset name (``"movielens-100k"``) or the directory it was read from.
        user, item: int32 arrays, the user and item index of each rating.
        rating: float32 array of ratings on ``rating_scale``.
        timestamp: int64 array, seconds since the epoch (0 where the source has none).
        user_ids, item_ids: raw ids as strings; ``user_ids[u]`` is the raw id of user index ``u``.
        users: one row per user index; the columns of ``USER_COLUMNS`` that the source has.
        items: one row per item index with ``title`` (str), ``year`` (float, NaN when unknown) and
            ``genres`` (tuple of str).
        genres: the genre vocabulary, in the order of the multi-hot item features.
        rating_scale: smallest and largest possible rating.
    """

    name: str
    user: np.ndarray
    item: np.ndarray
    rating: np.ndarray
    timestamp: np.ndarray
    user_ids: np.ndarray
    item_ids: np.ndarray
    users: pd.DataFrame
    items: pd.DataFrame
    genres: tuple[str, ...]
    rating_scale: tuple[float, float]
    source: str = field(default="")

    def __post_init__(self) -> None:
        n = len(self.rating)
        for label in ("user", "item", "timestamp"):
            if len(getattr(self, label)) != n:
                raise ValueError(f"RatingData.{label} has {len(getattr(self, label))} rows, rating has {n}")
        if len(self.users) != len(self.user_ids) or len(self.items) != len(self.item_ids):
            raise ValueError("RatingData.users/items must have one row per user/item id")
        if n and (self.user.min() < 0 or self.user.max() >= self.n_users):
            raise ValueError("RatingData.user holds indices outside 0..n_users-1")
        if n and (self.item.min() < 0 or self.item.max() >= self.n_items):
            raise ValueError("RatingData.item holds indices outside 0..n_items-1")

    # ----------------------------------------------------------------- sizes
    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def n_ratings(self) -> int:
        return len(self.rating)

    @property
    def density(self) -> float:
        cells = self.n_users * self.n_items
        return self.n_ratings / cells if cells else 0.0

    # ------------------------------------------------------------- raw ids
    @cached_property
    def _user_lookup(self) -> pd.Index:
        return pd.Index(self.user_ids)

    @cached_property
    def _item_lookup(self) -> pd.Index:
        return pd.Index(self.item_ids)

    def user_index(self, raw_ids: str | int | Iterable[str | int]) -> Any:
        """Index (or array of indices) of raw user ids; an unknown id raises `DataError`."""
        return _lookup(self._user_lookup, raw_ids, "user", self.name)

    def item_index(self, raw_ids: str | int | Iterable[str | int]) -> Any:
        """Index (or array of indices) of raw item ids; an unknown id raises `DataError`."""
        return _lookup(self._item_lookup, raw_ids, "item", self.name)

    # -------------------------------------------------------------- features
    def user_features(self) -> tuple[np.ndarray, list[str]]:
        """Encoded demographics: standardised age, one-hot gender and occupation.

        Returns a float32 array of shape ``(n_users, d)`` and the column names. The zip code is kept
        in `users` but not encoded. When the source has no demographics (no user file, or one with
        none of these columns) the array is one constant column of 0.0 named ``"constant"``, so
        ``d >= 1`` always: observation spaces built from it are never empty.
        """
        columns: list[np.ndarray] = []
        names: list[str] = []
        if "age" in self.users:
            age = pd.to_numeric(self.users["age"], errors="coerce").to_numpy(dtype=float)
            mean = np.nanmean(age) if np.isfinite(age).any() else 0.0
            std = np.nanstd(age) if np.isfinite(age).any() else 1.0
            columns.append(np.nan_to_num((age - mean) / (std or 1.0)))
            names.append("age")
        for col in ("gender", "occupation"):
            if col in self.users:
                values = self.users[col].astype(str).to_numpy()
                for level in sorted(set(values)):
                    columns.append((values == level).astype(float))
                    names.append(f"{col}:{level}")
        if not columns:
            return np.zeros((self.n_users, 1), dtype=np.float32), ["constant"]
        return np.stack(columns, axis=1).astype(np.float32), names

    def item_features(self) -> tuple[np.ndarray, list[str]]:
        """Genre multi-hot plus the release year scaled to [0, 1] (unknown years get the median).

        Returns a float32 array of shape ``(n_items, len(genres) + 1)`` and the column names. The
        year column is always there (0.0 when no year is known, e.g. without an item file, where
        ``genres`` is empty too), so ``d >= 1`` always.
        """
        multi_hot = np.zeros((self.n_items, len(self.genres)), dtype=np.float32)
        position = {g: j for j, g in enumerate(self.genres)}
        rows, cols = [], []
        for i, item_genres in enumerate(self.items["genres"]):
            for g in item_genres:
                rows.append(i)
                cols.append(position[g])
        multi_hot[rows, cols] = 1.0
        year = self.items["year"].to_numpy(dtype=float)
        known = np.isfinite(year)
        if known.any():
            lo, hi = year[known].min(), year[known].max()
            year = np.where(known, year, np.median(year[known]))
            scaled = (year - lo) / (hi - lo) if hi > lo else np.zeros_like(year)
        else:
            scaled = np.zeros(self.n_items)
        features = np.concatenate([multi_hot, scaled[:, None].astype(np.float32)], axis=1)
        return features, [f"genre:{g}" for g in self.genres] + ["year"]

    def item_text(self) -> list[str]:
        """One line per item for language-model encoders: ``"Title (Year) — Genre, Genre"``."""
        texts = []
        for title, year, item_genres in self.items[list(ITEM_COLUMNS)].itertuples(index=False):
            text = str(title)
            if np.isfinite(year):
                text += f" ({int(year)})"
            if item_genres:
                text += " — " + ", ".join(item_genres)
            texts.append(text)
        return texts

    def select(self, rows: np.ndarray) -> RatingData:
        """The same users, items and side information with only the ratings ``rows`` (a mask or indices)."""
        return dataclasses.replace(
            self,
            user=self.user[rows],
            item=self.item[rows],
            rating=self.rating[rows],
            timestamp=self.timestamp[rows],
        )

    def rating_matrix(self) -> sp.csr_matrix:
        """The ratings as a sparse ``(n_users, n_items)`` float32 matrix."""
        return sp.csr_matrix(
            (self.rating, (self.user, self.item)), shape=(self.n_users, self.n_items), dtype=np.float32
        )

    # --------------------------------------------------------------- summary
    def counts_per_user(self) -> np.ndarray:
        return np.bincount(self.user, minlength=self.n_users)

    def counts_per_item(self) -> np.ndarray:
        return np.bincount(self.item, minlength=self.n_items)

    def rating_histogram(self) -> dict[str, int]:
        """Number of ratings at each observed rating value, keyed by the value as text."""
        values, counts = np.unique(self.rating, return_counts=True)
        return {f"{v:g}": int(c) for v, c in zip(values, counts, strict=True)}

    def checksum(self) -> str:
        """sha256 of the sorted ``user<TAB>item<TAB>rating<TAB>timestamp`` lines over raw ids.

        It depends only on the content, not on the file format, so the same ratings read from
        GroupLens files or from RecBole atomic files give the same checksum.
        """
        lines = sorted(
            f"{u}\t{i}\t{r:g}\t{t}"
            for u, i, r, t in zip(
                self.user_ids[self.user].tolist(),
                self.item_ids[self.item].tolist(),
                self.rating.tolist(),
                self.timestamp.tolist(),
                strict=True,
            )
        )
        return hashlib.sha256(("\n".join(lines) + "\n").encode()).hexdigest()

    def summary(self) -> dict[str, Any]:
        """Counts, density, rating histogram and count quantiles, as plain JSON-able values."""
        quantiles = (0.0, 0.25, 0.5, 0.75, 1.0)
        per_user = self.counts_per_user()
        per_item = self.counts_per_item()

        def q(x: np.ndarray) -> dict[str, float]:
            if not len(x):
                return {}
            return {
                f"q{int(p * 100)}": float(v)
                for p, v in zip(quantiles, np.quantile(x, quantiles), strict=True)
            }

        stamped = self.timestamp[self.timestamp > 0]
        return {
            "name": self.name,
            "users": self.n_users,
            "items": self.n_items,
            "ratings": self.n_ratings,
            "density": self.density,
            "rating_scale": list(self.rating_scale),
            "rating_mean": float(self.rating.mean()) if self.n_ratings else None,
            "rating_histogram": self.rating_histogram(),
            "ratings_per_user": q(per_user),
            "ratings_per_item": q(per_item),
            "user_columns": [c for c in USER_COLUMNS if c in self.users],
            "genres": list(self.genres),
            "first_timestamp": int(stamped.min()) if len(stamped) else None,
            "last_timestamp": int(stamped.max()) if len(stamped) else None,
        }


def _lookup(index: pd.Index, raw_ids: Any, kind: str, dataset: str) -> Any:
    scalar = isinstance(raw_ids, str | int | np.integer)
    keys = [str(raw_ids)] if scalar else [str(r) for r in raw_ids]
    positions = index.get_indexer(pd.Index(keys))
    if (positions < 0).any():
        bad = keys[int(np.argmax(positions < 0))]
        raise DataError(
            f"unknown {kind} id {bad!r} in {dataset} ({len(index)} {kind}s, e.g. {index[0]!r})",
            hint=f"use a raw {kind} id from the dataset's files",
        )
    return int(positions[0]) if scalar else positions.astype(np.int64)


def build_rating_data(
    *,
    name: str,
    raw_user: Sequence[str] | np.ndarray,
    raw_item: Sequence[str] | np.ndarray,
    rating: np.ndarray,
    timestamp: np.ndarray | None,
    users: pd.DataFrame | None,
    items: pd.DataFrame | None,
    genres: Sequence[str],
    rating_scale: tuple[float, float],
    duplicates: DuplicatePolicy = "error",
    ratings_file: str = "",
    lines: np.ndarray | None = None,
    source: str = "",
) -> RatingData:
    """Map raw ids to contiguous indices and assemble a `RatingData`.

    ``users`` and ``items`` are indexed by raw id (strings). Their rows define the catalog when
    given (items nobody rated stay in it); a rating whose id is missing from them is an error.
    ``lines`` holds the file line of each rating, so errors can name the line.
    """
    if duplicates not in ("error", "last", "mean"):
        raise ValueError(f"unknown duplicates policy {duplicates!r}; use 'error', 'last' or 'mean'")
    raw_user = np.asarray(raw_user, dtype=object).astype(str)
    raw_item = np.asarray(raw_item, dtype=object).astype(str)
    rating = np.asarray(rating, dtype=np.float32)
    timestamp = (
        np.zeros(len(rating), dtype=np.int64) if timestamp is None else np.asarray(timestamp, dtype=np.int64)
    )
    user_ids = _sorted_ids(users.index if users is not None else raw_user)
    item_ids = _sorted_ids(items.index if items is not None else raw_item)
    user = pd.Index(user_ids).get_indexer(pd.Index(raw_user))
    item = pd.Index(item_ids).get_indexer(pd.Index(raw_item))
    for kind, positions, raw in (("user", user, raw_user), ("item", item, raw_item)):
        if (positions < 0).any():
            row = int(np.argmax(positions < 0))
            raise DataError(
                f"{kind} id {str(raw[row])!r} is rated but missing from the {kind} file",
                path=ratings_file or None,
                line=None if lines is None else int(lines[row]),
                hint=f"add the {kind} to the {kind} file or remove its ratings",
            )

    user, item, rating, timestamp = _apply_duplicate_policy(
        user.astype(np.int64),
        item.astype(np.int64),
        rating,
        timestamp,
        duplicates,
        ratings_file,
        lines,
        user_ids,
        item_ids,
    )
    user_table = (
        users.loc[user_ids].reset_index(drop=True)
        if users is not None
        else pd.DataFrame(index=range(len(user_ids)))
    )
    if items is not None:
        item_table = items.loc[item_ids].reset_index(drop=True)
    else:
        item_table = pd.DataFrame(
            {"title": item_ids, "year": np.full(len(item_ids), np.nan), "genres": [()] * len(item_ids)}
        )
    return RatingData(
        name=name,
        user=user.astype(np.int32),
        item=item.astype(np.int32),
        rating=rating,
        timestamp=timestamp,
        user_ids=np.asarray(user_ids, dtype=object),
        item_ids=np.asarray(item_ids, dtype=object),
        users=user_table,
        items=item_table,
        genres=tuple(genres),
        rating_scale=rating_scale,
        source=source,
    )


def _sorted_ids(ids: Iterable[str]) -> list[str]:
    """Unique raw ids, numerically ordered when they are all integers, else lexicographically."""
    unique = sorted(set(map(str, ids)))
    if all(re.fullmatch(r"-?[0-9]+", s) for s in unique):
        unique.sort(key=int)
    return unique


def _apply_duplicate_policy(
    user: np.ndarray,
    item: np.ndarray,
    rating: np.ndarray,
    timestamp: np.ndarray,
    policy: DuplicatePolicy,
    ratings_file: str,
    lines: np.ndarray | None,
    user_ids: list[str],
    item_ids: list[str],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    n_items = max(len(item_ids), 1)
    key = user * n_items + item
    order = np.argsort(key, kind="stable")
    repeated = np.zeros(len(key), dtype=bool)
    repeated[order[1:]] = key[order[1:]] == key[order[:-1]]
    if not repeated.any():
        return user, item, rating, timestamp
    if policy == "error":
        row = int(np.flatnonzero(repeated)[0])
        first = int(np.flatnonzero(key == key[row])[0])
        raise DataError(
            f"user {user_ids[user[row]]!r} rated item {item_ids[item[row]]!r} twice "
            f"({'rows' if lines is None else 'lines'} {_line(lines, first)} and {_line(lines, row)}); "
            "recworld keeps one rating per pair "
            "and the policy is duplicates='error'",
            path=ratings_file or None,
            line=None if lines is None else int(lines[row]),
            hint="remove the repeated row, or read the files with "
            f"recworld.data.load_directory({_directory_of(ratings_file)!r}, duplicates='last') "
            "(keep the latest) or duplicates='mean' (average them) and pass the result as dataset=",
        )
    if policy == "last":
        # Latest timestamp wins; among equal timestamps the later row in the file wins.
        by_time = np.lexsort((np.arange(len(key)), timestamp, key))
        last = np.ones(len(key), dtype=bool)
        last[by_time[:-1]] = key[by_time[:-1]] != key[by_time[1:]]
        keep = np.sort(by_time[last[by_time]])
        return user[keep], item[keep], rating[keep], timestamp[keep]
    if policy == "mean":
        unique, first_rows, inverse = np.unique(key, return_index=True, return_inverse=True)
        sums = np.bincount(inverse, weights=rating)
        counts = np.bincount(inverse)
        latest = np.zeros(len(unique), dtype=np.int64)
        np.maximum.at(latest, inverse, timestamp)
        keep = np.sort(first_rows)
        slot = inverse[keep]
        return user[keep], item[keep], (sums[slot] / counts[slot]).astype(np.float32), latest[slot]
    raise ValueError(f"unknown duplicates policy {policy!r}; use 'error', 'last' or 'mean'")


def _directory_of(ratings_file: str) -> str:
    """The directory to name in a message about ``ratings_file`` ("DIR" when it is unknown)."""
    return str(Path(ratings_file).resolve().parent) if ratings_file else "DIR"


def _line(lines: np.ndarray | None, row: int) -> int:
    return row + 1 if lines is None else int(lines[row])
