"""stable-baselines3 and sb3-contrib on the recworld environments with no glue code: the examples run end
to end, SB3's own checker accepts every environment, and PPO trained on training users beats the
uniformly random policy on held-out users by more than its 95% confidence interval.
"""

from __future__ import annotations

import importlib.util
import math
import sys
import warnings
from pathlib import Path
from types import ModuleType

import gymnasium as gym
import numpy as np
import pytest
import torch

import recworld  # noqa: F401 - registers the environments

pytestmark = [
    pytest.mark.realdata,
    # stable-baselines3's make_vec_env first asks for render_mode="rgb_array"; gymnasium warns, the
    # environment refuses it, and make_vec_env retries without a render mode.
    pytest.mark.filterwarnings("ignore:.*rgb_array:UserWarning"),
]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load_example(name: str) -> ModuleType:
    if str(EXAMPLES) not in sys.path:  # the examples import their shared `compare` module
        sys.path.insert(0, str(EXAMPLES))
    spec = importlib.util.spec_from_file_location(f"recworld_example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def one_torch_thread():
    """Small networks train faster on one thread; restore the setting for the tests that follow."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize(
    ("name", "horizon"), [("train_sb3_ppo", 10), ("train_sb3_dqn", 1), ("train_maskable_ppo", 30)]
)
def test_example_runs_end_to_end(name, horizon, one_torch_thread, capsys):
    example = load_example(name)
    result = example.main(["--timesteps", "256", "--eval-episodes", "3", "--seed", "1"])
    for policy in ("trained", "random"):
        returns = result[policy]
        assert len(returns) == 3, policy
        # reward="like" in every example: at most one like per step
        assert all(math.isfinite(r) and 0.0 <= r <= horizon for r in returns), returns
    printed = capsys.readouterr().out
    assert "random" in printed and "held-out episodes" in printed and "95% CI" in printed


@pytest.mark.parametrize(
    "env_id", ["recworld/ColdStart-v0", "recworld/Elicitation-v0", "recworld/Engagement-v0"]
)
def test_sb3_env_checker_accepts_the_environment(env_id):
    from stable_baselines3.common.env_checker import check_env

    kwargs_list = [{}] if env_id == "recworld/Elicitation-v0" else [{}, {"slate_size": 3}]
    for kwargs in kwargs_list:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # any SB3 complaint about the spaces or types fails
            check_env(gym.make(env_id, **kwargs).unwrapped)


@pytest.mark.filterwarnings("ignore:.*rgb_array:UserWarning")  # gymnasium's notice of the same problem
def test_make_vec_env_by_id_needs_no_render_mode():
    from stable_baselines3.common.env_util import make_vec_env

    env = make_vec_env("recworld/ColdStart-v0", n_envs=1)
    assert env.reset()["progress"].shape == (1, 1)


@pytest.mark.expensive
def test_ppo_beats_random_on_held_out_users(one_torch_thread):
    """PPO trained on the training users of the split, evaluated on the test users.

    ColdStart with reward="like" and 10 steps per user: a random film is liked about 43% of the
    time, while a policy that learns which films most users like (and adapts to the demographics and
    the answers it sees) does far better. The trained policy samples its actions: its argmax would
    recommend one film ten times, and a repeat brings nothing. Both policies meet the same held-out
    users in the same order; the interval is Welch's (no pairing assumed).
    """
    example = load_example("train_sb3_ppo")
    kwargs = example.ENV_KWARGS
    train_users = gym.make(example.ENV_ID, **kwargs, users="train").unwrapped.kernel.world.population
    test_users = gym.make(example.ENV_ID, **kwargs, users="test").unwrapped.kernel.world.population
    assert len(test_users) > 50 and not np.intersect1d(train_users, test_users).size  # truly held out

    n_episodes = 300
    result = example.main(["--timesteps", "25000", "--eval-episodes", str(n_episodes), "--seed", "0"])
    trained, random = np.asarray(result["trained"]), np.asarray(result["random"])
    assert len(trained) == len(random) == n_episodes
    margin = trained.mean() - random.mean()
    se = math.sqrt(trained.var(ddof=1) / len(trained) + random.var(ddof=1) / len(random))
    assert margin - 1.96 * se > 0


@pytest.mark.expensive
def test_rllib_ppo_example_runs_end_to_end(capsys):
    """RLlib builds the environments from the registered id in its own workers (extra ``rllib``)."""
    pytest.importorskip("ray.rllib", reason="the rllib extra is not installed")
    example = load_example("train_rllib_ppo")
    result = example.main(["--iterations", "1", "--batch", "200", "--eval-episodes", "4"])
    assert 0 <= result["trained"] <= 10 and 0 <= result["random"] <= 10
    assert result["episodes"] >= 4
    assert "held-out users: PPO (RLlib)" in capsys.readouterr().out


@pytest.mark.expensive
def test_rllib_default_ppo_config_takes_the_flat_observation():
    """RLlib's plain default config, given only the environment id and ``observation="flat"``: no
    connector, no encoder setting (the batch is made small for time)."""
    pytest.importorskip("ray.rllib", reason="the rllib extra is not installed")
    import ray
    from ray.rllib.algorithms.ppo import PPOConfig

    config = (
        PPOConfig()
        .environment("recworld:recworld/ColdStart-v0", env_config={"observation": "flat", "horizon": 5})
        .env_runners(num_env_runners=0)
        .training(train_batch_size_per_learner=100, minibatch_size=50, num_epochs=1)
    )
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    algo = config.build_algo()
    try:
        result = algo.train()
    finally:
        algo.stop()
        ray.shutdown()
    assert result["env_runners"]["num_env_steps_sampled_lifetime"] >= 100


def test_flat_observation_is_the_dict_concatenated():
    for env_id in ("recworld/ColdStart-v0", "recworld/Elicitation-v0", "recworld/Engagement-v0"):
        flat, nested = gym.make(env_id, observation="flat"), gym.make(env_id)
        observation, _ = flat.reset(seed=3)
        expected, _ = nested.reset(seed=3)
        keys = list(nested.observation_space.spaces)
        assert keys == ["history", "progress", "recent_items", "recent_responses", "user"]  # sorted
        np.testing.assert_array_equal(observation, np.concatenate([expected[k] for k in keys]))
        assert flat.observation_space.contains(observation) and observation.dtype == np.float32
    with pytest.raises(ValueError, match="observation='nested' is not one of dict, flat"):
        gym.make("recworld/ColdStart-v0", observation="nested")
