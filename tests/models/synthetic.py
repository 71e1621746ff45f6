"""A tiny synthetic `RatingData` with low-rank structure, demographics, genres and years, for tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from recworld.data import RatingData
from recworld.data.rating_data import build_rating_data

GENRES = ("Action", "Comedy", "Drama")


def synthetic_data(n_users: int = 80, n_items: int = 50, seed: int = 0) -> RatingData:
    """User u rates 14 + u % 30 items; ratings are a rank-2 model plus biases, rounded to 1..5."""
    rng = np.random.default_rng(seed)
    p = rng.normal(0, 0.8, (n_users, 2))
    q = rng.normal(0, 0.8, (n_items, 2))
    item_bias = rng.normal(0, 0.6, n_items)
    user_bias = rng.normal(0, 0.4, n_users)
    users, items, ratings = [], [], []
    for u in range(n_users):
        chosen = rng.choice(n_items, size=min(n_items, 14 + u % 30), replace=False)
        score = 3.4 + item_bias[chosen] + user_bias[u] + q[chosen] @ p[u] + rng.normal(0, 0.3, len(chosen))
        users += [str(u)] * len(chosen)
        items += [str(i) for i in chosen]
        ratings += list(np.clip(np.rint(score), 1, 5))
    user_table = pd.DataFrame(
        {
            "age": rng.integers(18, 70, n_users),
            "gender": rng.choice(["F", "M"], n_users),
            "occupation": rng.choice(["writer", "other"], n_users),
            "zip_code": ["00000"] * n_users,
        },
        index=[str(u) for u in range(n_users)],
    )
    item_table = pd.DataFrame(
        {
            "title": [f"Movie {i}" for i in range(n_items)],
            "year": rng.integers(1950, 2000, n_items).astype(float),
            "genres": [tuple(g for g in GENRES if rng.random() < 0.4) for _ in range(n_items)],
        },
        index=[str(i) for i in range(n_items)],
    )
    return build_rating_data(
        name="synthetic",
        raw_user=users,
        raw_item=items,
        rating=np.asarray(ratings),
        timestamp=np.arange(len(ratings)) + 1_000,
        users=user_table,
        items=item_table,
        genres=GENRES,
        rating_scale=(1.0, 5.0),
    )
