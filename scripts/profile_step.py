"""Where a vector step's time goes, by compiled function: a run for Linux ``perf`` that names numba's code.

``perf`` sees numba's compiled functions as anonymous addresses. This script compiles recworld afresh
(into a temporary numba cache, so that every function's machine code is in this process), writes
``/tmp/perf-<pid>.map`` naming each compiled function's address range, warms up, and then steps a vector
environment of 1,024 users with random actions for ``--passes`` passes of 400 steps. Record it and read
the shares of the stepping (the last part of the run; the first is compiling):

    perf record -o perf.data python scripts/profile_step.py --env recworld/Engagement-v0 --threads 1
    perf report -i perf.data --no-children --sort sym --time 70%-97%
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time


def write_perf_map() -> int:
    """Name every compiled function of this process in ``/tmp/perf-<pid>.map``; returns how many."""
    from numba.core.registry import CPUDispatcher

    entries, seen = [], set()
    for dispatcher in (obj for obj in gc.get_objects() if isinstance(obj, CPUDispatcher)):
        for compiled in dispatcher.overloads.values():
            library = compiled.library
            module = getattr(library, "_final_module", None)
            if id(library) in seen or module is None:  # (loaded from a cache: no module to read)
                continue
            seen.add(id(library))
            for function in module.functions:
                if not function.is_declaration:
                    address = library.get_pointer_to_function(function.name)
                    if address:
                        entries.append((address, function.name))
    entries.sort()
    with open(f"/tmp/perf-{os.getpid()}.map", "w") as out:
        for i, (address, name) in enumerate(entries):
            size = min(entries[i + 1][0] - address if i + 1 < len(entries) else 4096, 1 << 20)
            out.write(f"{address:x} {size:x} {name[:110]}\n")
    return len(entries)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", default="recworld/Engagement-v0")
    parser.add_argument("--threads", type=int, default=1, help="numba's threads")
    parser.add_argument("--passes", type=int, default=40, help="passes of 400 steps after the warm-up")
    args = parser.parse_args()
    os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="recworld-profile-")  # compile afresh
    import gymnasium as gym
    import numba
    import numpy as np

    import recworld  # noqa: F401 - registers the environments

    numba.set_num_threads(args.threads)
    env = gym.make_vec(args.env, num_envs=1024, vectorization_mode="vector_entry_point")
    env.reset(seed=0)
    batches = np.random.default_rng(0).integers(0, env.unwrapped.kernel.n_items, (400, 1024))
    for actions in batches[:20]:
        env.step(actions)
    print(f"{write_perf_map()} compiled functions named in /tmp/perf-{os.getpid()}.map", file=sys.stderr)
    started = time.perf_counter()
    for _ in range(args.passes):
        for actions in batches:
            env.step(actions)
    seconds = time.perf_counter() - started
    print(f"{args.passes * 400 / seconds:,.0f} steps/s ({seconds / args.passes / 400 * 1e6:.1f} µs a step)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
