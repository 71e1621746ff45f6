"""`recworld bench speed`: how fast recworld is, measured on this machine.

Four sections: ``simulators`` (fit time on all of MovieLens-100K including the hyper-parameter
search, and microseconds per user of one batched call for 1,024 users), ``envs`` (single-env steps
per second with random actions, through ``gymnasium.make`` as users get it, and vector-env
user-steps per second at 1,024 users), ``agents`` (decisions per second of batched agents over the
whole catalog for 1,024 users) and ``meta`` (meta-training time and batched adaptation of 1,024
users). Figures come from wall-clock timing of real calls, never from a timed unit test.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numba
import numpy as np

from recworld.data import load
from recworld.data.errors import DataError
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


def source_commit() -> str | None:
    """The git commit of the recworld checkout that is running (``+changes`` where its tracked files
    differ from it), for the record beside every figure; None for a copy installed outside a checkout."""
    root = Path(__file__).resolve().parents[2]

    def git(*arguments: str) -> str:
        return subprocess.run(
            ["git", "-C", str(root), *arguments], capture_output=True, text=True, check=True, timeout=30
        ).stdout.strip()

    try:
        if Path(git("rev-parse", "--show-toplevel")).resolve() != root:
            return None  # (an installed copy inside some other repository)
        changed = git("status", "--porcelain", "--untracked-files=no")
        return git("rev-parse", "--short", "HEAD") + ("+changes" if changed else "")
    except (OSError, subprocess.SubprocessError):
        return None


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


#: the speed goals, checked by `format_speed`: steps/s of every single environment, user-steps/s of
#: the vector environments at 1,024 users, LinUCB's batched decisions/s
SINGLE_GOAL = 50_000
VECTOR_GOALS = {
    "recworld/ColdStart-v0": 5_000_000,
    "recworld/Engagement-v0": 5_000_000,
    "recworld/Elicitation-v0": 1_000_000,
}
LINUCB_GOAL = 100_000


def bare_step_speed(
    n_users: int, steps: int, *, n_items: int = 1682, rank: int = 20, window: int = 5, seed: int = 0
) -> float:
    """User-steps per second of a bare latent-factor user in numpy, the yardstick of the environments:
    score the recommended item, add noise and round to a rating, drift the user's vector toward it,
    write the item into a history ring. Nothing else (no observation, no checks, no info)."""
    rng = np.random.default_rng(seed)
    users = rng.standard_normal((n_users, rank)).astype(np.float32)
    items = rng.standard_normal((n_items, rank)).astype(np.float32) / np.sqrt(rank)
    actions = rng.integers(0, n_items, (steps, n_users))
    noise = rng.standard_normal((steps, n_users)).astype(np.float32)
    history = np.zeros((n_users, window), dtype=np.int64)

    def step(t: int) -> None:
        chosen = items[actions[t]]
        score = 3.5 + np.einsum("br,br->b", users, chosen)
        rating = np.clip(np.rint(score + noise[t]), 1.0, 5.0)
        users[...] += 0.01 * (rating - score)[:, None] * chosen
        history[:, t % window] = actions[t]

    step(0)  # warm-up
    started = time.perf_counter()
    for t in range(steps):
        step(t)
    return steps * n_users / (time.perf_counter() - started)


def env_speed(
    dataset: str = "movielens-100k",
    *,
    num_envs: int = 1024,
    single_steps: int = 20_000,
    vector_steps: int = 100,
    memory_users: tuple[int, ...] = (1024, 65_536),
    repeats: int = 5,
    startup: bool = True,
) -> dict[str, Any]:
    """Steps per second of every registered environment on ``dataset`` through ``gymnasium.make`` with
    its default wrappers (random actions drawn beforehand, resets included), user-steps per second of
    the native vector environments at ``num_envs`` users, the bare kernel (`bare_step_speed`), the
    ratios to it, and the vector environments' peak memory at ``memory_users`` users (each measured in
    a fresh process), and, with ``startup``, `startup_seconds` of each. The vector environments step
    their users on numba's threads (``threads``; `recworld.envs.compiled.blocks`), and are timed on one
    thread too, as the bare kernel runs.

    Timed in ``repeats`` rounds, each round the bare kernel then every environment, so that a slow
    spell of a shared machine falls on one round: the figures are the medians over the rounds, and each
    ratio the median of the rounds' ratios (an environment against the bare kernel of its round)."""
    import gymnasium as gym

    from recworld.envs import ENV_IDS, REPLAY_IDS

    variants: dict[str, dict[str, Any]] = {env_id: {} for env_id in ENV_IDS}
    variants["recworld/Engagement-v0 (regret=False)"] = {"regret": False}
    singles: dict[str, Any] = {}
    vectors: dict[str, Any] = {}
    for label, kwargs in variants.items():
        env_id = label.split(" ")[0]
        singles[label] = gym.make(env_id, dataset=dataset, **kwargs)
        vectors[label] = gym.make_vec(
            env_id, num_envs=num_envs, vectorization_mode="vector_entry_point", dataset=dataset, **kwargs
        )
    for env_id in REPLAY_IDS:  # logged data, not a dataset's ratings: single environment only
        try:
            singles[env_id] = gym.make(env_id)
        except DataError as err:  # its data is not fetched: say so, time the rest
            print(f"{env_id}: not timed ({err})")
    rounds: list[dict[str, dict[str, float]]] = []
    threads = numba.get_num_threads()
    for _ in range(repeats):
        bare = {"single": bare_step_speed(1, single_steps), "vector": bare_step_speed(num_envs, vector_steps)}
        bare["vector_one_thread"] = bare["vector"]
        single = {label: _single_speed(env, single_steps) for label, env in singles.items()}
        vector = {label: _vector_speed(env, vector_steps) for label, env in vectors.items()}
        numba.set_num_threads(1)
        try:
            one_thread = {label: _vector_speed(env, vector_steps) for label, env in vectors.items()}
        finally:
            numba.set_num_threads(threads)
        rounds.append({"bare": bare, "single": single, "vector": vector, "vector_one_thread": one_thread})

    def median(kind: str, label: str, ratio: bool = False) -> float:
        values = [r[kind][label] / (r["bare"][kind] if ratio else 1.0) for r in rounds]
        return float(np.median(values))

    single_ids = [*singles, *(env_id for env_id in REPLAY_IDS if env_id not in singles)]
    return {
        "env_dataset": dataset,
        "num_envs": num_envs,
        "rounds": repeats,
        "single_env_steps_per_s": {
            label: median("single", label) if label in singles else float("nan") for label in single_ids
        },
        "threads": threads,
        "vector_user_steps_per_s": {label: median("vector", label) for label in vectors},
        "vector_user_steps_per_s_one_thread": {
            label: median("vector_one_thread", label) for label in vectors
        },
        "bare_kernel": {
            "single_steps_per_s": float(np.median([r["bare"]["single"] for r in rounds])),
            "vector_user_steps_per_s": float(np.median([r["bare"]["vector"] for r in rounds])),
        },
        "ratio_to_bare": {
            "single": {
                label: median("single", label, ratio=True) if label in singles else float("nan")
                for label in single_ids
            },
            "vector": {label: median("vector", label, ratio=True) for label in vectors},
            "vector_one_thread": {label: median("vector_one_thread", label, ratio=True) for label in vectors},
        },
        "peak_memory_mb": {
            env_id: {str(n): env_memory(env_id, n, dataset) for n in memory_users} for env_id in ENV_IDS
        },
        "startup_s": {env_id: startup_seconds(env_id, dataset) for env_id in ENV_IDS} if startup else {},
    }


