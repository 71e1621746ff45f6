"""Train sb3-contrib MaskablePPO on `recworld/Engagement-v0` in subprocesses; compare it with a random policy.

Engagement is long-horizon feedback RL: the simulated user gets bored of repeated genres, drifts
toward what they liked, and leaves when dissatisfied, so a good policy keeps the user (and their
likes) coming. The environment implements ``action_masks()`` itself (films shown earlier in the
session are masked), so ``MaskablePPO`` finds the masks through ``SubprocVecEnv`` with no wrapper.

The id is given as ``"recworld:recworld/Engagement-v0"``: the ``recworld:`` prefix makes each worker process
import recworld (and so register the environments) before it builds its environment.

MaskablePPO trains on the *training* users of the MovieLens-100K split and is evaluated greedily,
with masks, on held-out *test* users; recworld's random agent meets the same users.

Run: python examples/train_maskable_ppo.py [--timesteps 20000] [--seed 0]   (about a minute on 2 cores)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from compare import compare_with_random, parse_args  # examples/compare.py, beside this file
from sb3_contrib import MaskablePPO
from sb3_contrib.common.maskable.evaluation import evaluate_policy as evaluate_masked_policy
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import SubprocVecEnv

ENV_ID = "recworld:recworld/Engagement-v0"
# regret=False skips a catalog scan per step that only evaluation reports need.
ENV_KWARGS: dict[str, Any] = {
    "reward": "like",
    "horizon": 30,
    "regret": False,
    "render_mode": None,  # SB3's make_vec_env would otherwise ask for rgb_array (a warning per env)
}


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Train, evaluate both policies on the same held-out users, print and return the returns."""
    args = parse_args(__doc__.splitlines()[0], argv, timesteps=20000, eval_episodes=100)
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
    returns = compare_with_random(
        f"{ENV_ID} {ENV_KWARGS}: {args.timesteps} MaskablePPO steps on training users (2 subprocesses)",
        eval_env,
        lambda env, n: evaluate_masked_policy(
            model, env, n_eval_episodes=n, deterministic=True, return_episode_rewards=True
        )[0],
        n_episodes=args.eval_episodes,
        seed=args.seed,
    )
    eval_env.close()
    return returns


if __name__ == "__main__":
    main()
