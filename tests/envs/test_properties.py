"""Property tests over every registered recworld environment: random sequences of valid and invalid
actions (and resets) for thousands of steps, checked against the Gymnasium contract and the manuals.

Each configuration is built once per module (`single_env`, `vector_env`); the worlds under them are
cached by recworld itself, so the whole module costs a few seconds of set-up. Hypothesis runs
derandomized, so CI sees the same examples every time.
"""

from __future__ import annotations

import functools
import math
import warnings
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.error import ResetNeeded
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import recworld  # noqa: F401 - registers the environments
from recworld.envs import InvalidAction

pytestmark = pytest.mark.realdata

# Short horizons, so that episodes end (and resets, ResetNeeded and autoreset are exercised) often.
CONFIGS: dict[str, list[dict[str, Any]]] = {
    "recworld/ColdStart-v0": [
        {"horizon": 6},
        {"horizon": 5, "slate_size": 3, "reward": "like", "choice_model": "cascade"},
        {"horizon": 5, "slate_size": 3, "reward": "click", "choice_model": "position", "users": "synthetic"},
        {"horizon": 4, "reward": "surprise", "choice_model": "position", "users": "synthetic"},
        {"horizon": 4, "slate_size": 3, "reward": "surprise", "choice_model": "mnl"},
        {"horizon": 4, "reward": "click", "choice_model": "cascade"},
    ],
    "recworld/Engagement-v0": [
        {"horizon": 12},
        {"horizon": 10, "slate_size": 3, "reward": "click", "choice_model": "mnl", "users": "synthetic"},
        {"horizon": 10, "slate_size": 3, "reward": "like", "choice_model": "position"},
        {"horizon": 8, "reward": "surprise", "choice_model": "cascade", "users": "synthetic"},
    ],
    "recworld/Elicitation-v0": [
        {"budget": 5},
        {"budget": 4, "k": 5, "users": "synthetic"},
    ],
}
CASES = [(env_id, index) for env_id, configs in CONFIGS.items() for index in range(len(configs))]
MAX_RATING = 5.0  # MovieLens ratings are 1..5
NUM_ENVS = 8


def horizon(env_id: str, index: int) -> int:
    config = CONFIGS[env_id][index]
    return config["budget"] if env_id == "recworld/Elicitation-v0" else config["horizon"]


@functools.cache
def single_env(env_id: str, index: int) -> gym.Env:
    return gym.make(env_id, **CONFIGS[env_id][index])


@functools.cache
def vector_env(env_id: str, index: int) -> gym.vector.VectorEnv:
    return gym.make_vec(
        env_id, num_envs=NUM_ENVS, vectorization_mode="vector_entry_point", **CONFIGS[env_id][index]
    )


# ------------------------------------------------------------------------------------------ actions
# Whether an action is valid is decided here, from the space, never by asking the environment.


def _item_forms(item: int) -> st.SearchStrategy[Any]:
    return st.sampled_from([item, np.int64(item), np.int32(item), np.array(item)])


def valid_action(space: spaces.Space) -> st.SearchStrategy[Any]:
    """Actions in the space, in the forms callers use; items from a small pool half of the time, so
    that repeats (and duplicates within a slate) are common."""
    if isinstance(space, spaces.Discrete):
        n = int(space.n)
        items = st.one_of(st.integers(0, 9), st.integers(0, n - 1))
        # The environments also accept whole numbers given as floats (`Kernel.check_actions`), though
        # ``Discrete.contains(3.0)`` is False; they are pinned here as accepted.
        return st.one_of(items.flatmap(_item_forms), items.map(float))
    assert isinstance(space, spaces.MultiDiscrete)
    n, size = int(space.nvec[0]), len(space.nvec)
    slate = st.lists(st.one_of(st.integers(0, 9), st.integers(0, n - 1)), min_size=size, max_size=size)
    forms = st.sampled_from(
        [list, tuple, np.array, lambda s: np.array(s, dtype=np.int32), lambda s: np.array(s, dtype=float)]
    )
    return st.tuples(slate, forms).map(lambda pair: pair[1](pair[0]))


