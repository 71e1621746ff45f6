"""Train RLlib PPO on `recworld/ColdStart-v0` and compare it with a random policy on held-out users.

RLlib builds the environment from its registered id, in its own worker processes; the
``recworld:`` prefix makes Gymnasium import recworld there, so nothing is registered by hand.
``observation="flat"`` gives RLlib one float32 ``Box`` (RLlib's default encoders have none for a
``Dict``), so no connector is needed. PPO trains on the *training* users of the MovieLens-100K split;
RLlib's evaluation runs on held-out *test* users (``users="test"``), and recworld's ``random`` agent
meets test users too. Each episode: 10 recommendations, reward 1 per film rated 4 or 5.

Needs the ``rllib`` extra: ``pip install -e '.[rllib]'`` (RLlib pins its own Gymnasium release,
which recworld supports).

Run: python examples/train_rllib_ppo.py [--iterations 20] [--seed 0]   (about a minute on 2 cores)
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np

ENV_ID = "recworld:recworld/ColdStart-v0"
ENV_KWARGS: dict[str, Any] = {"reward": "like", "horizon": 10}


def random_returns(n_episodes: int, seed: int) -> list[float]:
    """Returns of recworld's random agent (films not shown yet, uniformly) on held-out test users."""
    from recworld.agents import make_agent
    from recworld.envs.context import env_context

    env = gym.make(ENV_ID, **ENV_KWARGS, users="test")  # recworld's agents read the Dict observation
    agent = make_agent("random", seed=seed).bind(env_context(env), 1)
    returns = []
    for episode in range(n_episodes):
        observation, _ = env.reset(seed=seed + 10_000 + episode)
        total, start, done = 0.0, True, False
        while not done:
            action, _ = agent.predict(observation, episode_start=np.array([start]))
            observation, reward, terminated, truncated, _ = env.step(action)
            total, start, done = total + float(reward), False, terminated or truncated
        returns.append(total)
    return returns


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Train, evaluate on held-out users, print and return both policies' mean returns."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=20, help="PPO training iterations (default 20)")
    parser.add_argument("--batch", type=int, default=2000, help="environment steps per iteration")
    parser.add_argument("--eval-episodes", type=int, default=200, help="held-out episodes (default 200)")
    parser.add_argument("--seed", type=int, default=0, help="seed of training and evaluation (default 0)")
    args = parser.parse_args(argv)

    import ray
    from ray.rllib.algorithms.ppo import PPOConfig

    config = (
        PPOConfig()
        .environment(ENV_ID, env_config={**ENV_KWARGS, "observation": "flat", "users": "train"})
        .env_runners(num_env_runners=1, num_envs_per_env_runner=4)
        .training(
            train_batch_size_per_learner=args.batch,
            minibatch_size=min(250, args.batch),
            num_epochs=4,
            lr=3e-4,
        )
        .evaluation(
            evaluation_interval=None,
            evaluation_num_env_runners=1,
            evaluation_duration=args.eval_episodes,
            evaluation_duration_unit="episodes",
            evaluation_config={
                "env_config": {**ENV_KWARGS, "observation": "flat", "users": "test"},
                "explore": True,
            },
        )
        .debugging(seed=args.seed)
    )
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    algo = config.build_algo()
    try:
        for iteration in range(args.iterations):
            returns = algo.train()["env_runners"]["episode_return_mean"]
            print(f"iteration {iteration + 1}: train return {returns:.2f}")
        evaluation = algo.evaluate()["env_runners"]
    finally:
        algo.stop()
        ray.shutdown()
    trained = float(evaluation["episode_return_mean"])
    random = float(np.mean(random_returns(args.eval_episodes, args.seed)))
    print(f"held-out users: PPO (RLlib) {trained:.2f}, random {random:.2f} likes per 10 films")
    return {"trained": trained, "random": random, "episodes": int(evaluation.get("num_episodes", 0))}


if __name__ == "__main__":
    main()
