import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from recworld.simulators import SimulatorError, TabularSimulator, fit_simulator
from tests.simulators.synthetic import low_rank_ratings


@pytest.fixture(scope="module")
def world():
    data, _ = low_rank_ratings()
    return fit_simulator(data, "latent-factor", seed=0)


@pytest.mark.parametrize("shape", [(6,), (6, 4), None])
def test_answers_have_the_shape_of_items(world, shape):
    users = np.arange(6)
    items = None if shape is None else np.random.default_rng(0).integers(0, world.n_items, shape)
    expected_shape = (6, world.n_items) if shape is None else shape
    rng = np.random.default_rng(1)
    assert world.expected_rating(users, items).shape == expected_shape
    assert world.like_probability(users, items).shape == expected_shape
    assert world.awareness(users, items).shape == expected_shape
    assert world.sample_rating(users, items, rng).shape == expected_shape
    assert world.sample_knows(users, items, rng).dtype == bool
    probs = world.distribution(users, items)
    assert probs.shape == (*expected_shape, 5)
    np.testing.assert_allclose(probs.sum(axis=-1), 1.0, atol=1e-5)
    assert (probs >= 0).all()


def test_answers_agree_with_each_other(world):
    users, items = np.arange(20), np.arange(20)
    probs = world.distribution(users, items)
    np.testing.assert_allclose(world.expected_rating(users, items), probs @ np.arange(1, 6), rtol=1e-5)
    np.testing.assert_allclose(world.like_probability(users, items), probs[:, 3:].sum(axis=1), rtol=1e-5)
    # A higher score means a higher expected rating, and a positive shift raises it.
    assert (world.expected_rating(users, items, shift=1.0) > world.expected_rating(users, items)).all()
    order = np.argsort(world.score(users, items))
    assert np.all(np.diff(world.expected_rating(users, items)[order]) >= -0.3)


def test_sampled_ratings_follow_the_distribution(world):
    users = np.zeros(20_000, dtype=np.int64)
    items = np.full(20_000, 3)
    draws = world.sample_rating(users, items, np.random.default_rng(0))
    frequencies = np.array([(draws == level).mean() for level in range(1, 6)])
    np.testing.assert_allclose(frequencies, world.distribution(users[:1], items[:1])[0], atol=0.015)


def test_draws_are_reproducible(world):
    users, items = np.arange(30), np.arange(30)
    a = world.sample_rating(users, items, np.random.default_rng(5))
    b = world.sample_rating(users, items, np.random.default_rng(5))
    c = world.sample_rating(users, items, np.random.default_rng(6))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


@pytest.mark.parametrize(
    ("users", "items", "message"),
    [
        (np.array([0, 999]), np.array([0, 0]), "user index 999 is outside 0..149"),
        (np.array([-1]), np.array([0]), "user index -1 is outside"),
        (np.array([0]), np.array([90]), "item index 90 is outside 0..89"),
        (np.array([0.5]), np.array([0]), "user indices must be integers"),
        (np.array([0, 1]), np.array([0, 1, 2]), r"items must have shape \(B,\) or \(B, S\) with B = 2"),
        (np.array([[0]]), np.array([0]), "users must be a 1-D array"),
    ],
)
def test_bad_indices_are_named(world, users, items, message):
    with pytest.raises(SimulatorError, match=message):
        world.expected_rating(users, items)


def test_save_load_round_trip_is_exact(world, tmp_path):
    world.save(tmp_path / "w")
    again = TabularSimulator.load(tmp_path / "w")
    for name in ("scores", "noise", "thresholds", "aware_user", "aware_item"):
        assert np.array_equal(getattr(world, name), getattr(again, name))
    assert again.meta["params"] == world.meta["params"]
    users, items = np.arange(10), np.arange(10)
    assert np.array_equal(
        world.sample_rating(users, items, np.random.default_rng(0)),
        again.sample_rating(users, items, np.random.default_rng(0)),
    )
    # The density survives too: the same synthetic users come out.
    a, new, _ = world.with_synthetic_users(3, np.random.default_rng(1))
    b, _, _ = again.with_synthetic_users(3, np.random.default_rng(1))
    assert np.array_equal(a.scores[new], b.scores[new])
    assert sorted(p.name for p in (tmp_path / "w").iterdir()) == ["world.json", "world.npz"]


def test_load_errors_say_what_to_do(world, tmp_path):
    with pytest.raises(SimulatorError, match=r"world\.json: not found — save a simulator there"):
        TabularSimulator.load(tmp_path / "nothing")
    world.save(tmp_path / "w")
    (tmp_path / "w" / "world.npz").write_bytes(b"not a zip")
    with pytest.raises(SimulatorError, match=r"unreadable simulator files .* fit and save it again"):
        TabularSimulator.load(tmp_path / "w")
    world.save(tmp_path / "v")
    config = json.loads((tmp_path / "v" / "world.json").read_text())
    config["format_version"] = 99
    (tmp_path / "v" / "world.json").write_text(json.dumps(config))
    with pytest.raises(SimulatorError, match="format_version 99"):
        TabularSimulator.load(tmp_path / "v")


def test_synthetic_users_are_new_rows_that_look_real(world):
    bigger, new, features = world.with_synthetic_users(400, np.random.default_rng(0))
    assert features.shape == (400, world.density.weights.shape[0] - 1)
    assert bigger.n_users == world.n_users + 400 and list(new) == list(
        range(world.n_users, world.n_users + 400)
    )
    assert bigger.n_real_users == world.n_users
    assert np.array_equal(bigger.scores[: world.n_users], world.scores)
    # The population of new users resembles the real one (means within a tenth of a rating point).
    assert abs(bigger.scores[new].mean() - world.scores.mean()) < 0.1
    assert abs(np.log(bigger.noise[new]).mean() - np.log(world.noise).mean()) < 0.1
    item_means_real = world.scores.mean(axis=0)
    item_means_new = bigger.scores[new].mean(axis=0)
    assert np.corrcoef(item_means_real, item_means_new)[0, 1] > 0.9


def test_synthetic_users_follow_their_demographics(world):
    d = world.density.weights.shape[0] - 1
    features = np.zeros((500, d))
    a, new, _ = world.with_synthetic_users(500, np.random.default_rng(0), user_features=features)
    b, _, _ = world.with_synthetic_users(500, np.random.default_rng(0), user_features=features + 3.0)
    assert not np.allclose(a.scores[new], b.scores[new])
    with pytest.raises(ValueError, match=r"user_features must have shape \(2, "):
        world.with_synthetic_users(2, np.random.default_rng(0), user_features=np.zeros((3, d)))


def test_the_custom_simulator_example_plugs_in():
    path = Path(__file__).resolve().parents[2] / "examples" / "custom_simulator.py"
    spec = importlib.util.spec_from_file_location("custom_simulator", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    genres = np.eye(4, dtype=bool)[np.arange(12) % 4]  # item i has genre i % 4
    world = module.GenreLovers(genres, n_users=4)
    users = np.arange(4)
    # User u loves genre u: item u is loved, item u + 1 is not.
    loved = world.expected_rating(users, users)
    other = world.expected_rating(users, (users + 1) % 12)
    assert (loved > 4.2).all() and (other < 2.8).all()
    assert world.like_probability(users).shape == (4, 12)
    assert set(np.unique(world.sample_rating(users, users, np.random.default_rng(0)))) <= {
        1.0,
        2.0,
        3.0,
        4.0,
        5.0,
    }
    with pytest.raises(SimulatorError, match="item index 12"):
        world.expected_rating(users, np.full(4, 12))