def _single_speed(env: Any, steps: int) -> float:
    """Steps per second of one run of ``steps`` random actions (drawn beforehand), resets included."""
    env.reset(seed=0)
    space = env.action_space
    if isinstance(getattr(space, "n", None), int | np.integer):
        actions: list[Any] = np.random.default_rng(0).integers(0, int(space.n), steps).tolist()
    else:
        space.seed(0)
        actions = [space.sample() for _ in range(steps)]
    env.step(actions[0])  # warm-up (compiled code loads, lists are built)
    env.reset(seed=1)
    started = time.perf_counter()
    for action in actions:
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            env.reset()
    return steps / (time.perf_counter() - started)


def _vector_speed(env: Any, steps: int) -> float:
    """User-steps per second of one run of ``steps`` batches of random actions (drawn beforehand)."""
    env.reset(seed=0)
    batches = np.random.default_rng(0).integers(0, env.unwrapped.kernel.n_items, (steps, env.num_envs))
    env.step(batches[0])  # warm-up
    started = time.perf_counter()
    for batch in batches:
        env.step(batch)
    return steps * env.num_envs / (time.perf_counter() - started)


_MEMORY_PROBE = """
import json, sys
import gymnasium as gym
import numpy as np
import recworld
from recworld.envs.compiled import USERS_PER_THREAD

def kilobytes(field):
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field))

env_id, n, dataset = sys.argv[1], int(sys.argv[2]), sys.argv[3]
# a probe big enough to step on numba's threads: the world, the thread pool and the compiled code
# are in the process before the baseline (they are the process's, made once, not the environment's)
users = 2 * USERS_PER_THREAD
probe = gym.make_vec(env_id, num_envs=users, vectorization_mode="vector_entry_point", dataset=dataset)
probe.reset(seed=0)
probe.step(np.zeros(users, dtype=np.int64))
with open("/proc/self/clear_refs", "w") as refs:
    refs.write("5")  # the peak resident set starts again from here
before = kilobytes("VmRSS")
env = gym.make_vec(env_id, num_envs=n, vectorization_mode="vector_entry_point", dataset=dataset)
env.reset(seed=0)
rng = np.random.default_rng(0)
for _ in range(3):
    env.step(rng.integers(0, env.unwrapped.kernel.n_items, n))
print(json.dumps((kilobytes("VmHWM") - before) / 1024))
"""


