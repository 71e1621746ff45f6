"""Train stable-baselines3 DQN on `recworld/ColdStart-v0` and compare it with a random policy.

DQN needs a ``Discrete`` action space, which ColdStart has with its default ``slate_size=1``. Here
each episode is one new user and one recommendation (``horizon=1``): a contextual bandit, where
the agent sees the user's demographics and is rewarded 1 if the user rates the film 4 or 5. Hence
``gamma=0``: the episode ends after the step, but as a *truncation* (the session cap), so a
``gamma`` above 0 would bootstrap from a next state that never comes and swamp the reward with the
overestimated maximum over 1,682 Q-values.

DQN trains on the *training* users of the MovieLens-100K split and is evaluated greedily on
held-out *test* users; the random policy meets the same users. No wrapper is needed.

Run: python examples/train_sb3_dqn.py [--timesteps 20000] [--seed 0]   (under a minute on 2 cores)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from compare import compare_with_random, parse_args  # examples/compare.py, beside this file
from stable_baselines3 import DQN
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy

import recworld  # noqa: F401 - registers the recworld/... environment ids

ENV_ID = "recworld/ColdStart-v0"
ENV_KWARGS: dict[str, Any] = {
    "reward": "like",
    "horizon": 1,
    "render_mode": None,  # SB3's make_vec_env would otherwise ask for rgb_array (a warning per env)
}


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Train, evaluate both policies on the same held-out users, print and return the returns."""
    args = parse_args(__doc__.splitlines()[0], argv, timesteps=20000, eval_episodes=500)
    train_env = make_vec_env(ENV_ID, n_envs=4, seed=args.seed, env_kwargs={**ENV_KWARGS, "users": "train"})
    model = DQN(
        "MultiInputPolicy",
        train_env,
        gamma=0.0,
        buffer_size=50_000,  # the default million transitions of Dict observations would need GBs
        learning_starts=min(500, args.timesteps // 2),
        exploration_fraction=0.5,
        train_freq=4,
        target_update_interval=500,
        learning_rate=1e-3,
        batch_size=64,
        seed=args.seed,
        verbose=0,
    )
    model.learn(total_timesteps=args.timesteps)

    eval_env = make_vec_env(ENV_ID, n_envs=1, env_kwargs={**ENV_KWARGS, "users": "test"})
    returns = compare_with_random(
        f"{ENV_ID} {ENV_KWARGS}: {args.timesteps} DQN steps on training users",
        eval_env,
        lambda env, n: evaluate_policy(
            model, env, n_eval_episodes=n, deterministic=True, return_episode_rewards=True
        )[0],
        n_episodes=args.eval_episodes,
        seed=args.seed,
    )
    eval_env.close()
    train_env.close()
    return returns


if __name__ == "__main__":
    main()
