"""`recworld bench speed`: how fast recworld is, measured on this machine.

Four sections: ``simulators`` (fit time on all of MovieLens-100K including the hyper-parameter
search, and microseconds per user of one batched call for 1,024 users), ``envs`` (single-env steps
per second with random actions, through ``gymnasium.make`` as users get it, and vector-env
user-steps per second at 1,024 users), ``agents`` (decisions per second of batched agents over the
whole catalog for 1,024 users) and ``meta`` (meta-training time and batched adaptation of 1,024
users). Figures come from wall-clock timing of real calls, never from a timed unit test.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from recworld.data import load
from recworld.simulators import FAMILIES, Simulator, fit_simulator

SECTIONS = ("simulators", "envs", "agents", "meta")


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
    results: dict[str, Any] = {"dataset": dataset, "n_users": n_users, "families": {}}
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


def env_speed(
    dataset: str = "movielens-100k", *, num_envs: int = 1024, single_steps: int = 5000, vector_steps: int = 40
) -> dict[str, Any]:
    """Steps per second of each registered environment on ``dataset``, single and natively vectorised."""
    import gymnasium as gym

    from recworld.envs import ENV_IDS

    variants: dict[str, dict[str, Any]] = {env_id: {} for env_id in ENV_IDS}
    variants["recworld/Engagement-v0 (regret=False)"] = {"regret": False}
    single: dict[str, float] = {}
    vector: dict[str, float] = {}
    for label, kwargs in variants.items():
        env_id = label.split(" ")[0]
        rng = np.random.default_rng(0)
        env = gym.make(env_id, dataset=dataset, **kwargs)
        env.reset(seed=0)
        n_items = env.unwrapped.kernel.n_items  # type: ignore[attr-defined]
        actions = rng.integers(0, n_items, single_steps)
        started = time.perf_counter()
        for action in actions:
            _, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                env.reset()
        single[label] = single_steps / (time.perf_counter() - started)
        venv = gym.make_vec(
            env_id, num_envs=num_envs, vectorization_mode="vector_entry_point", dataset=dataset, **kwargs
        )
        venv.reset(seed=0)
        batches = rng.integers(0, n_items, (vector_steps, num_envs))
        venv.step(batches[0])  # warm-up
        started = time.perf_counter()
        for batch in batches:
            venv.step(batch)
        vector[label] = vector_steps * num_envs / (time.perf_counter() - started)
    return {
        "env_dataset": dataset,
        "num_envs": num_envs,
        "single_env_steps_per_s": single,
        "vector_user_steps_per_s": vector,
    }


def agent_speed(dataset: str = "movielens-100k", *, num_envs: int = 1024, steps: int = 5) -> dict[str, float]:
    """Decisions per second of batched agents choosing from the whole catalog for ``num_envs`` users
    (LinUCB: one ridge posterior per user, an upper bound for every item)."""
    import gymnasium as gym

    from recworld.agents import make_agent
    from recworld.envs.context import env_context

    env: Any = gym.make_vec(
        "recworld/ColdStart-v0", num_envs=num_envs, vectorization_mode="vector_entry_point", dataset=dataset
    )
    results = {}
    for name in ("linucb", "thompson", "meta-greedy"):
        agent = make_agent(name).bind(env_context(env), num_envs)
        obs, _ = env.reset(seed=0)
        start = np.ones(num_envs, dtype=bool)
        obs, *_ = env.step(agent.act(obs, env.action_masks(), start))  # warm-up
        started = time.perf_counter()
        for _ in range(steps):
            obs, *_ = env.step(agent.act(obs, env.action_masks()))
        elapsed = time.perf_counter() - started
        results[name] = steps * num_envs / elapsed
    return results


def speed(
    sections: tuple[str, ...] = SECTIONS, *, dataset: str = "movielens-100k", device: str = "auto"
) -> dict:
    """Run the chosen sections; one JSON-able object with the machine it ran on."""
    results: dict[str, Any] = {"machine": machine_description()}
    if "simulators" in sections:
        results["simulators"] = simulator_speed(dataset)
    if "envs" in sections:
        results.update(env_speed(dataset))
    if "agents" in sections:
        results["agent_decisions_per_s"] = agent_speed(dataset)
    if "meta" in sections:
        from recworld.benchmarks.meta_speed import run_speed_benchmark

        results["meta"] = run_speed_benchmark(load(dataset), device=device)
    return results


def format_speed(results: dict[str, Any]) -> str:
    lines = [f"machine: {results['machine']}"]
    if "simulators" in results:
        sims = results["simulators"]
        lines.append(f"simulators on {sims['dataset']} (batched calls for {sims['n_users']} users):")
        for name, figures in sims["families"].items():
            per_user = ", ".join(f"{k} {v:.2f}" for k, v in figures["microseconds_per_user"].items())
            lines.append(f"  {name}: fit {figures['fit_seconds']:.2f} s; µs per user: {per_user}")
    if "single_env_steps_per_s" in results:
        lines.append(f"environments on {results['env_dataset']} (vector: {results['num_envs']} users):")
        for label, single in results["single_env_steps_per_s"].items():
            vector = results["vector_user_steps_per_s"][label]
            lines.append(f"  {label}: single {single:,.0f} steps/s; vector {vector:,.0f} user-steps/s")
    if "agent_decisions_per_s" in results:
        shown = ", ".join(f"{k} {v:,.0f}" for k, v in results["agent_decisions_per_s"].items())
        lines.append(
            f"agents, decisions/s over the whole catalog for 1024 users (env step included): {shown}"
        )
    if "meta" in results:
        meta, adapt = results["meta"], results["meta"]["adaptation"]
        lines.append(
            f"meta-learned model on {meta['device']}: meta-training {meta['meta_training_seconds']:.1f} s "
            f"({meta['epochs']} epochs, text={meta['text']}); adapt {adapt['users']} users "
            f"{1000 * adapt['adapt_seconds']:.1f} ms; "
            f"score all items {1000 * adapt['predict_all_items_seconds']:.1f} ms"
        )
    return "\n".join(lines)
