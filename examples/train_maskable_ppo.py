"""Train sb3-contrib MaskablePPO on `recgym/Engagement-v0` in subprocesses; compare it with a random policy.

Engagement is long-horizon feedback RL: the simulated user gets bored of repeated genres, drifts
toward what they liked, and leaves when dissatisfied, so a good policy keeps the user (and their
likes) coming. The environment implements ``action_masks()`` itself (films shown earlier in the
session are masked), so ``MaskablePPO`` finds the masks through ``SubprocVecEnv`` with no wrapper.

The id is given as ``"recgym:recgym/Engagement-v0"``: the ``recgym:`` prefix makes each worker process
import recgym (and so register the environments) before it builds its environment.

MaskablePPO trains on the *training* users of the MovieLens-100K split and is evaluated greedily,
with masks, on held-out *test* users; the uniformly random policy meets the same users.

Run: python examples/train_maskable_ppo.py [--timesteps 20000] [--seed 0]   (about a minute on 2 cores)
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from sb3_contrib import MaskablePPO
from sb3_contrib.common.maskable.evaluation import evaluate_policy as evaluate_masked_policy
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import SubprocVecEnv

ENV_ID = "recgym:recgym/Engagement-v0"
# regret=False skips a catalog scan per step that only evaluation reports need.
ENV_KWARGS: dict[str, Any] = {"reward": "like", "horizon": 30, "regret": False}


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
    parser.add_argument("--timesteps", type=int, default=20_000, help="training steps (default 20000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of training and evaluation (default 0)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1: small networks)")
    parser.add_argument("--eval-episodes", type=int, default=100, help="held-out episodes (default 100)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Train, evaluate both policies on the same held-out users, print and return the returns."""
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    train_env = make_vec_env(
        ENV_ID,
        n_envs=2,
        seed=args.seed,
        env_kwargs={**ENV_KWARGS, "users": "train"},
        vec_env_cls=SubprocVecEnv,
    )
    model = MaskablePPO(
        "MultiInputPolicy",
        train_env,
        n_steps=256,
        batch_size=128,
        n_epochs=4,
        learning_rate=1e-3,
        gamma=0.95,
        seed=args.seed,
        verbose=0,
    )
    model.learn(total_timesteps=args.timesteps)
    train_env.close()

    eval_env = make_vec_env(ENV_ID, n_envs=1, env_kwargs={**ENV_KWARGS, "users": "test"})
    eval_seed = args.seed + 10_000  # the same held-out users, in the same order, for both policies
    eval_env.seed(eval_seed)
    trained, _ = evaluate_masked_policy(
        model, eval_env, n_eval_episodes=args.eval_episodes, deterministic=True, return_episode_rewards=True
    )
    eval_env.seed(eval_seed)
    random, _ = evaluate_policy(
        RandomPolicy(eval_env.action_space, args.seed),
        eval_env,
        n_eval_episodes=args.eval_episodes,
        return_episode_rewards=True,
    )
    eval_env.close()

    (mean_t, se_t), (mean_r, se_r) = summary(trained), summary(random)
    print(f"{ENV_ID} {ENV_KWARGS}: {args.timesteps} MaskablePPO steps on training users (2 subprocesses)")
    print(f"  MaskablePPO  mean return on {len(trained)} held-out episodes: {mean_t:.3f} (SE {se_t:.3f})")
    print(f"  random       mean return on {len(random)} held-out episodes: {mean_r:.3f} (SE {se_r:.3f})")
    print(f"  difference {mean_t - mean_r:+.3f} +- {1.96 * np.hypot(se_t, se_r):.3f} (95% CI)")
    return {"trained": list(map(float, trained)), "random": list(map(float, random))}


if __name__ == "__main__":
    main()
