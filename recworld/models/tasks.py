"""User tasks for meta-learning: padded support and query tensors, drawn vectorised over users.

A task is one user: K support ratings to adapt on and ``n_query`` query ratings to score (the
MeLU protocol). Support sets of different sizes share one width ``k_max`` and a mask.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from recworld.data import RatingData, SupportQuery


@dataclass(frozen=True)
class TaskBatch:
    """Tensors for ``B`` user tasks (all on one device)."""

    users: Tensor  # [B] user indices
    user_features: Tensor  # [B, f_u]
    support_items: Tensor  # [B, k] long
    support_ratings: Tensor  # [B, k]
    support_mask: Tensor  # [B, k] bool
    query_items: Tensor  # [B, q] long
    query_ratings: Tensor  # [B, q]

    def __len__(self) -> int:
        return len(self.users)

    def __getitem__(self, index: slice | Tensor | np.ndarray) -> TaskBatch:
        if isinstance(index, np.ndarray):
            index = torch.as_tensor(index, device=self.users.device)
        return TaskBatch(**{f.name: getattr(self, f.name)[index] for f in dataclasses.fields(self)})

    def to(self, device: torch.device | str) -> TaskBatch:
        return TaskBatch(**{f.name: getattr(self, f.name).to(device) for f in dataclasses.fields(self)})

    def with_k(self, k: int) -> TaskBatch:
        """The first ``k`` support ratings of each task (nested support sets, same query)."""
        if k > self.support_items.shape[1]:
            raise ValueError(f"k={k} is larger than the {self.support_items.shape[1]} support ratings drawn")
        return dataclasses.replace(
            self,
            support_items=self.support_items[:, :k],
            support_ratings=self.support_ratings[:, :k],
            support_mask=self.support_mask[:, :k],
        )


def sample_tasks(
    data: RatingData,
    users: np.ndarray,
    user_features: np.ndarray,
    *,
    rng: np.random.Generator,
    k_max: int,
    n_query: int,
) -> TaskBatch:
    """One task per user with at least ``n_query`` ratings; K drawn from ``0..min(k_max, n - n_query)``."""
    users = np.unique(np.asarray(users, dtype=np.int64))
    rows = np.flatnonzero(np.isin(data.user, users))
    rows = rows[np.lexsort((rng.random(len(rows)), data.user[rows]))]
    counts = np.bincount(data.user[rows], minlength=data.n_users)[users]
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    keep = counts >= n_query
    users, counts, starts = users[keep], counts[keep], starts[keep]
    k = rng.integers(0, np.minimum(k_max, counts - n_query) + 1)
    position = np.arange(k_max)
    mask = position[None, :] < k[:, None]
    support = rows[starts[:, None] + np.where(mask, position[None, :], 0)]
    query = rows[starts[:, None] + k[:, None] + np.arange(n_query)[None, :]]
    return _batch(data, users, user_features, support, mask, query)


def tasks_from_support_query(data: RatingData, sq: SupportQuery, user_features: np.ndarray) -> TaskBatch:
    """Tasks from `recworld.data.support_query` rows (every support slot observed)."""
    mask = np.ones(sq.support.shape, dtype=bool)
    return _batch(data, sq.users, user_features, sq.support, mask, sq.query)


def _batch(
    data: RatingData,
    users: np.ndarray,
    user_features: np.ndarray,
    support: np.ndarray,
    mask: np.ndarray,
    query: np.ndarray,
) -> TaskBatch:
    return TaskBatch(
        users=torch.as_tensor(users, dtype=torch.long),
        user_features=torch.as_tensor(user_features[users], dtype=torch.float32),
        support_items=torch.as_tensor(data.item[support], dtype=torch.long),
        support_ratings=torch.as_tensor(data.rating[support], dtype=torch.float32),
        support_mask=torch.as_tensor(mask),
        query_items=torch.as_tensor(data.item[query], dtype=torch.long),
        query_ratings=torch.as_tensor(data.rating[query], dtype=torch.float32),
    )