def invalid_action(space: spaces.Space) -> st.SearchStrategy[Any]:
    """Actions outside the space: out of the catalog, wrong shape or type, non-integral numbers."""
    odd = st.sampled_from(
        [None, "3", "a film", b"1", {"item": 1}, [[1], [1, 2]], object(), np.array([[1, 2], [3, 4]])]
    )
    fractions = st.tuples(st.integers(-(10**6), 10**6), st.floats(0.1, 0.9)).map(sum)
    non_integral = st.one_of(st.just(math.nan), fractions, fractions.map(np.float32))
    if isinstance(space, spaces.Discrete):
        n = int(space.n)
        actions = st.one_of(
            st.integers(-(2**70), -1),
            st.integers(n, 2**70),
            st.one_of(st.integers(-5, -1), st.integers(n, n + 5)).map(np.int64),
            non_integral,
            st.lists(st.integers(0, n - 1), min_size=1, max_size=3),
            st.integers(0, n - 1).map(lambda i: np.array([i])),
            odd,
        )
    else:
        assert isinstance(space, spaces.MultiDiscrete)
        n, size = int(space.nvec[0]), len(space.nvec)
        item = st.integers(0, n - 1)
        wrong_length = st.one_of(st.integers(0, size - 1), st.integers(size + 1, 2 * size))
        bad_entry = st.one_of(st.integers(-(2**70), -1), st.integers(n, 2**70), non_integral)
        actions = st.one_of(
            wrong_length.flatmap(lambda k: st.lists(item, min_size=k, max_size=k)),
            st.tuples(st.lists(item, min_size=size, max_size=size), st.integers(0, size - 1), bad_entry).map(
                lambda t: [*t[0][: t[1]], t[2], *t[0][t[1] + 1 :]]
            ),
            item,  # a single item where a slate is expected
            st.lists(item, min_size=size, max_size=size).map(lambda s: np.array([s])),  # a batch of one
            odd,
        )
    return actions


def items_of(action: Any) -> list[int]:
    return [int(x) for x in np.asarray(action, dtype=float).reshape(-1)]


# ------------------------------------------------------------------------------------------ checks
INFO_TYPES: dict[tuple[str, int], dict[str, type]] = {}


def check_observation(space: spaces.Dict, obs: dict[str, np.ndarray], progress: float) -> None:
    assert space.contains(obs), {k: (v.dtype, v.shape, v.min(), v.max()) for k, v in obs.items()}
    assert all(value.dtype == np.float32 for value in obs.values())
    assert obs["progress"][0] == pytest.approx(progress, abs=1e-6)


def check_info(case: tuple[str, int], info: dict[str, Any]) -> None:
    types = {key: type(value) for key, value in info.items()}
    assert all(t in (int, float) for t in types.values()), types
    assert all(math.isfinite(value) for value in info.values()), info
    assert INFO_TYPES.setdefault(case, types) == types, "info keys or types changed between steps"


def check_reward(env_id: str, index: int, reward: Any, slate: int) -> None:
    assert type(reward) is float and math.isfinite(reward), reward
    if env_id == "recworld/Elicitation-v0":  # a change of nDCG
        assert -1.0 <= reward <= 1.0
        return
    default = "centred" if env_id == "recworld/Engagement-v0" else "rating"
    kind = CONFIGS[env_id][index].get("reward", default)
    half = (MAX_RATING - 1.0) / 2  # centred: rating minus the scale's midpoint, in [-2, 2] on 1..5
    low = -half * slate if kind == "centred" else 0.0
    high = {"rating": MAX_RATING, "centred": half, "like": 1.0, "click": 1.0, "surprise": MAX_RATING - 1.0}
    assert low <= reward <= high[kind] * slate, (kind, reward)
    if kind in ("like", "click"):
        assert reward.is_integer()


