"""Train stable-baselines3 PPO on `recgym/ColdStart-v0` and compare it with a random policy.

PPO trains on the *training* users of the MovieLens-100K split and is evaluated on held-out *test*
users, whose ratings it never saw (the simulator's true preferences for them are hidden from it). The
environment goes to stable-baselines3 as it is: a registered id, a single-level ``Dict`` of float32
boxes (``MultiInputPolicy``) and a ``Discrete`` action over the 1,682 films.

Each episode is a new user: 10 recommendations, reward 1 for each film the user rates 4 or 5. The
trained policy is evaluated with sampled actions (``deterministic=False``): its argmax would
recommend the same film ten times, and a film shown before brings nothing (``MaskablePPO``, in
``train_maskable_ppo.py``, masks them instead). Both policies meet the same held-out users.

Run: python examples/train_sb3_ppo.py [--timesteps 40000] [--seed 0]   (about a minute on 2 cores)
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy

import recgym  # noqa: F401 - registers the recgym/... environment ids

ENV_ID = "recgym/ColdStart-v0"
ENV_KWARGS: dict[str, Any] = {"reward": "like", "horizon": 10}


class RandomPolicy:
    """The uniformly random baseline, with the ``predict`` method that `evaluate_policy` calls."""

    def __init__(self, action_space: spaces.Space, seed: int) -> None:
        self.action_space = action_space
        self.action_space.seed(seed)

    def predict(
        self,
        observation: Any,
        state: Any = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = False,
    ) -> tuple[np.ndarray, Any]:
        n_envs = len(episode_start) if episode_start is not None else 1
        return np.stack([self.action_space.sample() for _ in range(n_envs)]), state


def summary(returns: Sequence[float]) -> tuple[float, float]:
    """Mean and standard error of per-episode returns."""
    values = np.asarray(returns, dtype=float)
    return float(values.mean()), float(values.std(ddof=1) / np.sqrt(len(values)))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timesteps", type=int, default=40_000, help="training steps (default 40000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of training and evaluation (default 0)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1: small networks)")
    parser.add_argument("--eval-episodes", type=int, default=200, help="held-out episodes (default 200)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Train, evaluate both policies on the same held-out users, print and return the returns."""
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    train_env = make_vec_env(ENV_ID, n_envs=8, seed=args.seed, env_kwargs={**ENV_KWARGS, "users": "train"})
    model = PPO(
        "MultiInputPolicy",
        train_env,
        n_steps=64,
        batch_size=128,
        n_epochs=4,
        learning_rate=1e-3,
        gamma=0.9,
        seed=args.seed,
        verbose=0,
    )
    model.learn(total_timesteps=args.timesteps)

    eval_env = make_vec_env(ENV_ID, n_envs=1, env_kwargs={**ENV_KWARGS, "users": "test"})
    eval_seed = args.seed + 10_000  # the same held-out users, in the same order, for both policies
    eval_env.seed(eval_seed)
    trained, _ = evaluate_policy(
        model, eval_env, n_eval_episodes=args.eval_episodes, deterministic=False, return_episode_rewards=True
    )
    eval_env.seed(eval_seed)
    random, _ = evaluate_policy(
        RandomPolicy(eval_env.action_space, args.seed),
        eval_env,
        n_eval_episodes=args.eval_episodes,
        return_episode_rewards=True,
    )
    eval_env.close()
    train_env.close()

    (mean_t, se_t), (mean_r, se_r) = summary(trained), summary(random)
    print(f"{ENV_ID} {ENV_KWARGS}: {args.timesteps} PPO steps on training users")
    print(f"  PPO     mean return on {len(trained)} held-out episodes: {mean_t:.3f} (SE {se_t:.3f})")
    print(f"  random  mean return on {len(random)} held-out episodes: {mean_r:.3f} (SE {se_r:.3f})")
    print(f"  difference {mean_t - mean_r:+.3f} +- {1.96 * np.hypot(se_t, se_r):.3f} (95% CI)")
    return {"trained": list(map(float, trained)), "random": list(map(float, random))}


if __name__ == "__main__":
    main()
