"""The environments' contracts on a small synthetic `RatingData` (no MovieLens needed): a world fitted to
it in this process, the checkers, determinism, vector = single, and the torch backend."""

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import recworld  # noqa: F401 - registers the environments
from recworld.envs import ENV_IDS
from tests.envs.test_envs import assert_same, rollout
from tests.models.synthetic import synthetic_data

DATA = synthetic_data(n_users=120, n_items=60, seed=3)
OPTIONS = {
    "recworld/ColdStart-v0": {"horizon": 12},
    "recworld/Elicitation-v0": {"budget": 6},
    "recworld/Engagement-v0": {"horizon": 30},
}


def make(env_id, **kwargs):
    return gym.make(env_id, dataset=DATA, **OPTIONS[env_id], **kwargs)


@pytest.mark.parametrize("env_id", list(ENV_IDS))
def test_checkers_and_determinism_on_a_synthetic_world(env_id):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(make(env_id).unwrapped, skip_render_check=True)
    assert [str(w.message) for w in caught] == []
    env = make(env_id)
    assert env.action_space.n == DATA.n_items
    actions = np.random.default_rng(0).integers(0, DATA.n_items, 40).tolist()
    assert_same(rollout(env, 4, actions), rollout(make(env_id), 4, actions))


@pytest.mark.parametrize("env_id", list(ENV_IDS))
def test_vector_env_is_the_single_envs_on_a_synthetic_world(env_id):
    n = 3
    vector = gym.make_vec(
        env_id, num_envs=n, vectorization_mode="vector_entry_point", dataset=DATA, **OPTIONS[env_id]
    )
    singles = [make(env_id) for _ in range(n)]
    obs, _ = vector.reset(seed=8)
    single_obs = [env.reset(seed=8 + i)[0] for i, env in enumerate(singles)]
    done = np.zeros(n, dtype=bool)
    for actions in np.random.default_rng(1).integers(0, DATA.n_items, (30, n)):
        for i in range(n):
            for key in obs:
                np.testing.assert_array_equal(obs[key][i], single_obs[i][key])
        obs, reward, terminated, truncated, _ = vector.step(actions)
        for i, env in enumerate(singles):
            if done[i]:
                single_obs[i], _ = env.reset()
                continue
            single_obs[i], r, te, tr, _ = env.step(int(actions[i]))
            assert (r, te, tr) == (reward[i], terminated[i], truncated[i])
        done = terminated | truncated


def test_the_torch_backend_runs_a_synthetic_world():
    kwargs = {"num_envs": 64, "vectorization_mode": "vector_entry_point", "dataset": DATA, "horizon": 12}
    numpy_env = gym.make_vec("recworld/ColdStart-v0", **kwargs)
    torch_env = gym.make_vec("recworld/ColdStart-v0", backend="torch", device="cpu", **kwargs)
    _, numpy_info = numpy_env.reset(seed=2)
    _, torch_info = torch_env.reset(seed=2)
    np.testing.assert_array_equal(np.asarray(torch_info["user"]), numpy_info["user"])  # the same streams
    actions = np.random.default_rng(2).integers(0, DATA.n_items, 64)
    _, numpy_reward, *_ = numpy_env.step(actions)
    _, torch_reward, *_ = torch_env.step(actions)
    assert abs(float(torch_reward.mean()) - numpy_reward.mean()) < 0.5


def test_elicitation_starts_a_member_alike_from_its_cache():
    """A member's second episode starts from the kept lists and metrics: the same as a fresh kernel's."""
    env = make("recworld/Elicitation-v0").unwrapped
    kernel = env.kernel
    parts = (
        "top",
        "ideal_items",
        "error_sum",
        "n_candidates",
        "ideal",
        "ndcg",
        "mae",
        "predicted",
        "candidates",
    )
    for member in (3, 7, 3):
        env.reset(seed=0, options={"member": member})
        for action in range(4):
            env.step(action)  # the episode moves the metrics away from the start
        env.reset(seed=1, options={"member": member})
        fresh = make("recworld/Elicitation-v0").unwrapped
        fresh.reset(seed=1, options={"member": member})
        assert kernel.start_cache[0][kernel.member[0]]
        for name in parts:
            np.testing.assert_array_equal(getattr(kernel, name), getattr(fresh.kernel, name), err_msg=name)
