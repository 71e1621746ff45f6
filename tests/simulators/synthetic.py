"""A small synthetic world with a known truth, for simulator tests (never real data)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from recworld.data.rating_data import RatingData, build_rating_data


def low_rank_ratings(
    n_users: int = 150, n_items: int = 90, rank: int = 3, per_user: int = 30, seed: int = 0
) -> tuple[RatingData, np.ndarray]:
    """Ratings from ``score = 3.4 + b_u + b_i + p_u.q_i``, rounded to 1..5 after noise.

    Users pick items with probability rising with their score (people watch what they like), so
    the awareness model has a preference effect to find. Returns the data and the true score table.
    """
    rng = np.random.default_rng(seed)
    p = rng.normal(0, 0.6, (n_users, rank))
    q = rng.normal(0, 0.6, (n_items, rank))
    truth = 3.4 + rng.normal(0, 0.3, (n_users, 1)) + rng.normal(0, 0.4, (1, n_items)) + p @ q.T
    users, items, ratings = [], [], []
    for u in range(n_users):
        weights = np.exp(0.8 * truth[u])
        chosen = rng.choice(n_items, size=per_user, replace=False, p=weights / weights.sum())
        users += [u] * per_user
        items += chosen.tolist()
        ratings += np.clip(np.round(truth[u, chosen] + rng.normal(0, 0.5, per_user)), 1, 5).tolist()
    genres = rng.random((n_items, 4)) < 0.35
    item_table = pd.DataFrame(
        {
            "title": [f"Film {i}" for i in range(n_items)],
            "year": 1990.0 + np.arange(n_items) % 10,
            "genres": [tuple(g for g, on in zip("ABCD", row, strict=True) if on) for row in genres],
        },
        index=pd.Index([str(i) for i in range(n_items)]),
    )
    user_table = pd.DataFrame(
        {"age": 20.0 + np.arange(n_users) % 40, "gender": np.where(np.arange(n_users) % 2, "F", "M")},
        index=pd.Index([str(u) for u in range(n_users)]),
    )
    data = build_rating_data(
        name="synthetic",
        raw_user=[str(u) for u in users],
        raw_item=[str(i) for i in items],
        rating=np.array(ratings),
        timestamp=np.arange(len(users)),
        users=user_table,
        items=item_table,
        genres=("A", "B", "C", "D"),
        rating_scale=(1.0, 5.0),
    )
    return data, truth.astype(np.float32)