_STARTUP_PROBE = """
import json, sys, time
started = time.perf_counter()
import recworld
imported = time.perf_counter()
import gymnasium as gym
env = gym.make(sys.argv[1], dataset=sys.argv[2])
made = time.perf_counter()
env.reset(seed=0)
env.step(env.action_space.sample())
stepped = time.perf_counter()
print(json.dumps({"import": imported - started, "make": made - imported, "first_step": stepped - made}))
"""


def startup_seconds(env_id: str, dataset: str = "movielens-100k") -> dict[str, dict[str, float]]:
    """What a new process waits for: importing recworld, making ``env_id`` (its world fitted and cached
    already) and its first reset and step, in a fresh Python process whose compiled-code cache
    (``NUMBA_CACHE_DIR``) starts empty (``cold``: the compile after an install), then again with the
    cache that run wrote (``warm``: every later process)."""
    out = {}
    with tempfile.TemporaryDirectory() as cache:
        for label in ("cold", "warm"):
            done = subprocess.run(
                [sys.executable, "-c", _STARTUP_PROBE, env_id, dataset],
                capture_output=True,
                text=True,
                check=False,
                env={**os.environ, "NUMBA_CACHE_DIR": cache},
            )
            if done.returncode != 0:
                raise RuntimeError(f"starting {env_id} failed: {done.stderr.strip()[-500:]}")
            out[label] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


#: glibc's allocator with fixed thresholds: blocks of 128 KB and more mapped apart and unmapped when
#: freed, the heap trimmed past 128 KB free. Its default thresholds move up after the first large free,
#: and a process whose heap holds what an earlier environment freed serves a new one from it unseen by
#: the resident set (a vector environment of 1,024 users then seemed to add 0.3 to 1.6 MB, not 5).
FIXED_MALLOC = {"MALLOC_MMAP_THRESHOLD_": "131072", "MALLOC_TRIM_THRESHOLD_": "131072"}


def env_memory(env_id: str, n_users: int, dataset: str = "movielens-100k") -> float:
    """Peak memory (MB) that a vector environment of ``n_users`` users adds to a process in which its
    world is already built and a vector environment has stepped on numba's threads (the thread pool
    and the loaded compiled code, a few MB made once a process, are not counted): in a fresh Python
    process, the peak resident set over making it, resetting it and three steps, minus the resident
    set before (Linux: the peak is reset through ``/proc/self/clear_refs``). The process's allocator
    keeps fixed thresholds (`FIXED_MALLOC`), so that the figure does not depend on which freed blocks
    the heap happened to hold for reuse."""
    done = subprocess.run(
        [sys.executable, "-c", _MEMORY_PROBE, env_id, str(n_users), dataset],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **FIXED_MALLOC},
    )
    if done.returncode != 0:
        raise RuntimeError(f"measuring {env_id} at {n_users} users failed: {done.stderr.strip()[-500:]}")
    return float(done.stdout.strip().splitlines()[-1])


