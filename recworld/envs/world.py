"""`World`: everything an environment is built on, assembled once per configuration.

An environment needs the hidden truth (a simulator), what is public about items (genre and year
features, titles), the population of users it draws episodes from and what is public about them
(demographics), and the training side's statistics (each item's mean training rating, the training
users' ratings for a default recommender). The split is by user: test users' ratings never reach
the training side.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from recworld.data import RatingData, UserSplit, load, split_users
from recworld.simulators import ReplaySimulator, Simulator, SimulatorError, TabularSimulator
from recworld.simulators.cache import load_or_fit
from recworld.simulators.dynamics import EngagementDynamics

POPULATIONS = ("train", "validation", "test", "all", "synthetic")


@dataclass(eq=False)
class World:
    """The data an environment reads; built by `build_world`.

    Attributes:
        simulator: the hidden truth (never shown to agents).
        data: the real ratings (for item side information and the split).
        split: the user split; agents may learn from ``train_data`` only.
        train_data: ratings of the training users.
        item_features: ``(n_items, G + 1)`` float32 in [0, 1]: genre multi-hot and scaled year.
        genre_profiles: ``(n_items, G)`` genre multi-hot rows normalised to sum to 1.
        titles: item text for rendering ("Title (Year) — genres").
        item_mean_rating: each item's mean training rating, shrunk to the global mean.
        population: simulator user indices that episodes are drawn from.
        population_features: ``(len(population), d)`` float32 public demographics.
        population_rated: per population member, the item indices they rated in the data.
    """

    simulator: Simulator
    data: RatingData
    split: UserSplit
    train_data: RatingData
    item_features: np.ndarray
    genre_profiles: np.ndarray
    titles: list[str]
    item_mean_rating: np.ndarray
    population: np.ndarray
    population_features: np.ndarray
    population_rated: list[np.ndarray]
    _top: dict[tuple[int, bool], tuple[np.ndarray, np.ndarray]] = field(default_factory=dict, repr=False)
    _tables: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def n_items(self) -> int:
        return int(self.item_features.shape[0])

    def expected_ratings(self) -> np.ndarray:
        """Every population member's expected rating of every item, ``(len(population), n_items)``
        float32; computed once (the static truth that rewards are measured against)."""
        if "expected" not in self._tables:
            self._tables["expected"] = np.concatenate(
                [
                    self.simulator.expected_rating(self.population[start : start + 1024])
                    for start in range(0, len(self.population), 1024)
                ]
            )
        return self._tables["expected"]

    def top_items(self, m: int, rated_only: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Each population member's ``m`` highest-scoring items, best first, and their expected
        ratings, both ``(len(population), m)``; with ``rated_only``, among the films the member rated
        in the data (the rest of the list, if they rated fewer, is unrated films). Environments use
        them to find the best unseen items for regret without scanning the catalog in every step.
        Computed once per ``(m, rated_only)``."""
        key = (m, rated_only)
        if key not in self._top:
            m_eff = min(m, self.n_items)
            items, expected = [], []
            for start in range(0, len(self.population), 1024):  # chunks bound the memory
                users = self.population[start : start + 1024]
                scores = self.simulator.score(users)
                if rated_only:
                    scores = np.where(self.rated_mask(start, start + len(users)), scores, -np.inf)
                part = np.argpartition(-scores, m_eff - 1, axis=1)[:, :m_eff]
                order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
                top = np.take_along_axis(part, order, axis=1)
                items.append(top)
                expected.append(self.simulator.expected_rating(users, top))
            self._top[key] = (np.concatenate(items).astype(np.int64), np.concatenate(expected))
        return self._top[key]

    def rated_mask(self, start: int, stop: int) -> np.ndarray:
        """``(stop - start, n_items)``: which films population members ``start..stop-1`` rated."""
        mask = np.zeros((stop - start, self.n_items), dtype=bool)
        for row, rated in enumerate(self.population_rated[start:stop]):
            mask[row, rated] = True
        return mask


