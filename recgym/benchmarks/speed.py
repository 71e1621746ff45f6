"""`recgym bench speed`: how fast the simulators fit and answer, measured on this machine.

Figures come from wall-clock timing of real calls (best of several repeats, after a warm-up), never
from a timed unit test. Fit time is one fit on all of MovieLens-100K including the hyper-parameter
search; response time is one batched call for 1,024 users.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from recgym.data import load
from recgym.simulators import FAMILIES, Simulator, fit_simulator


def machine_description() -> str:
    """CPU model, core count and Python version, for the record beside every figure."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            model = next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}"


def _best_seconds(call: Callable[[], object], repeats: int) -> float:
    call()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - started)
    return best


def simulator_speed(
    dataset: str = "movielens-100k", *, n_users: int = 1024, slate_size: int = 10, repeats: int = 20
) -> dict[str, Any]:
    """Fit seconds per family, and microseconds per user for batched responses."""
    data = load(dataset)
    rng = np.random.default_rng(0)
    results: dict[str, Any] = {
        "dataset": dataset,
        "machine": machine_description(),
        "n_users": n_users,
        "families": {},
    }
    for name in FAMILIES:
        started = time.perf_counter()
        world = fit_simulator(data, name, seed=0)
        results["families"][name] = {
            "fit_seconds": time.perf_counter() - started,
            "microseconds_per_user": _response_speed(world, rng, n_users, slate_size, repeats),
        }
    return results


def _response_speed(
    world: Simulator, rng: np.random.Generator, n_users: int, slate_size: int, repeats: int
) -> dict[str, float]:
    users = rng.integers(0, world.n_users, n_users)
    items = rng.integers(0, world.n_items, n_users)
    slates = rng.integers(0, world.n_items, (n_users, slate_size))
    calls = {
        "expected_rating": lambda: world.expected_rating(users, items),
        "sample_rating": lambda: world.sample_rating(users, items, rng),
        "like_probability": lambda: world.like_probability(users, items),
        "awareness": lambda: world.awareness(users, items),
        f"sample_rating_slate{slate_size}": lambda: world.sample_rating(users, slates, rng),
    }
    return {label: 1e6 * _best_seconds(call, repeats) / n_users for label, call in calls.items()}


def format_speed(results: dict[str, Any]) -> str:
    lines = [f"{results['dataset']} on {results['machine']}; batched calls for {results['n_users']} users"]
    for name, figures in results["families"].items():
        per_user = ", ".join(f"{k} {v:.2f}" for k, v in figures["microseconds_per_user"].items())
        lines.append(f"  {name}: fit {figures['fit_seconds']:.2f} s; µs per user: {per_user}")
    return "\n".join(lines)