def agent_speed(
    dataset: str = "movielens-100k", *, num_envs: int = 1024, steps: int = 10, repeats: int = 3
) -> dict[str, float]:
    """Decisions per second of batched agents choosing from the whole catalog for ``num_envs`` users
    (LinUCB: one ridge posterior per user, an upper bound for every item), the median of ``repeats``."""
    import gymnasium as gym

    from recworld.agents import make_agent
    from recworld.envs.context import env_context

    env: Any = gym.make_vec(
        "recworld/ColdStart-v0", num_envs=num_envs, vectorization_mode="vector_entry_point", dataset=dataset
    )
    results = {}
    for name in ("linucb", "thompson", "meta-greedy"):
        agent = make_agent(name).bind(env_context(env), num_envs)
        rates = []
        for repeat in range(repeats):  # each within one episode (the horizon is 20 steps)
            obs, _ = env.reset(seed=repeat)
            start = np.ones(num_envs, dtype=bool)
            obs, *_ = env.step(agent.act(obs, env.action_masks(), start))  # warm-up
            started = time.perf_counter()
            for _ in range(steps):
                obs, *_ = env.step(agent.act(obs, env.action_masks()))
            rates.append(steps * num_envs / (time.perf_counter() - started))
        results[name] = float(np.median(rates))
    return results


#: the torch backend's goal for ColdStart on one H200 GPU at >= 1M users (issue #14)
GPU_GOAL, GPU_GOAL_USERS = 250_000_000, 1_000_000


def bare_torch_step_speed(
    n_users: int, steps: int, device: Any, *, n_items: int = 1682, rank: int = 20
) -> float:
    """`bare_step_speed` in eager torch on ``device``: score, noisy rounded rating, drift, history."""
    import torch

    generator = torch.Generator(device=device).manual_seed(0)
    users = torch.randn(n_users, rank, device=device, generator=generator)
    items = torch.randn(n_items, rank, device=device, generator=generator) / rank**0.5
    actions = torch.randint(0, n_items, (steps, n_users), device=device, generator=generator)
    history = torch.zeros(n_users, 5, dtype=torch.int64, device=device)

    def step(t: int) -> None:
        chosen = items[actions[t]]
        score = 3.5 + (users * chosen).sum(dim=1)
        noise = torch.randn(n_users, device=device, generator=generator)
        rating = torch.clamp(torch.round(score + noise), 1.0, 5.0)
        users.add_(0.01 * (rating - score)[:, None] * chosen)
        history[:, t % 5] = actions[t]

    step(0)
    _synchronize(device)
    started = time.perf_counter()
    for t in range(steps):
        step(t)
    _synchronize(device)
    return steps * n_users / (time.perf_counter() - started)


def _synchronize(device: Any) -> None:
    import torch

    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def _torch_env_rate(env_id: str, n: int, dataset: str, where: Any, steps: int, repeats: int) -> float:
    """User-steps per second of ``env_id`` on the torch backend at ``n`` users on ``where``: random
    actions drawn beforehand on the device, resets included; the median of ``repeats`` passes."""
    import gymnasium as gym
    import torch

    env = gym.make_vec(
        env_id,
        num_envs=n,
        vectorization_mode="vector_entry_point",
        dataset=dataset,
        backend="torch",
        device=where,
    )
    env.reset(seed=0)
    n_items = int(env.unwrapped.kernel.n_items)
    generator = torch.Generator(device=where).manual_seed(0)
    actions = torch.randint(0, n_items, (steps, n), device=where, generator=generator)
    env.step(actions[0])  # warm-up
    runs = []
    for _ in range(repeats):
        _synchronize(where)
        started = time.perf_counter()
        for batch in actions:
            env.step(batch)
        _synchronize(where)
        runs.append(steps * n / (time.perf_counter() - started))
    return float(np.median(runs))


