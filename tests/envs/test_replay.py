"""The replay twin: `ReplaySimulator` (real users' own ratings as the truth) and the environments run
on it (``simulator="replay"``), with the ``candidates="rated"`` protocol they share with a world."""

from __future__ import annotations

import functools

import gymnasium as gym
import numpy as np
import pytest

import recworld  # noqa: F401 - registers the environments
from recworld.simulators import ReplaySimulator
from recworld.simulators.base import SimulatorError

COLD_START = "recworld/ColdStart-v0"
ELICITATION = "recworld/Elicitation-v0"
ENGAGEMENT = "recworld/Engagement-v0"


# ---------------------------------------------------------------- the simulator on a hand-made table
def tiny() -> ReplaySimulator:
    """Three users, four films: user 0 rated films 0 (5) and 2 (3), user 1 film 1 (4), user 2 film 2 (1)."""
    return ReplaySimulator(
        users=np.array([0, 0, 1, 2]),
        items=np.array([0, 2, 1, 2]),
        ratings=np.array([5.0, 3.0, 4.0, 1.0]),
        n_users=3,
        n_items=4,
        rating_levels=np.arange(1.0, 6.0),
        name="tiny",
    )


RATED = np.array(
    [
        [True, False, True, False],
        [False, True, False, False],
        [False, False, True, False],
    ]
)


def test_replay_scores_are_the_real_ratings():
    sim = tiny()
    everyone = np.arange(3)
    table = sim.score(everyone)
    assert table.shape == (3, 4)
    np.testing.assert_array_equal(table[RATED], [5.0, 3.0, 4.0, 1.0])
    # unrated films score one level below the scale, under every real rating
    assert sim.unrated == pytest.approx(0.0)
    assert np.all(table[~RATED] == sim.unrated)
    assert np.all(table[~RATED] < sim.rating_levels.min())
    # per pair and per slate
    np.testing.assert_array_equal(sim.score(np.array([0, 1, 2]), np.array([0, 1, 2])), [5.0, 4.0, 1.0])
    np.testing.assert_array_equal(sim.score(np.array([0]), np.array([[2, 0, 3]])), [[3.0, 5.0, 0.0]])
    np.testing.assert_array_equal(sim.real_users(), everyone)
    assert sim.family == "replay"


def test_replay_rating_distribution_is_one_hot_at_the_real_rating():
    sim = tiny()
    users, items = np.array([0, 0, 1, 2]), np.array([0, 2, 1, 2])
    probs = sim.distribution(users, items)
    assert probs.shape == (4, 5)
    np.testing.assert_array_equal(probs.sum(axis=-1), 1.0)
    np.testing.assert_array_equal(probs.argmax(axis=-1), [4, 2, 3, 0])  # levels 5, 3, 4, 1
    assert set(np.unique(probs)) == {0.0, 1.0}
    np.testing.assert_array_equal(sim.expected_rating(users, items), [5.0, 3.0, 4.0, 1.0])
    # ratings are deterministic: every draw is the real rating
    rng = np.random.default_rng(0)
    for _ in range(5):
        np.testing.assert_array_equal(sim.sample_rating(users, items, rng), [5.0, 3.0, 4.0, 1.0])
    np.testing.assert_array_equal(sim.like_probability(users, items), [1.0, 0.0, 1.0, 0.0])


def test_replay_awareness_is_one_exactly_on_rated_pairs():
    sim = tiny()
    np.testing.assert_array_equal(sim.awareness(np.arange(3)), RATED.astype(np.float32))
    users, items = np.nonzero(np.ones((3, 4), dtype=bool))
    np.testing.assert_array_equal(sim.awareness(users, items), RATED[users, items].astype(np.float32))
    rng = np.random.default_rng(1)
    np.testing.assert_array_equal(sim.sample_knows(np.arange(3), None, rng), RATED)


