"""Bring your own data: a directory holding only ratings (``u.data``, no ``u.user``, no ``u.item``)
loads without invented side information and gives environments well-formed spaces that an
off-the-shelf RL library trains on."""

from __future__ import annotations

import json
import re
from pathlib import Path

import gymnasium
import numpy as np
import pytest
from gymnasium import spaces

import recworld  # noqa: F401  (registers the environments)
from recworld.cli import main
from recworld.data import DataError, RatingData, load, load_dataset, load_directory

N_USERS, N_ITEMS, PER_USER = 60, 40, 30


def write_ratings_only(directory: Path, *, duplicate: bool = False) -> Path:
    """``u.data`` alone: 60 users x 40 items, 30 integer ratings 1..5 per user (seeded)."""
    rng = np.random.default_rng(0)
    rows: list[str] = []
    for user in range(1, N_USERS + 1):
        for item in rng.choice(np.arange(1, N_ITEMS + 1), size=PER_USER, replace=False):
            rows.append(f"{user}\t{item}\t{rng.integers(1, 6)}\t{881250949 + len(rows)}\n")
    if duplicate:  # user 1 rates their first item again, later and differently
        first_user, first_item, first_rating, _ = rows[0].split("\t")
        rows.append(f"{first_user}\t{first_item}\t{6 - int(first_rating)}\t{881250949 + len(rows)}\n")
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "u.data").write_text("".join(rows))
    return directory


@pytest.fixture
def ratings_only(tmp_path: Path) -> Path:
    return write_ratings_only(tmp_path / "my-ratings")


def test_ratings_only_invents_no_side_information(ratings_only: Path) -> None:
    data = load_directory(ratings_only)
    assert (data.n_users, data.n_items, data.n_ratings) == (N_USERS, N_ITEMS, N_USERS * PER_USER)
    assert data.genres == ()
    summary = data.summary()
    assert summary["genres"] == [] and summary["user_columns"] == []
    # Features are never zero columns wide: one constant user column, the item year column.
    user_features, user_names = data.user_features()
    assert user_features.shape == (N_USERS, 1) and user_names == ["constant"]
    assert user_features.dtype == np.float32 and not user_features.any()
    item_features, item_names = data.item_features()
    assert item_features.shape == (N_ITEMS, 1) and item_names == ["year"]


def test_data_info_lists_only_what_the_files_hold(ratings_only: Path, capsys) -> None:
    assert main(["data", "info", "--path", str(ratings_only)]) == 0
    text = capsys.readouterr().out
    assert f"users     {N_USERS}" in text
    assert "genres" not in text and "user features" not in text
    assert main(["data", "info", "--path", str(ratings_only), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["genres"] == [] and summary["user_columns"] == []


@pytest.mark.parametrize("users", ["all", "train", "test"])
def test_environment_spaces_are_well_formed(ratings_only: Path, users: str) -> None:
    env = gymnasium.make("recworld/ColdStart-v0", dataset=str(ratings_only), users=users, horizon=5)
    try:
        assert isinstance(env.observation_space, spaces.Dict)
        for key, box in env.observation_space.spaces.items():
            assert isinstance(box, spaces.Box)
            assert int(np.prod(box.shape)) >= 1, f"observation {key!r} has shape {box.shape}"
        observation, _ = env.reset(seed=0)
        assert observation in env.observation_space
        assert observation["user"].shape == (1,)
    finally:
        env.close()


def test_ppo_trains_on_a_ratings_only_directory(ratings_only: Path) -> None:
    from stable_baselines3 import PPO

    env = gymnasium.make("recworld/ColdStart-v0", dataset=str(ratings_only), users="all", horizon=5)
    try:
        model = PPO("MultiInputPolicy", env, n_steps=32, batch_size=16, n_epochs=1, device="cpu", seed=0)
        model.learn(64)
        assert model.num_timesteps >= 64
    finally:
        env.close()


def test_load_dataset_reads_a_directory(ratings_only: Path) -> None:
    expected = load_directory(ratings_only).checksum()
    for given in (str(ratings_only), ratings_only):
        assert load_dataset(given).checksum() == expected
        assert load(given).checksum() == expected


def test_load_dataset_of_an_unknown_name_lists_the_known_ones(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # "movielens-25m" is not a directory here either
    with pytest.raises(DataError, match=r"'movielens-25m' is neither a known dataset nor a directory") as err:
        load_dataset("movielens-25m")
    assert err.value.hint is not None and "known datasets: movielens-100k, movielens-1m" in err.value.hint


def test_the_duplicate_error_names_a_way_that_works(tmp_path: Path) -> None:
    directory = write_ratings_only(tmp_path / "with-duplicate", duplicate=True)
    with pytest.raises(DataError) as err:
        gymnasium.make("recworld/ColdStart-v0", dataset=str(directory), users="all", horizon=5)
    call = re.search(r"recworld\.data\.load_directory\('([^']*)', duplicates='last'\)", str(err.value))
    assert call is not None, str(err.value)
    assert Path(call.group(1)) == directory.resolve()
    # What the message says to do works: the named call, and its result as dataset=.
    data = load_directory(call.group(1), duplicates="last")
    assert isinstance(data, RatingData) and data.n_ratings == N_USERS * PER_USER
    assert load_dataset(directory, duplicates="last").checksum() == data.checksum()
    env = gymnasium.make("recworld/ColdStart-v0", dataset=data, users="all", horizon=5)
    try:
        env.reset(seed=0)
    finally:
        env.close()
