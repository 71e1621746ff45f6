"""Hashes of environment trajectories, to show that a change to the step leaves them bit for bit.

Plays 13 configurations — ColdStart (plain, slates under each of the three choice models, the surprise
reward, replay, ``candidates="rated"``), Engagement (plain, ``regret=False``, slates) and Elicitation
(the MAE and nDCG rewards, replay) — each as a single environment (seed 3, 60 random allowed steps,
resets included) and as vector environments of 700 and 1,100 users (the second steps on numba's
threads) in both autoreset modes (seed 5, 40 steps), and hashes every observation, reward, flag and
info array (SHA-256, first 16 hex digits). Run it on the commit before a change and on the change, then
compare the two files: the same 65 hashes, the same trajectories.

    python scripts/trajectory_hashes.py before.json            # on the old commit
    python scripts/trajectory_hashes.py after.json --compare before.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
from typing import Any

import gymnasium as gym
import numpy as np

import recworld  # noqa: F401 - registers the environments

CONFIGURATIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "cold-start": ("recworld/ColdStart-v0", {}),
    "cold-start-slate-logit": ("recworld/ColdStart-v0", {"slate_size": 4, "reward": "click"}),
    "cold-start-slate-cascade": (
        "recworld/ColdStart-v0",
        {"slate_size": 4, "choice_model": "cascade", "reward": "click"},
    ),
    "cold-start-slate-position": (
        "recworld/ColdStart-v0",
        {"slate_size": 4, "choice_model": "position", "reward": "click"},
    ),
    "cold-start-surprise": ("recworld/ColdStart-v0", {"reward": "surprise"}),
    "cold-start-replay": ("recworld/ColdStart-v0", {"simulator": "replay"}),
    "cold-start-rated": ("recworld/ColdStart-v0", {"candidates": "rated"}),
    "engagement": ("recworld/Engagement-v0", {}),
    "engagement-no-regret": ("recworld/Engagement-v0", {"regret": False}),
    "engagement-slate": ("recworld/Engagement-v0", {"slate_size": 3}),
    "elicitation-mae": ("recworld/Elicitation-v0", {"reward": "mae"}),
    "elicitation-ndcg": ("recworld/Elicitation-v0", {"reward": "ndcg"}),
    "elicitation-replay": ("recworld/Elicitation-v0", {"simulator": "replay"}),
}


def feed(digest: Any, value: Any) -> None:
    """Add ``value`` (arrays, numbers, nested dicts, tuples and lists) to ``digest``."""
    if isinstance(value, dict):
        for key in sorted(value):
            digest.update(str(key).encode())
            feed(digest, value[key])
    elif isinstance(value, tuple | list):
        for item in value:
            feed(digest, item)
    elif value is None:
        digest.update(b"None")
    else:
        array = np.asarray(value)
        if array.dtype == object:
            for item in array.ravel():
                feed(digest, item)
        else:
            digest.update(str(array.dtype).encode())
            digest.update(np.ascontiguousarray(array).tobytes())


def single_hash(env_id: str, options: dict[str, Any]) -> str:
    env = gym.make(env_id, **options)
    digest = hashlib.sha256()
    feed(digest, env.reset(seed=3))
    rng = np.random.default_rng(0)
    space = env.action_space
    space.seed(0)
    for _ in range(60):
        if hasattr(space, "n"):  # an item not shown yet
            allowed = np.flatnonzero(np.asarray(env.unwrapped.kernel.action_masks()).reshape(-1))
            action: Any = int(rng.choice(allowed))
        else:
            action = space.sample()
        step = env.step(action)
        feed(digest, step)
        if step[2] or step[3]:
            feed(digest, env.reset())
    return digest.hexdigest()[:16]


def vector_hash(env_id: str, options: dict[str, Any], num_envs: int, mode: str) -> str:
    env = gym.make_vec(
        env_id, num_envs=num_envs, vectorization_mode="vector_entry_point", autoreset_mode=mode, **options
    )
    digest = hashlib.sha256()
    feed(digest, env.reset(seed=5))
    rng = np.random.default_rng(1)
    kernel = env.unwrapped.kernel
    single = env.single_action_space
    for _ in range(40):
        if hasattr(single, "n"):  # an allowed item per user, at random
            allowed = np.asarray(kernel.action_masks()).reshape(num_envs, -1)
            actions = (rng.random(allowed.shape) * allowed).argmax(axis=1)
        else:
            actions = rng.integers(0, single.nvec[0], (num_envs, len(single.nvec)))
        feed(digest, env.step(actions))
    return digest.hexdigest()[:16]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", help="the JSON file of hashes to write")
    parser.add_argument("--compare", help="a JSON file of hashes from another commit: report what differs")
    args = parser.parse_args()
    hashes = {}
    for name, (env_id, options) in CONFIGURATIONS.items():
        hashes[f"{name}/single"] = single_hash(env_id, options)
        for num_envs in (700, 1100):
            for mode in ("next-step", "same-step"):
                hashes[f"{name}/vector-{num_envs}/{mode}"] = vector_hash(env_id, options, num_envs, mode)
        print(name, hashes[f"{name}/single"], file=sys.stderr, flush=True)
    folder = os.path.dirname(os.path.abspath(args.out))
    with tempfile.NamedTemporaryFile("w", dir=folder, delete=False, suffix=".tmp") as handle:
        json.dump(hashes, handle, indent=1)
    os.replace(handle.name, args.out)
    if args.compare:
        with open(args.compare) as handle:
            before = json.load(handle)
        differ = sorted(key for key in hashes if before.get(key) != hashes[key])
        print(f"{len(hashes) - len(differ)} of {len(hashes)} hashes equal")
        for key in differ:
            print(f"differs: {key}")
        return 1 if differ else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
