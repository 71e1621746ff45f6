"""Where a vector step's time goes between Python and the compiled call, timed in the stepping loop.

Wraps the real pieces of a ColdStart/Engagement vector step (no copy of the step) with timers — the
actions' check (`Kernel.check_actions`), the bookkeeping before the call (`_before_step`), numba's
thread count (`blocks`), the one compiled call (`recommend_autoreset_blocks`, or the single block
below two blocks) and the observation's views (`Kernel.observation`) — and steps 1,024 users with
random actions; what is left of the step is the rest (the fresh output arrays, the info and its
masks, the Python calls between them and the timers' own). Each piece costs more here than alone:
the compiled call has just filled the cache with other data, which is the point of timing it in the
loop. With ``--blocks-alone`` the compiled call's blocks run one after the other on the calling
thread, each timed: how long a block takes alone, beside the parallel call of the default run.

    OPENBLAS_NUM_THREADS=1 python scripts/step_parts.py --env recworld/Engagement-v0 --threads 2
    OPENBLAS_NUM_THREADS=1 python scripts/step_parts.py --blocks-alone
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", default="recworld/Engagement-v0")
    parser.add_argument("--threads", type=int, default=2, help="numba's threads")
    parser.add_argument("--steps", type=int, default=300, help="steps a pass")
    parser.add_argument("--passes", type=int, default=3, help="passes (the fastest is reported)")
    parser.add_argument(
        "--blocks-alone", action="store_true", help="run the call's blocks one after the other, each timed"
    )
    args = parser.parse_args()
    import gymnasium as gym
    import numba
    import numpy as np

    import recworld  # noqa: F401 - registers the environments
    from recworld.envs import cold_start

    numba.set_num_threads(args.threads)
    env = gym.make_vec(args.env, num_envs=1024, vectorization_mode="vector_entry_point")
    kernel = env.unwrapped.kernel
    if not isinstance(kernel, cold_start.RecommendationKernel):
        raise SystemExit(f"{args.env}: only ColdStart and Engagement take the one-call vector step")
    spent: dict[str, float] = {}

    def timed(name: str, call: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*arguments: Any, **options: Any) -> Any:
            started = time.perf_counter()
            try:
                return call(*arguments, **options)
            finally:
                spent[name] += time.perf_counter() - started

        return wrapper

    pieces = {
        "check": (kernel, "check_actions"),
        "before the call": (kernel, "_before_step"),
        "thread count": (cold_start, "blocks"),
        "compiled call": (cold_start, "recommend_autoreset_blocks"),
        "compiled call (one block)": (cold_start, "recommend_autoreset_block"),
        "observation": (kernel, "observation"),
    }
    if args.blocks_alone:
        one_block = cold_start.recommend_autoreset_block

        def one_after_another(*arguments: Any) -> int:
            *rest, n_blocks = arguments
            reset = 0
            for block in range(n_blocks):
                started = time.perf_counter()
                reset += one_block(block, n_blocks, *rest)
                spent[f"block {block} alone"] += time.perf_counter() - started
            return reset

        del pieces["compiled call"]
        n_blocks = cold_start.blocks(1024)
        spent.update({f"block {block} alone": 0.0 for block in range(n_blocks)})
        cold_start.recommend_autoreset_blocks = one_after_another
    spent.update(dict.fromkeys(pieces, 0.0))
    for name, (owner, attribute) in pieces.items():
        setattr(owner, attribute, timed(name, getattr(owner, attribute)))
    env.reset(seed=0)
    batches = np.random.default_rng(0).integers(0, kernel.n_items, (args.steps, 1024))
    for actions in batches[:30]:
        env.step(actions)
    best: dict[str, float] | None = None
    for _ in range(args.passes):
        spent.update(dict.fromkeys(spent, 0.0))
        started = time.perf_counter()
        for actions in batches:
            env.step(actions)
        row = {"step": time.perf_counter() - started, **spent}
        if best is None or row["step"] < best["step"]:
            best = row
    assert best is not None
    per_step = {name: seconds / args.steps * 1e6 for name, seconds in best.items() if seconds > 0}
    per_step["the rest (outputs, info, masks, calls)"] = per_step["step"] - sum(
        value for name, value in per_step.items() if name != "step"
    )
    print(f"{args.env}, 1,024 users, {args.threads} thread(s); µs a step, fastest of {args.passes} passes:")
    for name, value in per_step.items():
        print(f"  {name:32s} {value:7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
