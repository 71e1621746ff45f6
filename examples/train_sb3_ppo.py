"""Train stable-baselines3 PPO on `recworld/ColdStart-v0` and compare it with a random policy.

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

from collections.abc import Sequence
from typing import Any

from compare import compare_with_random, parse_args  # examples/compare.py, beside this file
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy

import recworld  # noqa: F401 - registers the recworld/... environment ids

ENV_ID = "recworld/ColdStart-v0"
ENV_KWARGS: dict[str, Any] = {
    "reward": "like",
    "horizon": 10,
    "render_mode": None,  # SB3's make_vec_env would otherwise ask for rgb_array (a warning per env)
}


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Train, evaluate both policies on the same held-out users, print and return the returns."""
    args = parse_args(__doc__.splitlines()[0], argv, timesteps=40000, eval_episodes=200)
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
    returns = compare_with_random(
        f"{ENV_ID} {ENV_KWARGS}: {args.timesteps} PPO steps on training users",
        eval_env,
        lambda env, n: evaluate_policy(
            model, env, n_eval_episodes=n, deterministic=False, return_episode_rewards=True
        )[0],
        n_episodes=args.eval_episodes,
        seed=args.seed,
    )
    eval_env.close()
    train_env.close()
    return returns


if __name__ == "__main__":
    main()
