"""Plug a hand-written user simulator into recworld.

Each user loves one genre and is lukewarm about the rest; ratings are a rounded score with noise.
Subclassing `recworld.simulators.Simulator` and writing three methods is all it takes: expected and
sampled ratings, like probabilities and awareness draws come from the base class, and recworld's
environments accept the object wherever they accept a fitted simulator.

A simulator of your own gets a user split like a fitted world (80% train, 10% validation, 10%
test over its own users), so agents train on some of its users and are evaluated on others, and the
benchmark takes it by name: ``simulator = "custom_simulator:make_world"`` in a suite's ``kwargs``
(with ``PYTHONPATH=examples``), or ``simulator=make_world(data)`` in ``gym.make``.

Run: python examples/custom_simulator.py
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from recworld.data import RatingData
from recworld.simulators import Simulator


class GenreLovers(Simulator):
    """``n_users`` users; user ``u`` loves genre ``u % n_genres`` (score 4.5), the rest score 2.5."""

    rating_levels = np.arange(1.0, 6.0, dtype=np.float32)

    def __init__(self, item_genres: np.ndarray, n_users: int, noise: float = 0.7) -> None:
        self.item_genres = np.asarray(item_genres, dtype=bool)  # (n_items, n_genres) multi-hot
        self.n_users, self.n_items = n_users, self.item_genres.shape[0]
        self.loved = np.arange(n_users) % self.item_genres.shape[1]
        self.noise = noise

    def score(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        users, items = self.check(users, items)  # validates indices, shapes users to broadcast
        items = np.arange(self.n_items) if items is None else items
        loves = self.item_genres[items, self.loved[users]]
        return np.where(loves, 4.5, 2.5).astype(np.float32)

    def rating_probabilities(self, users: np.ndarray, scores: np.ndarray) -> np.ndarray:
        cuts = np.array([1.5, 2.5, 3.5, 4.5])  # round to the nearest level after Gaussian noise
        cdf = ndtr((cuts - scores[..., None]) / self.noise)
        padded = np.concatenate([np.zeros_like(cdf[..., :1]), cdf, np.ones_like(cdf[..., :1])], axis=-1)
        return np.diff(padded, axis=-1).astype(np.float32)

    def awareness(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        return np.where(self.score(users, items) > 4, 0.9, 0.2).astype(np.float32)


def make_world(data: RatingData) -> GenreLovers:
    """The factory a suite or ``gym.make`` names as ``custom_simulator:make_world``: 200 genre lovers
    over the data's films (so the public item features stay the data's)."""
    features, _ = data.item_features()
    return GenreLovers(features[:, : len(data.genres)] > 0, n_users=200)


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    genres = rng.random((50, 4)) < 0.3
    world = GenreLovers(genres, n_users=8)
    users = np.arange(8)
    print("expected ratings of item 0:", world.expected_rating(users, np.zeros(8, dtype=int)).round(2))
    print(
        "sampled ratings of a 3-item slate:\n", world.sample_rating(users, rng.integers(0, 50, (8, 3)), rng)
    )
    print("like probability, whole catalog:", world.like_probability(users).shape)

    # End to end: the benchmark's evaluation (every held-out user of the simulator's own split).
    from recworld.agents import make_agent
    from recworld.benchmarks.cell import evaluate_agent

    for name in ("random", "popularity"):
        result = evaluate_agent(
            make_agent(name), "recworld/ColdStart-v0", simulator="custom_simulator:make_world", horizon=10
        )
        print(f"{name}: mean return {result['metrics']['return']:.2f} on {result['n_users']} held-out users")
