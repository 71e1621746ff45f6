"""Simulators and data of your own in the environments: a user split, names, content-keyed caches."""

import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import recworld  # noqa: F401 - registers the environments
from recworld.data import load_dataset
from recworld.envs.context import kernel_of
from recworld.envs.world import build_world, own_split
from recworld.simulators import SimulatorError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def examples_on_path(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))
    yield
    sys.modules.pop("custom_simulator", None)


def test_own_split_partitions_the_users():
    split = own_split(200, seed=0)
    parts = [split["train"], split["validation"], split["test"]]
    assert sum(map(len, parts)) == 200 and len(np.unique(np.concatenate(parts))) == 200
    assert (len(split["train"]), len(split["validation"]), len(split["test"])) == (160, 20, 20)
    assert not np.array_equal(own_split(200, seed=1)["test"], split["test"])


@pytest.mark.realdata
def test_a_simulator_of_your_own_gets_held_out_users(examples_on_path):
    name = "custom_simulator:make_world"
    train = kernel_of(gym.make("recworld/ColdStart-v0", simulator=name)).world  # users="train" by default
    test = kernel_of(gym.make("recworld/ColdStart-v0", simulator=name, users="test")).world
    assert type(train.simulator).__name__ == "GenreLovers" and train.simulator.n_users == 200
    assert len(test.population) == 20 and not np.isin(test.population, train.population).any()


@pytest.mark.realdata
def test_a_simulator_factory_in_a_suite_and_in_the_benchmark(examples_on_path, tmp_path):
    from recworld.benchmarks.runner import run_suite
    from recworld.benchmarks.suite import parse_suite

    suite = parse_suite(
        'seeds = [0]\n[[envs]]\nid = "recworld/ColdStart-v0"\n'
        'kwargs = { horizon = 5, simulator = "custom_simulator:make_world" }\nagents = ["random", "oracle"]\n'
    )
    result = run_suite(suite, tmp_path, workers=0, progress=False)
    assert result.ok
    table = result.summary["envs"]["ColdStart"]
    assert table["ranking"] == ["oracle", "random"]
    assert table["agents"]["oracle"]["metrics"]["return"]["n"] == 20  # the simulator's own test users


def test_bad_simulator_names_say_what_to_do():
    data = load_dataset("movielens-100k")
    with pytest.raises(SimulatorError, match=r"cannot load 'make' from module 'no_such_module'.*PYTHONPATH"):
        build_world(data, "no_such_module:make")
    with pytest.raises(SimulatorError, match="is not a family"):
        build_world(data, "latent-factorr")


@pytest.mark.realdata
def test_dataset_may_be_a_rating_data_and_directories_are_cached_by_content(tmp_path):
    data = load_dataset("movielens-100k")
    world = build_world(data, "replay", users="test")
    assert world.data is data and len(world.population) == 94

    directory = tmp_path / "mine"
    directory.mkdir()
    rows = data.select(np.arange(data.n_ratings) < 20_000)
    lines = [
        f"{rows.user_ids[u]}\t{rows.item_ids[i]}\t{r:g}\t{t}"
        for u, i, r, t in zip(rows.user, rows.item, rows.rating, rows.timestamp, strict=True)
    ]
    (directory / "u.data").write_text("\n".join(lines) + "\n")
    first = build_world(str(directory), "replay", users="all")
    assert build_world(str(directory), "replay", users="all") is first  # same files: the same world
    (directory / "u.data").write_text("\n".join(lines[:-100]) + "\n")
    second = build_world(str(directory), "replay", users="all")
    assert second is not first and second.data.n_ratings == first.data.n_ratings - 100


@pytest.mark.realdata
def test_the_duplicates_policy_reaches_the_environment(tmp_path):
    (tmp_path / "u.data").write_text(
        "".join(f"{u}\t{i}\t{1 + (u * i) % 5}\t{u * 100 + i}\n" for u in range(1, 31) for i in range(1, 26))
        + "1\t1\t5\t999999\n"
    )
    with pytest.raises(ValueError, match="twice"):
        gym.make("recworld/ColdStart-v0", dataset=str(tmp_path), simulator="replay", users="all")
    env = gym.make(
        "recworld/ColdStart-v0",
        dataset=str(tmp_path),
        simulator="replay",
        users="all",
        duplicates="last",
        horizon=5,
    )
    assert kernel_of(env).world.data.n_ratings == 30 * 25
