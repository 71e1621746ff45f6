"""One benchmark cell: an agent on an environment with a seed, evaluated on every test user.

The evaluation protocol (what a record means):

1. **Agent.** ``make_agent(agent_name, seed=seed, **params)``. An agent that ``learns_offline``
   is first trained with ``agent.fit(env_id, env_kwargs, budget)``; it trains on the *training*
   users (``users="train"``) and returns its learning curve, (timesteps, mean episode return) pairs.
   Nothing else of the agent is touched: the benchmark holds no agent logic.
2. **Users.** Every test user of the split (``users="test"``) is evaluated exactly once per seed.
   The population is run in vector environments of ``batch`` users (default: all of them at once),
   built with ``gymnasium.make_vec(env_id, num_envs=B, vectorization_mode="vector_entry_point",
   users="test", **env_kwargs)`` and reset with ``options={"members": positions}``.
   The agent is bound to each batch (``agent.bind(env_context(env), B)``; the oracle, the one
   ``privileged`` agent, also gets ``agent.attach(env)``).
3. **Randomness.** Population member ``m`` at seed ``s`` runs on the generator seeded by
   ``SeedSequence([s, m])`` (passed as the per-sub-environment seed list of ``reset``). A user's
   randomness therefore does not depend on the batch, and seeds are independent repetitions: the
   vector env's own ``seed + i`` convention would give user ``i`` at seed 1 the stream of user
   ``i + 1`` at seed 0. The agent gets ``seed`` (and ``torch.manual_seed(seed)`` is set).
4. **Episodes.** ``agent.act(obs, env.action_masks(), episode_start)`` with ``episode_start`` True
   on the first step. Only each user's *first* episode counts: on Engagement users leave at
   different times, the vector env restarts finished sub-environments on the next step
   (next-step autoreset), and those restarts are ignored — by the metrics, and by the agent:
   once it has read a user's last answer, ``episode_start`` stays True for that user, so nothing
   from the restarted episode reaches what it learns. The loop ends when every user's first
   episode has ended (at most ``horizon`` steps).

Metrics (per user unless said otherwise; see `recworld.benchmarks.protocol.METRICS`):

- ``return``: sum of rewards of the episode (Elicitation: with ``reward="mae"``, the default, the sum of
  each answer's drop in MAE on the films still to predict; with ``"ndcg"``, the final nDCG minus
  the nDCG before any question);
- ``regret``: sum of ``info["regret"]`` (against each step's best unseen items by the simulator's
  truth, i.e. against the oracle); ColdStart and Engagement;
- ``like_rate``: share of the items the user rated (took, or answered on Elicitation) that they rated
  at least the like threshold (4 on MovieLens), read from the observation's latest responses;
  undefined (NaN) for a user who rated nothing;
- ``ndcg`` and ``mae``: the final ``info["ndcg"]`` and ``info["mae"]`` (the recommender's nDCG@k and
  MAE after elicitation); ``answer_rate``: share of questions answered; Elicitation;
- ``diversity``: intra-list diversity, the mean pairwise cosine distance between the genre profiles
  (the genre columns of the public ``item_features``) of the distinct items shown to the user;
- ``session_length``: steps in the episode; ``leave_rate``: 1 if the user left (termination); Engagement;
- ``coverage`` (per cell): distinct items shown to all users / catalog size.

The per-step reward curve averages the reward at step ``t`` over all users, counting 0 after a user
left, so it sums to the mean return; it is stored as mean, standard deviation and count per step.
`run_cell` never raises: a failure becomes a record with ``status="failed"``, the phase it failed in
and the traceback.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import platform
import time
import traceback
from collections.abc import Iterator
from typing import Any

import numpy as np

from recworld.benchmarks.records import CellError, Record
from recworld.benchmarks.suite import Cell


def versions() -> dict[str, str]:
    """Versions of Python and of the packages a result depends on (read without importing them)."""
    found = {"python": platform.python_version()}
    for package in ("recworld", "numpy", "scipy", "torch", "gymnasium", "stable-baselines3"):
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


def machine() -> str:
    from recworld.benchmarks.speed import machine_description

    return machine_description()


def user_seed(seed: int, member: int) -> int:
    """The reset seed of population member ``member`` at benchmark seed ``seed`` (see the docstring)."""
    return int(np.random.SeedSequence([seed, member]).generate_state(1)[0])


@contextlib.contextmanager
def _torch_single_thread(seed: int) -> Iterator[None]:
    """One torch thread (results then do not depend on the worker's thread count) and a seeded
    global torch generator, for libraries that draw from it; restored afterwards."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def run_cell(cell: Cell) -> Record:
    """Run one cell and return its record; never raises for a failing cell."""
    started = time.perf_counter()
    fields: dict[str, Any] = {"key": cell.key, "cell": cell, "versions": versions(), "machine": machine()}
    phase = "agent"
    timing: dict[str, float] = {}
    try:
        from recworld.agents import make_agent

        with _torch_single_thread(cell.seed):
            agent = make_agent(cell.agent_name, seed=cell.seed, **cell.params)
            fields["agent_info"] = {
                "class": type(agent).__name__,
                "learns_offline": bool(getattr(agent, "learns_offline", False)),
                "privileged": bool(getattr(agent, "privileged", False)),
            }
            curve: list[list[float]] = []
            if getattr(agent, "learns_offline", False):
                phase = "fit"
                t0 = time.perf_counter()
                fitted = agent.fit(cell.env_id, dict(cell.env_kwargs), cell.budget)
                curve = [[float(x), float(y)] for x, y in (fitted or [])]
                timing["fit"] = time.perf_counter() - t0
            phase = "evaluate"
            t0 = time.perf_counter()
            result = evaluate(agent, cell)
            timing["evaluate"] = time.perf_counter() - t0
        fields.update(status="ok", learning_curve=curve, **result)
    except Exception as err:
        fields.update(status="failed", error=error_info(err, phase))
    timing["total"] = time.perf_counter() - started
    return Record(**fields, seconds=timing)


def error_info(err: BaseException, phase: str) -> CellError:
    return CellError(
        phase=phase,
        type=type(err).__name__,
        message=str(err),
        traceback="".join(traceback.format_exception(err)),
    )


def _make_env(cell: Cell, num_envs: int) -> Any:
    import gymnasium as gym

    import recworld  # noqa: F401 - registers the environments

    return gym.make_vec(
        cell.env_id,
        num_envs=num_envs,
        vectorization_mode="vector_entry_point",
        users="test",
        **cell.env_kwargs,
    )


def evaluate_agent(
    policy: Any,
    env_id: str = "recworld/ColdStart-v0",
    *,
    seed: int = 0,
    batch: int = 0,
    algorithm: str = "ppo",
    **env_kwargs: Any,
) -> dict[str, Any]:
    """The benchmark's evaluation of a policy trained elsewhere: every test user once, with the
    benchmark's seeding, on ``env_id`` built with ``env_kwargs``. ``policy`` is a recworld agent, a
    trained stable-baselines3 model, a path to one saved with ``model.save`` (loaded as
    ``algorithm``), or any object with SB3's ``predict`` (`recworld.agents.sb3.as_agent`). Returns the
    result part of a record: ``metrics`` (means over users), ``per_user``, ``curve``."""
    from recworld.agents.sb3 import as_agent

    if "users" in env_kwargs:
        raise ValueError(
            f"users={env_kwargs['users']!r}: the benchmark evaluates every held-out test user "
            "(users='test'); leave users out"
        )
    label = env_id.split("/")[-1].split("-v")[0]
    cell = Cell(
        env=label,
        env_id=env_id,
        env_kwargs=env_kwargs,
        agent="policy",
        agent_name="policy",
        params={},
        seed=seed,
        budget=0,
        batch=batch,
    )
    with _torch_single_thread(seed):
        return evaluate(as_agent(policy, algorithm=algorithm, seed=seed), cell)


def evaluate(agent: Any, cell: Cell) -> dict[str, Any]:
    """Evaluate a (fitted) agent on every test user once; the result part of a record. ``agent`` may
    also be a trained model (see `evaluate_agent`)."""
    from recworld.agents.sb3 import as_agent
    from recworld.envs.context import env_context, kernel_of

    agent = as_agent(agent, seed=cell.seed)
    from recworld.envs.registration import REPLAY_IDS

    if cell.env_id in REPLAY_IDS:
        return _evaluate_replay(agent, cell)

    probe = _make_env(cell, 1)
    n_users = len(kernel_of(probe).world.population)
    probe.close()
    batch = cell.batch or n_users
    parts = []
    for start in range(0, n_users, batch):
        members = np.arange(start, min(n_users, start + batch))
        env = _make_env(cell, len(members))
        try:
            agent.bind(env_context(env), len(members))
            if getattr(agent, "privileged", False):
                agent.attach(env)
            parts.append(_rollout(env, agent, members, cell.seed))
        finally:
            env.close()

    context = parts[0]["context"]
    per_user = {name: np.concatenate([p["per_user"][name] for p in parts]) for name in parts[0]["per_user"]}
    shown_any = np.logical_or.reduce([p["shown_any"] for p in parts])
    horizon = max(len(p["step_sum"]) for p in parts)
    step_sum, step_sq = np.zeros(horizon), np.zeros(horizon)
    for p in parts:
        step_sum[: len(p["step_sum"])] += p["step_sum"]
        step_sq[: len(p["step_sq"])] += p["step_sq"]
    mean = step_sum / n_users
    std = np.sqrt(np.maximum(step_sq / n_users - mean**2, 0.0))
    cell_metrics = {"coverage": float(shown_any.mean())}
    metrics = {name: _nanmean(values) for name, values in per_user.items()}
    metrics.update(cell_metrics)
    return {
        "kind": context["kind"],
        "env_info": context,
        "n_users": n_users,
        "users": np.concatenate([p["users"] for p in parts]).tolist(),
        "metrics": metrics,
        "cell_metrics": cell_metrics,
        "per_user": {name: values.tolist() for name, values in per_user.items()},
        "curve": {"mean": mean.tolist(), "std": std.tolist(), "n": n_users},
    }


def _evaluate_replay(agent: Any, cell: Cell, bins: int = 20) -> dict[str, Any]:
    """One pass of the agent over a replay environment's logged rounds (Li et al.'s protocol: only
    rounds where its pick matches the log count). The units are the matched rounds: ``return`` is
    each one's click, so its mean is the agent's click rate; ``matched`` counts them."""
    import gymnasium

    from recworld.envs.context import env_context

    env = gymnasium.make(cell.env_id, **cell.env_kwargs)
    try:
        references = logged_policies(env.unwrapped)
        context = env_context(env)
        agent.bind(context, 1)
        observation, _ = env.reset(seed=cell.seed)
        starting = np.ones(1, dtype=bool)
        rewards, matched, chosen = [], [], np.zeros(context.n_items, dtype=bool)
        done = False
        while not done:
            batch = {key: np.asarray(value)[None] for key, value in observation.items()}
            action = int(
                np.asarray(agent.act(batch, np.ones((1, context.n_items), dtype=bool), starting)).reshape(-1)[
                    0
                ]
            )
            starting[:] = False
            chosen[action] = True
            observation, reward, terminated, truncated, info = env.step(action)
            rewards.append(float(reward))
            matched.append(bool(info["matched"]))
            done = terminated or truncated
    finally:
        env.close()
    rewards_array, matched_array = np.asarray(rewards), np.asarray(matched)
    clicks = rewards_array[matched_array]
    # the click rate over each block of rounds' matched rounds (NaN for a block with none)
    blocks = np.array_split(np.where(matched_array, rewards_array, np.nan), min(bins, len(rewards_array)))
    cell_metrics = {"coverage": float(chosen.mean()), "matched": float(matched_array.sum())}
    return {
        "kind": "Replay",
        "env_info": {
            "kind": "Replay",
            "n_items": int(context.n_items),
            "rounds": len(rewards),
            "reward": "click",
            "logged_policies": references,
        },
        "n_users": len(clicks),
        "users": np.flatnonzero(matched_array).tolist(),
        "metrics": {"return": _nanmean(clicks), **cell_metrics},
        "cell_metrics": cell_metrics,
        "per_user": {"return": clicks.tolist()},
        "curve": {
            "mean": [_nanmean(b) if np.isfinite(b).any() else 0.0 for b in blocks],
            "std": [float(np.nanstd(b)) if np.isfinite(b).any() else 0.0 for b in blocks],
            "n": max(1, min(int(np.isfinite(b).sum()) for b in blocks)),  # matched rounds per block
        },
    }


def logged_policies(env: Any) -> dict[str, dict[str, Any]]:
    """The click rates of the policies that logged a replay environment's data, with bootstrap
    intervals over rounds: the references of a replay table."""
    from recworld.ope import bootstrap_ratio

    out: dict[str, dict[str, Any]] = {}
    for label, log in (("uniform random (replayed)", env.log), ("Thompson sampling", env.training_log)):
        out[label] = {**bootstrap_ratio(log.reward), "rounds": log.n_rounds}
    return out


def _nanmean(values: np.ndarray) -> float:
    finite = values[~np.isnan(values)]
    return float(finite.mean()) if len(finite) else float("nan")


def _rollout(env: Any, agent: Any, members: np.ndarray, seed: int) -> dict[str, Any]:
    """Every user's first episode in one vector env; per-user metrics and per-step reward sums."""
    from recworld.envs.context import env_context, kernel_of

    context = env_context(env)
    kind = context.kind
    kernel = kernel_of(env)
    b = len(members)
    threshold = context.like_threshold - 1e-4  # ratings come back as float32 fractions of the scale

    obs, info = env.reset(seed=[user_seed(seed, int(m)) for m in members], options={"members": members})
    users = np.asarray(info["user"], dtype=np.int64).copy()
    active = np.ones(b, dtype=bool)
    returns, regret = np.zeros(b), np.zeros(b)
    steps, left = np.zeros(b, dtype=np.int64), np.zeros(b, dtype=bool)
    liked, rated = np.zeros(b), np.zeros(b)
    final_ndcg, final_mae = np.full(b, np.nan), np.full(b, np.nan)
    shown = np.zeros((b, context.n_items), dtype=bool)
    step_sum: list[float] = []
    step_sq: list[float] = []
    starting = np.ones(b, dtype=bool)
    rows = np.arange(b)
    while active.any():
        if len(step_sum) > context.horizon:
            raise RuntimeError(
                f"{b - active.sum()} of {b} users finished after {len(step_sum)} steps with horizon "
                f"{context.horizon}: the environment did not end its episodes"
            )
        actions = agent.act(obs, env.action_masks(), starting)
        # A user already finished when this action was chosen is restarted by the environment; the
        # agent must never read the restarted episode as an answer, so it starts afresh each step.
        starting = ~active
        obs, reward, terminated, truncated, info = env.step(actions)
        items = np.asarray(actions, dtype=np.int64).reshape(b, -1)
        on = rows[active]
        shown[on[:, None], items[on]] = True
        r = np.where(active, np.asarray(reward, dtype=np.float64), 0.0)
        returns += r
        step_sum.append(float(r.sum()))
        step_sq.append(float((r**2).sum()))
        if "regret" in info:
            regret += np.where(active, np.asarray(info["regret"], dtype=np.float64), 0.0)
        if "ndcg" in info:
            final_ndcg = np.where(active, np.asarray(info["ndcg"], dtype=np.float64), final_ndcg)
        if "mae" in info:
            final_mae = np.where(active, np.asarray(info["mae"], dtype=np.float64), final_mae)
        latest = context.latest_responses(obs)
        taken, ratings = latest.taken, latest.ratings
        liked += np.where(active, (taken & (ratings >= threshold)).sum(axis=1), 0)
        rated += np.where(active, taken.sum(axis=1), 0)
        steps += active
        done = np.asarray(terminated, dtype=bool) | np.asarray(truncated, dtype=bool)
        left |= active & np.asarray(terminated, dtype=bool)
        active &= ~done

    with np.errstate(invalid="ignore", divide="ignore"):
        like_rate = np.where(rated > 0, liked / np.maximum(rated, 1), np.nan)
    per_user: dict[str, np.ndarray] = {
        "return": returns,
        "like_rate": like_rate,
        "diversity": intra_list_diversity(shown, context.item_features[:, : context.n_genres]),
    }
    if kind in ("ColdStart", "Engagement"):
        per_user["regret"] = regret
    if kind == "Elicitation":
        per_user["ndcg"] = final_ndcg
        per_user["mae"] = final_mae
        per_user["answer_rate"] = rated / np.maximum(steps, 1)
    if kind == "Engagement":
        per_user["session_length"] = steps.astype(np.float64)
        per_user["leave_rate"] = left.astype(np.float64)
    info_out = {
        "kind": kind,
        "n_items": int(context.n_items),
        "slate_size": int(context.slate_size),
        "horizon": int(context.horizon),
        "reward": context.reward,
        "like_threshold": float(context.like_threshold),
        "k": int(getattr(kernel, "k", 0)) or None,
    }
    return {
        "context": info_out,
        "users": users,
        "per_user": per_user,
        "shown_any": shown.any(axis=0),
        "step_sum": np.asarray(step_sum),
        "step_sq": np.asarray(step_sq),
    }


def intra_list_diversity(shown: np.ndarray, genres: np.ndarray) -> np.ndarray:
    """Per row of ``shown`` ``(B, n_items)``: the mean pairwise cosine distance between the genre
    vectors of the items shown (NaN with fewer than two). Vectorised: with unit rows ``x_i``, the
    sum of ``x_i·x_j`` over pairs ``i != j`` is ``|Σx|² - Σ|x|²``. Items without a genre count as
    orthogonal to everything (distance 1)."""
    genres = np.asarray(genres, dtype=np.float64)
    norms = np.linalg.norm(genres, axis=1, keepdims=True)
    unit = np.divide(genres, norms, out=np.zeros_like(genres), where=norms > 0)
    chosen = shown.astype(np.float64)
    total = chosen @ unit
    self_similarity = chosen @ (unit**2).sum(axis=1)
    count = chosen.sum(axis=1)
    pairs = count * (count - 1)
    similarity = ((total**2).sum(axis=1) - self_similarity) / np.maximum(pairs, 1)
    return np.where(count >= 2, 1.0 - similarity, np.nan)


if __name__ == "__main__":  # one cell in a process of its own: the cell on stdin, its record on stdout
    import sys

    print(run_cell(Cell.model_validate_json(sys.stdin.read())).model_dump_json())
