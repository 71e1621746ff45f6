"""`World`: everything an environment is built on, assembled once per configuration.

An environment needs the hidden truth (a simulator), what is public about items (genre and year
features, titles), the population of users it draws episodes from and what is public about them
(demographics), and the training side's statistics (each item's mean training rating, the training
users' ratings for a default recommender). The split is by user: test users' ratings never reach
the training side.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse

from recworld.data import RatingData, UserSplit, load, load_directory, split_users
from recworld.data.fetch import DATASETS
from recworld.numerics.factorization import item_means
from recworld.numerics.metrics import exp_gain
from recworld.simulators import (
    FAMILIES,
    ReplaySimulator,
    Simulator,
    SimulatorError,
    TabularSimulator,
    fit_simulator,
)
from recworld.simulators.cache import load_or_fit
from recworld.simulators.dynamics import EngagementDynamics

POPULATIONS = ("train", "validation", "test", "all", "synthetic")
#: positions per block of `World.score_order`'s lists (a cache line of int32 or float32)
SCORE_ORDER_BLOCK = 16


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
    _tables: dict[str, Any] = field(default_factory=dict, repr=False)

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

    def expected_gains(self) -> np.ndarray:
        """`expected_ratings` as graded relevance ``2^(r - lowest level) - 1`` (`exp_gain`), float32,
        computed once (Elicitation's nDCG), by chunks of users (no float64 copy of the whole table)."""
        if "gains" not in self._tables:
            expected, lowest = self.expected_ratings(), float(np.min(self.simulator.rating_levels))
            self._tables["gains"] = np.concatenate(
                [
                    exp_gain(expected[start : start + 1024], lowest).astype(np.float32)
                    for start in range(0, len(expected), 1024)
                ]
            )
        return self._tables["gains"]

    def population_scores(self) -> np.ndarray:
        """Every population member's latent score of every item, ``(len(population), n_items)`` float32,
        computed once (for a simulator of your own; fitted worlds hold their tables)."""
        if "scores" not in self._tables:
            self._tables["scores"] = np.concatenate(
                [
                    np.asarray(self.simulator.score(self.population[start : start + 1024]), dtype=np.float32)
                    for start in range(0, len(self.population), 1024)
                ]
            )
        return self._tables["scores"]

    def genre_lists(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``genre_profiles`` as lists, for compiled loops that would otherwise sum the many zeros of
        each item's row: item ``i``'s genres are ``genre[starts[i]:starts[i + 1]]`` (ascending) with
        weights ``weight[...]``; ``(starts, genre, weight)``, scipy's CSR arrays, int32 / int32 /
        float32, computed once."""
        if "genres" not in self._tables:
            lists = scipy.sparse.csr_array(self.genre_profiles)
            lists.sort_indices()
            self._tables["genres"] = (
                lists.indptr.astype(np.int32),
                lists.indices.astype(np.int32),
                lists.data.astype(np.float32),
            )
        return self._tables["genres"]

    def score_order(self) -> tuple[np.ndarray, np.ndarray]:
        """Each population member's items by latent score, best first, and those scores (int32,
        float32), computed once: the walk of Engagement's search for the best unseen items, which reads
        the scores in sequence rather than scattered over the score table.

        Stored in blocks of `SCORE_ORDER_BLOCK` positions, ``(n_blocks * len(population),
        SCORE_ORDER_BLOCK)``: row ``c * len(population) + m`` holds positions ``c * K`` to ``c * K + K - 1``
        of member ``m``'s list. The first positions of every member, where nearly every walk ends, then
        lie together (tens of kilobytes, which stay in the cache) instead of a catalog's length apart.
        Positions past the catalog's end hold item 0 with score ``-inf``."""
        if "order" not in self._tables:
            k = SCORE_ORDER_BLOCK
            n_blocks = -(-self.n_items // k)
            padding = ((0, 0), (0, n_blocks * k - self.n_items))
            orders, ordered = [], []
            for start in range(0, len(self.population), 1024):  # chunks bound the memory
                scores = np.asarray(self.simulator.score(self.population[start : start + 1024]))
                order = np.argsort(-scores, axis=1)
                orders.append(np.pad(order.astype(np.int32), padding))
                in_order = np.take_along_axis(scores, order, axis=1).astype(np.float32)
                ordered.append(np.pad(in_order, padding, constant_values=-np.inf))

            def blocked(parts: list[np.ndarray]) -> np.ndarray:
                full = np.concatenate(parts).reshape(len(self.population), n_blocks, k)
                return np.ascontiguousarray(full.transpose(1, 0, 2)).reshape(-1, k)

            self._tables["order"], self._tables["ordered"] = blocked(orders), blocked(ordered)
        return self._tables["order"], self._tables["ordered"]

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
                    scores = np.where(self.rated_mask()[start : start + len(users)], scores, -np.inf)
                part = np.argpartition(-scores, m_eff - 1, axis=1)[:, :m_eff]
                order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
                top = np.take_along_axis(part, order, axis=1)
                items.append(top)
                expected.append(self.simulator.expected_rating(users, top))
            self._top[key] = (np.concatenate(items).astype(np.int64), np.concatenate(expected))
        return self._top[key]

    def rated_mask(self) -> np.ndarray:
        """``(len(population), n_items)``: which films each population member rated in the data,
        computed once (the replay protocol's candidates)."""
        if "rated" not in self._tables:
            mask = np.zeros((len(self.population), self.n_items), dtype=bool)
            for row, rated in enumerate(self.population_rated):
                mask[row, rated] = True
            self._tables["rated"] = mask
        return self._tables["rated"]


def own_split(n_users: int, seed: int) -> dict[str, np.ndarray]:
    """Train / validation / test / all populations over a simulator's own users (80 / 10 / 10%, at
    least one test user), for simulators whose users are not the dataset's."""
    order = np.random.default_rng([seed, 7]).permutation(n_users)
    n_test = max(1, n_users // 10) if n_users >= 3 else 0
    n_val = n_users // 10 if n_users >= 10 else 0
    return {
        "test": np.sort(order[:n_test]),
        "validation": np.sort(order[n_test : n_test + n_val]),
        "train": np.sort(order[n_test + n_val :]),
        "all": np.arange(n_users),
    }


def resolve_simulator(
    simulator: str | Path | Simulator,
    data: RatingData,
    dataset: str | None = None,
    user_spread: float = 0.0,
) -> Simulator:
    """The world of ``data``: a family name (fitted once with ``user_spread`` and cached: on disk
    for a named ``dataset``, in this process, by content, for others), ``"replay"`` (the real-data
    twin: the data's own ratings), ``"package.module:factory"`` (a function of your own returning a
    `Simulator`, called with the `RatingData` if it takes an argument), a directory written by
    `TabularSimulator.save`, or a `Simulator` object."""
    named_family = isinstance(simulator, str) and simulator in FAMILIES
    if user_spread and not named_family:
        raise SimulatorError(
            f"user_spread={user_spread:g} applies when the simulator is a family name; this simulator "
            "is already fitted (fit it with fit_simulator(..., user_spread=...) instead)"
        )
    if isinstance(simulator, Simulator):
        return simulator
    if isinstance(simulator, Path) or (isinstance(simulator, str) and Path(simulator).is_dir()):
        return TabularSimulator.load(simulator)
    if simulator == "replay":
        return ReplaySimulator.from_data(data)
    if named_family:
        if dataset is not None and dataset in DATASETS:
            return load_or_fit(dataset, str(simulator), user_spread=user_spread)
        return _fitted_in_process(data, str(simulator), user_spread)
    if isinstance(simulator, str) and ":" in simulator:
        return _from_factory(simulator, data)
    raise SimulatorError(
        f"simulator={simulator!r} is not a family ({', '.join(FAMILIES)}), 'replay', a saved simulator "
        "directory, 'package.module:factory' or a Simulator object"
    )


_in_process: dict[tuple[str, str, float], TabularSimulator] = {}


def _fitted_in_process(data: RatingData, family: str, user_spread: float) -> TabularSimulator:
    """A family fitted to data that has no disk cache, once per content in this process."""
    key = (data.checksum(), family, user_spread)
    if key not in _in_process:
        _in_process[key] = fit_simulator(data, family, user_spread=user_spread)
    return _in_process[key]


def _from_factory(name: str, data: RatingData) -> Simulator:
    module_name, _, attribute = name.partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as err:
        raise SimulatorError(
            f"simulator={name!r}: cannot load {attribute!r} from module {module_name!r} ({err}); put its "
            "directory on PYTHONPATH (for example PYTHONPATH=examples) or install it"
        ) from None
    world = factory(data) if inspect.signature(factory).parameters else factory()
    if not isinstance(world, Simulator):
        raise SimulatorError(f"simulator={name!r} returned {type(world).__name__}, not a recworld Simulator")
    return world


def _signature(dataset: str) -> tuple[tuple[str, int, int], ...]:
    """What identifies a directory's content cheaply: each file's name, size and modification time
    (a named dataset is verified by checksum when loaded, and has none)."""
    path = Path(dataset)
    if dataset in DATASETS or not path.is_dir():
        return ()
    return tuple(
        (f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in sorted(path.iterdir()) if f.is_file()
    )


def build_world(
    dataset: str | Path | RatingData = "movielens-100k",
    simulator: str | Path | Simulator = "latent-factor",
    *,
    users: str = "train",
    split_seed: int = 0,
    n_synthetic: int = 10_000,
    population_seed: int = 0,
    user_spread: float = 0.0,
    duplicates: str = "error",
) -> World:
    """Assemble a `World` from a dataset name, a directory of rating files (read with the
    ``duplicates`` policy) or a `RatingData`. Configurations given as names and paths are built once
    per process and shared, and rebuilt when a directory's files change."""
    options = (users, split_seed, n_synthetic, population_seed, float(user_spread))
    if isinstance(dataset, RatingData):
        return _build_world(dataset, None, simulator, *options)
    name = str(dataset)
    if isinstance(simulator, str | Path):
        return _cached_world(name, _signature(name), duplicates, str(simulator), *options)
    return _build_world(_load(name, duplicates), name, simulator, *options)


def _load(dataset: str, duplicates: str) -> RatingData:
    if duplicates != "error" and dataset not in DATASETS:
        return load_directory(Path(dataset), duplicates=duplicates)  # type: ignore[arg-type]
    return load(dataset)


@lru_cache(maxsize=8)
def _cached_world(
    dataset: str,
    signature: tuple[tuple[str, int, int], ...],
    duplicates: str,
    simulator: str,
    users: str,
    split_seed: int,
    n_synthetic: int,
    population_seed: int,
    user_spread: float,
) -> World:
    data = _load(dataset, duplicates)
    return _build_world(
        data, dataset, simulator, users, split_seed, n_synthetic, population_seed, user_spread
    )


def _build_world(
    data: RatingData,
    dataset: str | None,
    simulator: str | Path | Simulator,
    users: str,
    split_seed: int,
    n_synthetic: int,
    population_seed: int,
    user_spread: float = 0.0,
) -> World:
    if users not in POPULATIONS:
        raise ValueError(f"users={users!r} is not one of {', '.join(POPULATIONS)}")
    world = resolve_simulator(simulator, data, dataset, user_spread)
    if world.n_items != data.n_items:
        raise SimulatorError(
            f"the simulator has {world.n_items} items but {data.name} has {data.n_items}; "
            "fit the simulator to the same dataset"
        )
    split = split_users(data, seed=split_seed)
    train = split.ratings(data, "train")
    features, _ = data.item_features()
    genres = features[:, : len(data.genres)]
    item_mean = item_means(train.item, train.rating, data.n_items).astype(np.float32)

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
    elif not same_users:  # a simulator of your own: its users, split like the data's
        population = own_split(world.n_users, split_seed)[users]
        pop_features = np.zeros((len(population), demographics.shape[1]), dtype=np.float32)
        rated = [np.zeros(0, dtype=np.int32)] * len(population)
    else:
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
