"""Vector-step time of two checkouts of recworld, measured in alternating fresh processes (an A/B).

A shared machine drifts by more than most single changes gain, so timing one commit and then the other
compares two moments as much as two commits. Here each round runs one process per checkout, one after
the other, and each process times ``--steps`` steps of random actions at 1,024 users (after a warm-up)
three times and keeps the fastest pass; the report gives each checkout's median over the rounds, in µs
per step, for Engagement, Engagement with ``regret=False`` and ColdStart.

    git worktree add /tmp/before HEAD~1
    python scripts/ab_speed.py /tmp/before . --threads 2 --rounds 5

Each checkout is imported from its own tree (``PYTHONPATH``) with this script's Python, so both use the
same installed dependencies; numba compiles each tree's code into that tree's own cache on first use.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import numpy as np

PROBE = r"""
import json, sys, time
import gymnasium as gym
import numba
import numpy as np
import recworld

numba.set_num_threads(int(sys.argv[1]))
steps = int(sys.argv[2])
cases = [("Engagement", "recworld/Engagement-v0", {}),
         ("Engagement regret=False", "recworld/Engagement-v0", {"regret": False}),
         ("ColdStart", "recworld/ColdStart-v0", {})]
out = {}
for name, env_id, options in cases:
    env = gym.make_vec(env_id, num_envs=1024, vectorization_mode="vector_entry_point", **options)
    env.reset(seed=0)
    batches = np.random.default_rng(0).integers(0, env.unwrapped.kernel.n_items, (steps, 1024))
    for actions in batches[:30]:
        env.step(actions)
    passes = []
    for _ in range(3):
        started = time.perf_counter()
        for actions in batches:
            env.step(actions)
        passes.append((time.perf_counter() - started) / steps * 1e6)
    out[name] = min(passes)
print(json.dumps({"file": recworld.__file__, "us_per_step": out}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", help="the root of one checkout")
    parser.add_argument("after", help="the root of the other")
    parser.add_argument("--threads", type=int, default=2, help="numba's threads in each process")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=300, help="steps per timed pass")
    args = parser.parse_args()
    trees = {"before": os.path.abspath(args.before), "after": os.path.abspath(args.after)}
    timings: dict[str, list[dict[str, float]]] = {label: [] for label in trees}
    for _ in range(args.rounds):
        for label, tree in trees.items():
            env = {**os.environ, "PYTHONPATH": tree, "OPENBLAS_NUM_THREADS": "1"}
            command = [sys.executable, "-c", PROBE, str(args.threads), str(args.steps)]
            done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tree, check=False)
            if done.returncode != 0:
                raise RuntimeError(f"the {label} checkout ({tree}) failed: {done.stderr.strip()[-1000:]}")
            result = json.loads(done.stdout.strip().splitlines()[-1])
            if not result["file"].startswith(tree):
                raise RuntimeError(f"{tree} imported recworld from {result['file']}: give a checkout's root")
            timings[label].append(result["us_per_step"])
    names = list(timings["before"][0])
    print(f"µs per step at 1,024 users on {args.threads} thread(s), median of {args.rounds} rounds")
    print(f"{'':26s} {'before':>8s} {'after':>8s} {'change':>8s}")
    for name in names:
        before, after = (float(np.median([t[name] for t in timings[label]])) for label in ("before", "after"))
        print(f"{name:26s} {before:8.1f} {after:8.1f} {after / before - 1:+8.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