def torch_speed(
    dataset: str = "movielens-100k",
    *,
    device: str = "auto",
    num_envs: tuple[int, ...] | None = None,
    steps: int = 20,
    repeats: int = 3,
) -> dict[str, Any]:
    """User-steps per second of the torch backend's vector environments (`recworld.envs.torch_backend`)
    on ``device`` at each of ``num_envs`` users (default: 1M and 8M on a GPU, 1,024 and 65,536 on a
    CPU), random actions drawn beforehand on the device, resets included, beside the eager torch bare
    kernel at the same sizes; medians of ``repeats``. On a GPU also the peak memory the environment
    allocated. A size the device cannot hold is listed under ``out_of_memory``; each measurement is
    also printed to stderr as it finishes, so that a run cut short keeps what it measured."""
    import torch

    from recworld.models.inputs import resolve_device

    where = resolve_device(device)
    gpu = where.type == "cuda"
    sizes = num_envs or ((1_000_000, 8_000_000) if gpu else (1024, 65_536))
    results: dict[str, Any] = {"device": str(where), "env_dataset": dataset, "sizes": list(sizes)}
    if gpu:
        results["device_name"] = torch.cuda.get_device_name(where)
    rates: dict[str, dict[str, float]] = {}
    peaks: dict[str, dict[str, float]] = {}
    too_large: dict[str, list[int]] = {}
    for env_id in ("recworld/ColdStart-v0", "recworld/Engagement-v0"):
        rates[env_id], peaks[env_id] = {}, {}
        for n in sizes:
            if gpu:
                torch.cuda.reset_peak_memory_stats(where)
            try:
                rate: float | None = _torch_env_rate(env_id, n, dataset, where, steps, repeats)
            except torch.OutOfMemoryError:  # the sizes after it are still measured
                rate = None
            if rate is None:  # (outside the handler: its traceback held the environment's tensors)
                too_large.setdefault(env_id, []).append(n)
                if gpu:
                    gc.collect()
                    torch.cuda.empty_cache()
                print(f"torch backend: {env_id} at {n:,} users: out of memory", file=sys.stderr)
                continue
            rates[env_id][str(n)] = rate
            if gpu:
                peaks[env_id][str(n)] = torch.cuda.max_memory_allocated(where) / 2**20
            print(
                f"torch backend: {env_id} at {n:,} users: {rates[env_id][str(n)]:,.0f} user-steps/s",
                file=sys.stderr,
            )
    results["user_steps_per_s"] = rates
    if too_large:
        results["out_of_memory"] = too_large
    results["bare_user_steps_per_s"] = {
        str(n): float(np.median([bare_torch_step_speed(n, steps, where) for _ in range(repeats)]))
        for n in sizes
    }
    if gpu:
        results["peak_memory_mb"] = peaks
    return results


def speed(
    sections: tuple[str, ...] = SECTIONS, *, dataset: str = "movielens-100k", device: str = "auto"
) -> dict:
    """Run the chosen sections; one JSON-able object with the machine it ran on."""
    results: dict[str, Any] = {"machine": machine_description(), "commit": source_commit()}
    if "simulators" in sections:
        results["simulators"] = simulator_speed(dataset)
    if "envs" in sections:
        results.update(env_speed(dataset))
    if "agents" in sections:
        results["agent_decisions_per_s"] = agent_speed(dataset)
    if "meta" in sections:
        from recworld.benchmarks.meta_speed import run_speed_benchmark

        results["meta"] = run_speed_benchmark(load(dataset), device=device)
    if "torch" in sections:
        results["torch_backend"] = torch_speed(dataset, device=device)
    return results


def format_speed(results: dict[str, Any]) -> str:
    commit = results.get("commit")
    lines = [f"machine: {results['machine']}" + (f"; commit {commit}" if commit else "")]
    if "simulators" in results:
        sims = results["simulators"]
        lines.append(f"simulators on {sims['dataset']} (batched calls for {sims['n_users']} users):")
        for name, figures in sims["families"].items():
            per_user = ", ".join(f"{k} {v:.2f}" for k, v in figures["microseconds_per_user"].items())
            lines.append(f"  {name}: fit {figures['fit_seconds']:.2f} s; µs per user: {per_user}")
    if "single_env_steps_per_s" in results:
        lines.extend(_format_envs(results))
    if "agent_decisions_per_s" in results:
        shown = ", ".join(f"{k} {v:,.0f}" for k, v in results["agent_decisions_per_s"].items())
        lines.append(
            f"agents, decisions/s over the whole catalog for 1024 users (env step included): {shown}"
        )
        linucb = results["agent_decisions_per_s"].get("linucb")
        if linucb is not None:
            lines.append(f"  linucb goal {LINUCB_GOAL:,}: {_verdict(linucb, LINUCB_GOAL)}")
    if "torch_backend" in results:
        lines.extend(_format_torch(results["torch_backend"]))
    if "meta" in results:
        meta, adapt = results["meta"], results["meta"]["adaptation"]
        lines.append(
            f"meta-learned model on {meta['device']}: meta-training {meta['meta_training_seconds']:.1f} s "
            f"({meta['epochs']} epochs, text={meta['text']}); adapt {adapt['users']} users "
            f"{1000 * adapt['adapt_seconds']:.1f} ms; "
            f"score all items {1000 * adapt['predict_all_items_seconds']:.1f} ms"
        )
    return "\n".join(lines)


