"""Every recommendation environment runs on MovieLens-1M (the world fitted once and cached)."""

import gymnasium as gym
import numpy as np
import pytest

import recworld  # noqa: F401 - registers the environments
from recworld.envs import ENV_IDS
from recworld.envs.context import kernel_of

pytestmark = [pytest.mark.realdata, pytest.mark.expensive]


@pytest.mark.parametrize("env_id", list(ENV_IDS))
def test_each_environment_runs_on_movielens_1m(env_id):
    env = gym.make(env_id, dataset="movielens-1m", users="test")
    world = kernel_of(env).world
    assert world.item_features.shape[0] == 3883 and len(world.population) > 500
    observation, _ = env.reset(seed=0)
    assert env.observation_space.contains(observation)
    total = 0.0
    for _ in range(5):
        action = int(np.flatnonzero(env.unwrapped.action_masks())[0])
        observation, reward, terminated, truncated, _ = env.step(action)
        total += reward
        if terminated or truncated:
            break
    assert np.isfinite(total)