# ------------------------------------------------------------------------------------------ tests
def test_every_registered_environment_is_covered():
    from recworld.envs import REPLAY_IDS  # logged-data replays have tests of their own

    registered = {env_id for env_id in gym.registry if env_id.startswith("recworld/")}
    assert registered - set(REPLAY_IDS) == set(CONFIGS)


@pytest.mark.parametrize("env_id", sorted(CONFIGS))
def test_step_before_reset_needs_a_reset(env_id):
    env = gym.make(env_id, **CONFIGS[env_id][0])
    with pytest.raises(ResetNeeded):
        env.step(0)
    with pytest.raises(ResetNeeded):
        env.unwrapped.step(0)
    vector = gym.make_vec(env_id, num_envs=2, vectorization_mode="vector_entry_point", **CONFIGS[env_id][0])
    with pytest.raises(ResetNeeded):
        vector.step(np.zeros(2, dtype=np.int64))


@pytest.mark.parametrize("action", [float("inf"), -float("inf"), 1e30])
def test_invalid_float_action_message_names_the_value(action):
    env = single_env("recworld/ColdStart-v0", 0)
    env.reset(seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "invalid value encountered in cast" on the way
        with pytest.raises(InvalidAction, match=repr(action).replace("+", r"\+")):
            env.step(action)


@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(case=st.sampled_from(CASES), seed=st.integers(0, 2**32 - 1), data=st.data())
def test_single_env_properties(case, seed, data):
    env_id, index = case
    env = single_env(env_id, index)
    space, h = env.action_space, horizon(env_id, index)
    slate = 1 if isinstance(space, spaces.Discrete) else len(space.nvec)
    engagement_like = env_id != "recworld/Elicitation-v0"
    moves = st.sampled_from(["valid"] * 6 + ["invalid"] * 2 + ["reset"])
    actions = {"valid": valid_action(space), "invalid": invalid_action(space)}

    obs, info = env.reset(seed=seed)
    running, t, shown, user = True, 0, set(), info["user"]
    for _ in range(data.draw(st.integers(20, 80), label="moves")):
        if not running or data.draw(moves, label="move") == "reset":
            if not running:  # stepping an ended episode, with any action, needs a reset
                action = data.draw(st.one_of(actions["valid"], actions["invalid"]), label="after end")
                with pytest.raises(ResetNeeded):
                    env.step(action)
            reset_seed = data.draw(st.one_of(st.none(), st.integers(0, 2**32 - 1)), label="reset seed")
            obs, info = env.reset(seed=reset_seed)
            assert set(info) == {"user"} and type(info["user"]) is int
            user = info["user"]
            check_observation(env.observation_space, obs, 0.0)
            running, t, shown = True, 0, set()
            continue
        mask = env.get_wrapper_attr("action_masks")()
        expected_mask = np.ones(int(space.n if slate == 1 else space.nvec[0]), dtype=bool)
        expected_mask[list(shown)] = False
        assert mask.dtype == bool and mask.tolist() == np.tile(expected_mask, slate).tolist()

        valid = data.draw(st.booleans(), label="valid?")
        action = data.draw(actions["valid" if valid else "invalid"], label="action")
        if not valid:
            with pytest.raises(InvalidAction):
                env.step(action)
            continue  # the episode goes on as if the action had not been given
        obs, reward, terminated, truncated, info = env.step(action)
        t += 1
        items = items_of(action)
        seen, repeats = set(shown), 0
        for item in items:  # a slot repeats an earlier step's item or an earlier slot of its slate
            repeats += item in seen
            seen.add(item)
        shown = seen

        assert type(terminated) is bool and type(truncated) is bool
        check_observation(env.observation_space, obs, t / h)
        check_reward(env_id, index, reward, slate)
        check_info(case, info)
        assert info["user"] == user  # one user per episode
        assert info["repeats"] == repeats
        repeat = repeats == slate
        if engagement_like:  # regret: the user's best unseen items' expected ratings minus the slate's
            assert -1e-4 <= info["regret"] <= MAX_RATING + 1e-4, info["regret"]
        if repeat and engagement_like:  # items shown earlier bring nothing
            assert reward == 0.0 and info["clicks"] == 0
        if env_id == "recworld/ColdStart-v0":
            assert not terminated and truncated == (t == h)
        elif env_id == "recworld/Engagement-v0":
            assert not (terminated and truncated) and truncated == (t == h and not terminated)
        else:
            assert not truncated and terminated == (t == h)
            if repeat:  # asking twice teaches nothing
                assert info["known"] == 0 and reward == 0.0
        running = not (terminated or truncated)


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(case=st.sampled_from(CASES), seed=st.integers(0, 2**31 - 1), data=st.data())
def test_vector_env_properties(case, seed, data):
    env_id, index = case
    env = vector_env(env_id, index)
    single = env.single_action_space
    slate = 1 if isinstance(single, spaces.Discrete) else len(single.nvec)
    n_items = int(single.n if slate == 1 else single.nvec[0])
    h = horizon(env_id, index)
    shape = (NUM_ENVS,) if slate == 1 else (NUM_ENVS, slate)

    obs, info = env.reset(seed=seed)
    assert env.observation_space.contains(obs)
    assert np.all(obs["progress"] == 0.0) and info["user"].shape == (NUM_ENVS,)
    t = np.zeros(NUM_ENVS, dtype=np.int64)
    ended = np.zeros(NUM_ENVS, dtype=bool)
    keys: set[str] | None = None
    for _ in range(data.draw(st.integers(10, 40), label="steps")):
        if data.draw(st.integers(0, 9), label="invalid?") == 0:
            bad = data.draw(
                st.sampled_from(
                    [
                        np.full(shape, n_items),
                        np.full(shape, -1),
                        np.zeros((NUM_ENVS + 1, *shape[1:]), dtype=np.int64),
                        np.full(shape, 0.5),
                    ]
                ),
                label="invalid batch",
            )
            with pytest.raises(InvalidAction):
                env.step(bad)
            continue
        pool = data.draw(st.sampled_from([10, n_items]), label="pool")
        rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="action seed"))
        actions = rng.integers(0, pool, size=shape)
        obs, reward, terminated, truncated, info = env.step(actions)

        assert env.observation_space.contains(obs)
        assert reward.shape == (NUM_ENVS,) and reward.dtype == np.float64 and np.all(np.isfinite(reward))
        for flags in (terminated, truncated):
            assert flags.shape == (NUM_ENVS,) and flags.dtype == bool
        if keys is None:
            keys = set(info)
        assert set(info) == keys and all(info[key].shape == (NUM_ENVS,) for key in keys)
        t = np.where(ended, 0, t + 1)
        # NEXT_STEP autoreset: the step after an episode ends only resets that sub-environment
        assert np.all(reward[ended] == 0.0)
        assert not terminated[ended].any() and not truncated[ended].any()
        for key in ("recent_items", "recent_responses", "history"):
            assert np.all(obs[key][ended] == 0.0), key
        assert not info["_rating"][ended].any() and info["_rating"][~ended].all()
        assert info["_user"].all()  # a reset sub-environment reports its new user
        np.testing.assert_array_equal(info["user"], env.unwrapped.kernel.user)
        np.testing.assert_allclose(obs["progress"][:, 0], t / h, atol=1e-6)
        if env_id == "recworld/Elicitation-v0":
            assert not truncated.any() and np.array_equal(terminated, t == h)
        else:
            assert np.array_equal(truncated, (t == h) & ~terminated)
            assert env_id == "recworld/Engagement-v0" or not terminated.any()
        ended = terminated | truncated
