"""`ReplaySimulator`: real users' own ratings as the truth — the real-data twin of a fitted world.

An environment run on ``simulator="replay"`` asks the data instead of a model: a user's rating of a
film is the rating they really gave, and they know a film (can answer a question about it) exactly
when they rated it. What the data cannot answer (a film the user never rated) is kept out of reach:
ColdStart and Elicitation on replay restrict recommendations and scoring to each user's rated films
(``candidates="rated"``; see the environments), the protocol of replay evaluation on explicit
ratings. Running the same agents once in a world and once on its replay twin, with the same users
and the same protocol, is how `recworld bench validate` checks that a world ranks agents the way
real users would.

Engagement has no replay twin: MovieLens has no sessions, so nothing in the data says when a real
user would have left or got bored.
"""

from __future__ import annotations

import numpy as np

from recworld.data import RatingData
from recworld.simulators.base import Simulator, SimulatorError


class ReplaySimulator(Simulator):
    """The truth is the ratings themselves (see the module docstring).

    ``score`` is the real rating for rated pairs and one level below the scale for the others (never
    worth recommending, and masked by the environments); ratings are deterministic.
    """

    family = "replay"

    def __init__(
        self,
        users: np.ndarray,
        items: np.ndarray,
        ratings: np.ndarray,
        n_users: int,
        n_items: int,
        rating_levels: np.ndarray | None = None,
        like_threshold: float = 4.0,
        name: str = "",
    ) -> None:
        ratings = np.asarray(ratings, dtype=np.float32)
        self.rating_levels = np.asarray(
            np.unique(ratings) if rating_levels is None else rating_levels, dtype=np.float32
        )
        if len(self.rating_levels) > 10:
            raise SimulatorError(
                f"replay needs a discrete rating scale of at most 10 levels, {name or 'the data'} has "
                f"{len(self.rating_levels)}; round the ratings first"
            )
        self.n_users, self.n_items, self.like_threshold = int(n_users), int(n_items), float(like_threshold)
        self.n_real_users = self.n_users
        self.unrated = np.float32(self.rating_levels.min() - 1.0)
        self.scores = np.full((self.n_users, self.n_items), self.unrated, dtype=np.float32)
        self.scores[users, items] = ratings
        self.rated = np.zeros((self.n_users, self.n_items), dtype=bool)
        self.rated[users, items] = True
        self.meta = {"dataset": name, "family": "replay"}

    @classmethod
    def from_data(cls, data: RatingData) -> ReplaySimulator:
        return cls(
            data.user.astype(np.int64),
            data.item.astype(np.int64),
            data.rating,
            data.n_users,
            data.n_items,
            name=data.name,
        )

    def real_users(self) -> np.ndarray:
        return np.arange(self.n_users)

    def score(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        users, items = self.check(users, items)
        return self.scores[users[:, 0]] if items is None else self.scores[users, items]

    def rating_probabilities(self, users: np.ndarray, scores: np.ndarray) -> np.ndarray:
        """All the mass on the level nearest each score: a real rating is what it is."""
        nearest = np.abs(np.asarray(scores)[..., None] - self.rating_levels).argmin(axis=-1)
        return np.eye(len(self.rating_levels), dtype=np.float32)[nearest]

    def awareness(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        users, items = self.check(users, items)
        rated = self.rated[users[:, 0]] if items is None else self.rated[users, items]
        return rated.astype(np.float32)