def resolve_simulator(simulator: str | Path | Simulator, dataset: str, user_spread: float = 0.0) -> Simulator:
    """A family name (fitted once with ``user_spread`` and cached), ``"replay"`` (the real-data twin:
    the dataset's own ratings, `ReplaySimulator`), a directory written by `TabularSimulator.save`, or a
    `Simulator` object (a user's own included)."""
    fitted = isinstance(simulator, Simulator | Path) or simulator == "replay" or Path(simulator).is_dir()
    if user_spread and fitted:
        raise SimulatorError(
            f"user_spread={user_spread:g} applies when the simulator is a family name; this simulator "
            "is already fitted (fit it with fit_simulator(..., user_spread=...) instead)"
        )
    if isinstance(simulator, Simulator):
        return simulator
    if isinstance(simulator, Path) or (isinstance(simulator, str) and Path(simulator).is_dir()):
        return TabularSimulator.load(simulator)
    if simulator == "replay":
        return ReplaySimulator.from_data(load(dataset))
    if isinstance(simulator, str):
        return load_or_fit(dataset, simulator, user_spread=user_spread)
    raise SimulatorError(
        "simulator must be a family name, a saved simulator directory or a Simulator, "
        f"got {type(simulator).__name__}"
    )


def build_world(
    dataset: str = "movielens-100k",
    simulator: str | Path | Simulator = "latent-factor",
    *,
    users: str = "train",
    split_seed: int = 0,
    n_synthetic: int = 10_000,
    population_seed: int = 0,
    user_spread: float = 0.0,
) -> World:
    """Assemble a `World`; string-only configurations are built once per process and shared."""
    options = (users, split_seed, n_synthetic, population_seed, float(user_spread))
    if isinstance(simulator, str | Path):
        return _cached_world(dataset, str(simulator), *options)
    return _build_world(dataset, simulator, *options)


@lru_cache(maxsize=8)
def _cached_world(
    dataset: str,
    simulator: str,
    users: str,
    split_seed: int,
    n_synthetic: int,
    population_seed: int,
    user_spread: float,
) -> World:
    return _build_world(dataset, simulator, users, split_seed, n_synthetic, population_seed, user_spread)


def _build_world(
    dataset: str,
    simulator: str | Path | Simulator,
    users: str,
    split_seed: int,
    n_synthetic: int,
    population_seed: int,
    user_spread: float = 0.0,
) -> World:
    if users not in POPULATIONS:
        raise ValueError(f"users={users!r} is not one of {', '.join(POPULATIONS)}")
    data = load(dataset)
    world = resolve_simulator(simulator, dataset, user_spread)
    if world.n_items != data.n_items:
        raise SimulatorError(
            f"the simulator has {world.n_items} items but {data.name} has {data.n_items}; "
            "fit the simulator to the same dataset"
        )
    split = split_users(data, seed=split_seed)
    train = split.ratings(data, "train")
    features, _ = data.item_features()
    genres = features[:, : len(data.genres)]
    counts = np.bincount(train.item, minlength=data.n_items)
    sums = np.bincount(train.item, weights=train.rating, minlength=data.n_items)
    global_mean = float(train.rating.mean())
    item_mean = ((sums + 5.0 * global_mean) / (counts + 5.0)).astype(np.float32)

    demographics, _ = data.user_features()
    demographics = np.clip(demographics, -5.0, 5.0)
    same_users = world.n_users >= data.n_users and isinstance(world, TabularSimulator | ReplaySimulator)
    by_user = np.split(
        data.item[np.argsort(data.user, kind="stable")], np.cumsum(data.counts_per_user())[:-1]
    )
    if users == "synthetic":
        if not isinstance(world, TabularSimulator):
            raise SimulatorError(
                "users='synthetic' needs a fitted TabularSimulator (it draws from its density)"
            )
        world, population, pop_features = world.with_synthetic_users(
            n_synthetic, np.random.default_rng(population_seed)
        )
        pop_features = np.clip(pop_features, -5.0, 5.0)
        rated = [np.zeros(0, dtype=np.int32)] * len(population)
    elif users == "all" and not same_users:
        population = np.arange(world.n_users)
        pop_features = np.zeros((world.n_users, demographics.shape[1]), dtype=np.float32)
        rated = [np.zeros(0, dtype=np.int32)] * len(population)
    else:
        if not same_users:
            raise SimulatorError(
                f"users={users!r} needs a simulator fitted to {data.name}'s users; use users='all' with "
                "a simulator of your own"
            )
        population = np.arange(data.n_users) if users == "all" else split.users(users)  # type: ignore[arg-type]
        pop_features = demographics[population]
        rated = [by_user[u] for u in population]
    if len(population) == 0:
        raise ValueError(f"users={users!r} selects no users")
    return World(
        simulator=world,
        data=data,
        split=split,
        train_data=train,
        item_features=features.astype(np.float32),
        genre_profiles=EngagementDynamics.genre_profiles(genres),
        titles=data.item_text(),
        item_mean_rating=item_mean,
        population=np.asarray(population, dtype=np.int64),
        population_features=np.asarray(pop_features, dtype=np.float32),
        population_rated=rated,
    )
