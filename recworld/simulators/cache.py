"""Fit a named dataset's simulator once, then reuse it from the cache.

Worlds are cached beside the data (``$RECWORLD_DATA_DIR/simulators/``), keyed by dataset, family,
user spread, seed, the data's content checksum, the fitting version (`FIT_VERSION`) and the
save-format version, so a changed dataset or fitting procedure never reuses a stale world.
Writes go to a staging directory renamed into place.
"""

from __future__ import annotations

from pathlib import Path

from recworld.data import cache_root, install_cache_entry, load
from recworld.data.fetch import DATASETS
from recworld.simulators.families import FIT_VERSION, fit_simulator
from recworld.simulators.families import family as family_spec
from recworld.simulators.tabular import FORMAT_VERSION, TabularSimulator


def world_dir(dataset: str, family: str, seed: int, user_spread: float = 0.0) -> Path:
    checksum = DATASETS[dataset].checksum[:12] if dataset in DATASETS else "local"
    spread = f"-spread{user_spread:g}" if user_spread else ""
    name = f"{dataset}-{family}{spread}-seed{seed}-{checksum}-fit{FIT_VERSION}-v{FORMAT_VERSION}"
    return cache_root() / "simulators" / name


def load_or_fit(
    dataset: str = "movielens-100k", family: str = "latent-factor", *, seed: int = 0, user_spread: float = 0.0
) -> TabularSimulator:
    """The fitted world of a named dataset (fetched if needed), from the cache when it is there;
    ``user_spread`` as in `fit_simulator`."""
    family_spec(family)  # a clear error for an unknown family before any work
    if dataset not in DATASETS:  # a directory: not cached
        return fit_simulator(load(dataset), family, seed=seed, user_spread=user_spread)
    target = world_dir(dataset, family, seed, user_spread)
    if (target / "world.json").is_file():
        return TabularSimulator.load(target)
    world = fit_simulator(load(dataset), family, seed=seed, user_spread=user_spread)
    install_cache_entry(target, world.save, (target / "world.json").is_file)
    return world