def _verdict(value: float, goal: float) -> str:
    return "met" if value >= goal else f"NOT met ({value / goal:.0%} of it)"


def _format_envs(results: dict[str, Any]) -> list[str]:
    bare, ratios = results["bare_kernel"], results["ratio_to_bare"]
    lines = [
        f"environments on {results['env_dataset']} (vector: {results['num_envs']} users; medians of "
        f"{results.get('rounds', 1)} rounds); bare kernel {bare['single_steps_per_s']:,.0f} steps/s single, "
        f"{bare['vector_user_steps_per_s']:,.0f} user-steps/s vector (one thread); vector environments "
        f"on {results.get('threads', 1)} thread(s), and on one"
    ]
    single_goal = SINGLE_GOAL
    for label, single in results["single_env_steps_per_s"].items():
        line = (
            f"  {label}: single {single:,.0f} steps/s (x{ratios['single'][label]:.2f} bare; goal "
            f"{single_goal:,}: {_verdict(single, single_goal)})"
        )
        if label in results["vector_user_steps_per_s"]:
            vector = results["vector_user_steps_per_s"][label]
            goal = VECTOR_GOALS.get(label.split(" ")[0], 0)
            line += f"; vector {vector:,.0f} user-steps/s (x{ratios['vector'][label]:.2f} bare"
            line += f"; goal {goal:,}: {_verdict(vector, goal)})" if goal else ")"
            one = results.get("vector_user_steps_per_s_one_thread", {}).get(label)
            if one is not None:
                line += f"; one thread {one:,.0f} (x{ratios['vector_one_thread'][label]:.2f} bare)"
        lines.append(line)
    for env_id, peaks in results.get("peak_memory_mb", {}).items():
        shown = ", ".join(f"{int(n):,} users {mb:,.0f} MB" for n, mb in peaks.items())
        lines.append(f"  {env_id} peak memory added: {shown}")
    for env_id, runs in results.get("startup_s", {}).items():
        shown = "; ".join(
            f"{label}: import {t['import']:.1f} s, make {t['make']:.1f} s, first step {t['first_step']:.1f} s"
            for label, t in runs.items()
        )
        lines.append(f"  {env_id} start-up ({shown})")
    return lines


def _format_torch(results: dict[str, Any]) -> list[str]:
    where = results.get("device_name", results["device"])
    lines = [f"torch backend on {where} ({results['env_dataset']}), user-steps/s:"]
    bare = results["bare_user_steps_per_s"]
    for env_id, by_size in results["user_steps_per_s"].items():
        for n, rate in by_size.items():
            line = f"  {env_id} at {int(n):,} users: {rate:,.0f} (x{rate / bare[n]:.2f} eager bare kernel)"
            if (
                env_id == "recworld/ColdStart-v0"
                and results["device"].startswith("cuda")
                and int(n) >= GPU_GOAL_USERS
            ):
                line += f"; goal {GPU_GOAL:,}: {_verdict(rate, GPU_GOAL)}"
            peak = results.get("peak_memory_mb", {}).get(env_id, {}).get(n)
            if peak is not None:
                line += f"; peak {peak:,.0f} MB"
            lines.append(line)
    for env_id, sizes in results.get("out_of_memory", {}).items():
        lines.append(f"  {env_id}: out of memory at " + ", ".join(f"{n:,}" for n in sizes) + " users")
    lines.append("  eager bare kernel: " + ", ".join(f"{int(n):,} users {r:,.0f}" for n, r in bare.items()))
    return lines