def test_replay_rating_levels_default_to_the_data_and_must_be_few():
    sim = ReplaySimulator(np.array([0, 1]), np.array([0, 0]), np.array([2.0, 4.0]), 2, 1)
    np.testing.assert_array_equal(sim.rating_levels, [2.0, 4.0])
    assert sim.unrated == pytest.approx(1.0)
    many = np.arange(11, dtype=np.float64)
    with pytest.raises(SimulatorError, match="at most 10 levels"):
        ReplaySimulator(np.zeros(11, dtype=np.int64), np.arange(11), many, 1, 11)
    with pytest.raises(SimulatorError, match="outside"):
        tiny().score(np.array([3]))


# ---------------------------------------------------------------- environments on MovieLens
@functools.cache
def ratings_by_user() -> dict[int, dict[int, float]]:
    from recworld.data import load_dataset

    data = load_dataset("movielens-100k")
    table: dict[int, dict[int, float]] = {}
    for user, item, rating in zip(data.user.tolist(), data.item.tolist(), data.rating.tolist(), strict=True):
        table.setdefault(user, {})[item] = rating
    return table


def rated_mask(user: int, n_items: int) -> np.ndarray:
    mask = np.zeros(n_items, dtype=bool)
    mask[list(ratings_by_user()[user])] = True
    return mask


@pytest.mark.realdata
@pytest.mark.parametrize("member", [0, 7, 31])
def test_cold_start_replay_masks_rewards_and_never_repeats(member):
    env = gym.make(COLD_START, simulator="replay", users="test", reward="rating")
    _, info = env.reset(seed=member, options={"member": member})
    user = info["user"]
    ratings = ratings_by_user()[user]
    mask = env.unwrapped.action_masks()
    np.testing.assert_array_equal(mask, rated_mask(user, len(mask)))

    rng = np.random.default_rng(member)
    shown = []
    for step in range(20):
        mask = env.unwrapped.action_masks()
        assert mask.sum() == len(ratings) - step
        action = int(rng.choice(np.flatnonzero(mask)))
        _, reward, terminated, truncated, info = env.step(action)
        assert reward == pytest.approx(ratings[action])
        assert info["rating"] == pytest.approx(ratings[action])
        assert info["expected_rating"] == pytest.approx(ratings[action])
        assert info["repeats"] == 0
        assert info["regret"] >= -1e-6  # the best unseen film is among the rated ones
        assert info["user"] == user
        assert not terminated
        assert truncated == (step == 19)
        shown.append(action)
    assert len(set(shown)) == len(shown)


@pytest.mark.realdata
def test_cold_start_replay_vector_env_masks_each_user():
    env = gym.make_vec(COLD_START, num_envs=3, vectorization_mode="vector_entry_point", simulator="replay")
    _, info = env.reset(seed=5)
    masks = env.unwrapped.action_masks()
    assert masks.shape[0] == 3
    for row, user in enumerate(info["user"]):
        np.testing.assert_array_equal(masks[row], rated_mask(int(user), masks.shape[1]))
    actions = np.array([np.flatnonzero(masks[row])[0] for row in range(3)])
    _, rewards, _, _, info = env.step(actions)
    expected = [ratings_by_user()[int(u)][int(a)] for u, a in zip(info["user"], actions, strict=True)]
    np.testing.assert_allclose(rewards, expected)
    env.close()


@pytest.mark.realdata
def test_cold_start_world_rated_candidates_mask_as_replay():
    replay = gym.make(COLD_START, simulator="replay", users="test")
    world = gym.make(COLD_START, users="test", candidates="rated")
    for seed in (0, 3):
        _, replay_info = replay.reset(seed=seed)
        _, world_info = world.reset(seed=seed)
        assert replay_info["user"] == world_info["user"]
        np.testing.assert_array_equal(replay.unwrapped.action_masks(), world.unwrapped.action_masks())
    # and the world's default is the whole catalog
    everything = gym.make(COLD_START, users="test")
    everything.reset(seed=0)
    assert everything.unwrapped.action_masks().all()


