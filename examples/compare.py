"""What the training examples share: their command line, and the comparison of a trained policy
with recworld's own ``random`` agent on the same held-out users.

The random agent is `recworld.agents.RandomAgent`: uniformly random among the films not shown yet in
the episode, and usable by stable-baselines3's ``evaluate_policy`` as it is (its ``predict``).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from stable_baselines3.common.evaluation import evaluate_policy

from recworld.agents import make_agent
from recworld.envs.context import env_context


def parse_args(
    description: str, argv: Sequence[str] | None, *, timesteps: int, eval_episodes: int
) -> argparse.Namespace:
    """The examples' options; also sets torch's thread count (small networks train best on one)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--timesteps", type=int, default=timesteps, help=f"training steps (default {timesteps})"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of training and evaluation (default 0)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1: small networks)")
    parser.add_argument(
        "--eval-episodes",
        type=int,
        default=eval_episodes,
        help=f"held-out episodes (default {eval_episodes})",
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    return args


def compare_with_random(
    label: str,
    eval_env: Any,
    evaluate_trained: Callable[[Any, int], Sequence[float]],
    *,
    n_episodes: int,
    seed: int,
) -> dict[str, list[float]]:
    """Returns of the trained policy and of the random agent on the same held-out users (the
    evaluation environment is reseeded before each); prints both and the 95% interval of the
    difference (Welch: no pairing assumed)."""
    eval_seed = seed + 10_000
    eval_env.seed(eval_seed)
    trained = list(map(float, evaluate_trained(eval_env, n_episodes)))
    random_agent = make_agent("random", seed=seed).bind(env_context(eval_env.envs[0]), eval_env.num_envs)
    eval_env.seed(eval_seed)
    random, _ = evaluate_policy(
        random_agent, eval_env, n_eval_episodes=n_episodes, return_episode_rewards=True
    )
    random = list(map(float, random))

    def mean_se(values: list[float]) -> tuple[float, float]:
        array = np.asarray(values)
        return float(array.mean()), float(array.std(ddof=1) / np.sqrt(len(array)))

    (mean_t, se_t), (mean_r, se_r) = mean_se(trained), mean_se(random)
    print(label)
    print(f"  trained  mean return on {len(trained)} held-out episodes: {mean_t:.3f} (SE {se_t:.3f})")
    print(f"  random   mean return on {len(random)} held-out episodes: {mean_r:.3f} (SE {se_r:.3f})")
    print(f"  difference {mean_t - mean_r:+.3f} +- {1.96 * np.hypot(se_t, se_r):.3f} (95% CI)")
    return {"trained": trained, "random": random}
