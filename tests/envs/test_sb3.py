"""stable-baselines3 and sb3-contrib on the recgym environments with no glue code: the examples run end
to end, SB3's own checker accepts every environment, and PPO trained on training users beats the
uniformly random policy on held-out users by more than its 95% confidence interval.
"""

from __future__ import annotations

import importlib.util
import math
import warnings
from pathlib import Path
from types import ModuleType

import gymnasium as gym
import numpy as np
import pytest
import torch

import recgym  # noqa: F401 - registers the environments

pytestmark = [
    pytest.mark.realdata,
    # stable-baselines3's make_vec_env first asks for render_mode="rgb_array"; gymnasium warns, the
    # environment refuses it, and make_vec_env retries without a render mode.
    pytest.mark.filterwarnings("ignore:.*rgb_array:UserWarning"),
]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load_example(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"recgym_example_{name}", EXAMPLES / f"{name}.py")
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


@pytest.mark.parametrize("env_id", ["recgym/ColdStart-v0", "recgym/Elicitation-v0", "recgym/Engagement-v0"])
def test_sb3_env_checker_accepts_the_environment(env_id):
    from stable_baselines3.common.env_checker import check_env

    kwargs_list = [{}] if env_id == "recgym/Elicitation-v0" else [{}, {"slate_size": 3}]
    for kwargs in kwargs_list:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # any SB3 complaint about the spaces or types fails
            check_env(gym.make(env_id, **kwargs).unwrapped)


@pytest.mark.filterwarnings("ignore:.*rgb_array:UserWarning")  # gymnasium's notice of the same problem
def test_make_vec_env_by_id_needs_no_render_mode():
    from stable_baselines3.common.env_util import make_vec_env

    env = make_vec_env("recgym/ColdStart-v0", n_envs=1)
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
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.evaluation import evaluate_policy

    kwargs = {"reward": "like", "horizon": 10}
    train_env = make_vec_env("recgym/ColdStart-v0", n_envs=8, seed=0, env_kwargs={**kwargs, "users": "train"})
    test_env = make_vec_env("recgym/ColdStart-v0", n_envs=1, env_kwargs={**kwargs, "users": "test"})
    train_users = train_env.envs[0].unwrapped.kernel.world.population
    test_users = test_env.envs[0].unwrapped.kernel.world.population
    assert len(test_users) > 50 and not np.intersect1d(train_users, test_users).size  # truly held out

    model = PPO(
        "MultiInputPolicy",
        train_env,
        n_steps=64,
        batch_size=128,
        n_epochs=4,
        learning_rate=1e-3,
        gamma=0.9,
        seed=0,
        verbose=0,
    )
    model.learn(total_timesteps=25_000)

    class UniformRandom:
        def __init__(self, seed: int) -> None:
            self.rng = np.random.default_rng(seed)

        def predict(self, observation, state=None, episode_start=None, deterministic=False):
            return self.rng.integers(0, test_env.action_space.n, size=len(episode_start)), state

    n_episodes = 300
    test_env.seed(12_345)
    trained, _ = evaluate_policy(
        model, test_env, n_eval_episodes=n_episodes, deterministic=False, return_episode_rewards=True
    )
    test_env.seed(12_345)
    random, _ = evaluate_policy(
        UniformRandom(0), test_env, n_eval_episodes=n_episodes, return_episode_rewards=True
    )
    trained, random = np.asarray(trained, dtype=float), np.asarray(random, dtype=float)
    assert len(trained) == len(random) == n_episodes

    margin = trained.mean() - random.mean()
    se = math.sqrt(trained.var(ddof=1) / len(trained) + random.var(ddof=1) / len(random))
    print(
        f"\nColdStart-v0 like/10 steps, {n_episodes} held-out episodes each: "
        f"PPO {trained.mean():.3f} (SE {trained.std(ddof=1) / math.sqrt(len(trained)):.3f}), "
        f"random {random.mean():.3f} (SE {random.std(ddof=1) / math.sqrt(len(random)):.3f}); "
        f"margin {margin:.3f} +- {1.96 * se:.3f} (95% CI)"
    )
    assert margin - 1.96 * se > 0