@pytest.mark.realdata
@pytest.mark.parametrize("reward", ["mae", "ndcg"])
def test_elicitation_replay_answers_exactly_the_rated_films(reward):
    env = gym.make(ELICITATION, simulator="replay", users="test", reward=reward, budget=10)
    _, info = env.reset(seed=2, options={"member": 4})
    user = info["user"]
    ratings = ratings_by_user()[user]
    n_items = env.unwrapped.action_space.n
    rated = np.flatnonzero(rated_mask(user, n_items))
    unrated = np.flatnonzero(~rated_mask(user, n_items))
    rng = np.random.default_rng(0)
    distinct = rng.permutation([*rng.choice(rated, 5, replace=False), *rng.choice(unrated, 4, replace=False)])
    questions = [int(q) for q in distinct]
    questions.insert(3, questions[0])  # a repeat: no answer the second time
    assert len(questions) == 10
    answered = 0
    total = 0.0
    for step, item in enumerate(questions):
        _, r, terminated, truncated, info = env.step(item)
        repeat = item in questions[:step]
        knows = item in ratings and not repeat
        assert info["known"] == int(knows), (step, item)
        assert info["repeats"] == int(repeat)
        assert info["rating"] == pytest.approx(ratings[item] if knows else 0.0)
        if item in ratings:
            assert info["expected_rating"] == pytest.approx(ratings[item])
        assert np.isfinite(r)
        assert "mae" in info and np.isfinite(info["mae"]) and info["mae"] >= 0.0
        assert 0.0 <= info["ndcg"] <= 1.0 + 1e-9
        assert terminated == (step == len(questions) - 1)
        assert not truncated
        total += r
        answered += info["known"]
    assert answered == 5  # the five rated films, once each
    assert np.isfinite(total)


# ---------------------------------------------------------------- bad input
@pytest.mark.realdata
def test_engagement_has_no_replay_twin():
    with pytest.raises(ValueError, match="replay twin"):
        gym.make(ENGAGEMENT, simulator="replay")


@pytest.mark.realdata
@pytest.mark.parametrize("env_id", [COLD_START, ELICITATION])
def test_replay_refuses_the_whole_catalog(env_id):
    with pytest.raises(ValueError, match="candidates='all'"):
        gym.make(env_id, simulator="replay", candidates="all")
    with pytest.raises(ValueError, match="'everything'"):
        gym.make(env_id, simulator="replay", candidates="everything")


@pytest.mark.realdata
def test_elicitation_unknown_reward_is_named():
    with pytest.raises(ValueError, match="'bogus'"):
        gym.make(ELICITATION, simulator="replay", reward="bogus")


@pytest.mark.realdata
def test_cold_start_replay_horizon_longer_than_the_ratings():
    with pytest.raises(ValueError, match=r"at least 500 films.*users have fewer"):
        gym.make(COLD_START, simulator="replay", horizon=500)
    with pytest.raises(ValueError, match="at least 500 films"):
        gym.make(COLD_START, candidates="rated", horizon=500)


@pytest.mark.realdata
def test_cold_start_replay_unrated_film_brings_nothing():
    env = gym.make(COLD_START, simulator="replay", users="test")
    _, info = env.reset(seed=1, options={"member": 2})
    unrated = int(np.flatnonzero(~env.unwrapped.action_masks())[0])
    assert unrated not in ratings_by_user()[info["user"]]
    _, reward, _, _, info = env.step(unrated)  # outside the mask: counted as already shown
    assert reward == 0.0
    assert info["repeats"] == 1


@pytest.mark.realdata
def test_vector_replay_steps_past_the_end_of_an_episode_without_error():
    """Next-step autoreset steps a finished user once more before restarting them; a user whose rated
    films are all shown must not run off the end of their list (regression)."""
    from recworld.envs.world import build_world

    counts = np.array([len(rated) for rated in build_world(simulator="replay").population_rated])
    fewest = np.flatnonzero(counts == counts.min())[:2]
    env = gym.make_vec(
        "recworld/ColdStart-v0",
        num_envs=len(fewest),
        vectorization_mode="vector_entry_point",
        simulator="replay",
        horizon=int(counts.min()),
    )
    env.reset(seed=0, options={"members": fewest})
    for _ in range(2 * int(counts.min()) + 2):
        masks = env.action_masks()
        env.step(np.array([np.flatnonzero(row)[0] if row.any() else 0 for row in masks]))
