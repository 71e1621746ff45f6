"""Engagement on the torch backend under two policies: random items, and each user's best items by
static score in order (as a good agent would show them, exhausting the top of each list, where the
search for the best unseen items has to look further down). User-steps per second after a warm-up.

    OPENBLAS_NUM_THREADS=1 python scripts/torch_regret_search.py --users 65536 --device cpu
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import torch

import recworld  # noqa: F401 - registers the environments


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=65_536)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--steps", type=int, default=20, help="timed steps, after as many warm-up steps")
    parser.add_argument("--threads", type=int, default=2, help="torch's threads on a CPU")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    n, device = args.users, torch.device(args.device)
    for policy in ("random", "static-best"):
        env = gym.make_vec(
            "recworld/Engagement-v0",
            num_envs=n,
            vectorization_mode="vector_entry_point",
            backend="torch",
            device=device,
        )
        env.reset(seed=0)
        kernel = env.unwrapped.kernel
        order = kernel.table[kernel.population].argsort(dim=1, descending=True)
        generator = torch.Generator(device=device).manual_seed(0)

        def actions(kernel=kernel, order=order, generator=generator, policy=policy) -> torch.Tensor:
            if policy == "random":
                return torch.randint(0, kernel.n_items, (n,), device=device, generator=generator)
            return order[kernel.member, kernel.t.clamp(max=kernel.n_items - 1)]

        for _ in range(args.steps):
            env.step(actions())
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        started = time.perf_counter()
        for _ in range(args.steps):
            env.step(actions())
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        rate = args.steps * n / (time.perf_counter() - started)
        print(f"{policy:12s} {rate:,.0f} user-steps/s ({n:,} users on {device})")
        del env
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
