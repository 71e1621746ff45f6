"""The statistics of a benchmark run (``summary.json``), from its records alone: per environment and
agent, every metric's mean and IQM with two-level bootstrap intervals, the ranking, the comparisons
(probability of improvement and the paired difference of means), and the pooled reward and learning
curves. Part of the report (`recworld.benchmarks.report`)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from recworld.benchmarks.protocol import (
    CELL_METRICS,
    DEFAULT_COMPARISONS,
    METRICS,
    agents_named,
    with_families,
)
from recworld.benchmarks.records import Record, read_records
from recworld.benchmarks.suite import DEFAULT_BOOTSTRAP, Cell, Comparison, Suite, SuiteError
from recworld.numerics.statistics import (
    band,
    bootstrap_ci,
    clean_strata,
    performance_profile,
    probability_of_improvement_ci,
    summarize,
)

BOOTSTRAP_SEED = 0


def load_run(out: str | Path) -> tuple[Suite | None, dict[str, Record]]:
    """The run's resolved suite (None if ``suite.json`` is absent) and its records by key."""
    out = Path(out)
    if not out.is_dir():
        raise ValueError(f"{out} is not a directory; give the --out directory of `recworld bench run`")
    suite = None
    if (out / "suite.json").is_file():
        try:
            suite = Suite.model_validate_json((out / "suite.json").read_text(encoding="utf-8"))
        except ValidationError as err:
            raise SuiteError.from_validation(err, str(out / "suite.json")) from None
    records = read_records(out)
    if suite is None and not records:
        raise ValueError(
            f"{out} holds neither suite.json nor records; is it a `recworld bench run` directory?"
        )
    return suite, records


def expected_cells(suite: Suite | None, records: dict[str, Record]) -> tuple[list[Cell], list[str]]:
    """The cells of the run and the keys of stale records (another configuration of a suite cell)."""
    if suite is None:
        return [r.cell for _, r in sorted(records.items())], []
    cells = suite.cells()
    stale = [c.key for c in cells if c.key in records and records[c.key].cell != c]
    return cells, stale


def summarize_run(suite: Suite | None, records: dict[str, Record]) -> dict[str, Any]:
    """The machine-readable summary (``summary.json``) of a run's records."""
    cells, stale = expected_cells(suite, records)
    n_boot = suite.bootstrap if suite is not None else DEFAULT_BOOTSTRAP
    wanted = tuple(suite.metrics) if suite is not None else tuple(METRICS)
    used = {c.key: records[c.key] for c in cells if c.key in records and c.key not in stale}
    missing = [c.key for c in cells if c.key not in used]
    failed = {key: r.error for key, r in used.items() if r.error is not None}

    env_order: list[str] = []
    agent_order: dict[str, list[str]] = defaultdict(list)
    env_cells: dict[str, Cell] = {}
    for cell in cells:
        if cell.env not in env_cells:
            env_order.append(cell.env)
            env_cells[cell.env] = cell
        if cell.agent not in agent_order[cell.env]:
            agent_order[cell.env].append(cell.agent)
    ok: dict[str, dict[str, list[Record]]] = defaultdict(lambda: defaultdict(list))
    for key in sorted(used, key=lambda k: (used[k].cell.seed, k)):
        record = used[key]
        if record.status == "ok":
            ok[record.cell.env][record.cell.agent].append(record)

    envs = {}
    for env in env_order:
        envs[env] = _summarize_env(env, env_cells[env], agent_order[env], ok[env], suite, wanted, n_boot)

    seeds = sorted({c.seed for c in cells})
    return {
        "suite": suite.name if suite is not None else None,
        "description": suite.description if suite is not None else "",
        "seeds": seeds,
        "bootstrap": {"resamples": n_boot, "seed": BOOTSTRAP_SEED, "level": 0.95, "strata": "seeds"},
        "cells": {
            "total": len(cells),
            "ok": len(used) - len(failed),
            "failed": len(failed),
            "missing": len(missing),
        },
        "complete": not missing and not failed,
        "envs": envs,
        "failed": [
            {"key": key, "phase": error["phase"], "type": error["type"], "message": error["message"]}
            for key, error in sorted(failed.items())
        ],
        "missing": missing,
        "stale": stale,
        "versions": _distinct([r.versions for r in used.values()]),
        "machines": sorted({r.machine for r in used.values() if r.machine}),
    }


def _distinct(items: Sequence[dict[str, str]]) -> list[dict[str, str]]:
    seen: dict[str, dict[str, str]] = {}
    for item in items:
        seen.setdefault(json.dumps(item, sort_keys=True), item)
    return [seen[k] for k in sorted(seen)]


def _summarize_env(
    env: str,
    first: Cell,
    agents: list[str],
    ok: dict[str, list[Record]],
    suite: Suite | None,
    wanted: tuple[str, ...],
    n_boot: int,
) -> dict[str, Any]:
    kind = next((recs[0].kind for recs in ok.values() if recs), None)
    env_info: dict[str, Any] = next((recs[0].env_info for recs in ok.values() if recs), {})
    score = first.score
    metrics = [m for m in wanted if kind is None or kind in METRICS[m][0]]
    if score not in metrics:
        metrics.insert(0, score)
    higher = METRICS[score][1]
    table: dict[str, Any] = {}
    for agent in agents:
        records = ok.get(agent, [])
        if not records:
            continue
        stats = {}
        for metric in metrics:
            strata: list[Any]
            if metric in CELL_METRICS:
                strata = [[r.cell_metrics[metric] for r in records]]
            else:
                strata = [_values(r.per_user.get(metric)) for r in records]
            stats[metric] = summarize(strata, n_boot=n_boot, seed=BOOTSTRAP_SEED)
        first_cell, info = records[0].cell, records[0].agent_info
        table[agent] = {
            "agent": first_cell.agent_name,
            "params": first_cell.params,
            "privileged": bool(info and info["privileged"]),
            "learns_offline": bool(info and info["learns_offline"]),
            "seeds": [r.cell.seed for r in records],
            "users": int(sum(r.n_users for r in records)),
            "metrics": stats,
            "curve": _reward_curve(records),
            "learning_curve": _learning_curve(records),
        }
    _add_profiles(table, ok, score, higher)
    ranking = sorted(
        table,
        key=lambda a: (
            -table[a]["metrics"][score]["mean"] if higher else table[a]["metrics"][score]["mean"],
            a,
        ),
    )
    comparisons = [
        c
        for c in (
            _compare(spec, table, ok, score, higher, n_boot) for spec in _comparison_specs(env, kind, suite)
        )
        if c
    ]
    return {
        "id": first.env_id,
        "kwargs": first.env_kwargs,
        "kind": kind,
        "env_info": env_info,
        "score": score,
        "higher_is_better": higher,
        "metrics": metrics,
        "ranking": ranking,
        "not_scored": [a for a in agents if a not in table],
        "agents": table,
        "comparisons": comparisons,
    }


PROFILE_POINTS, PROFILE_BOOT = 41, 200


def _add_profiles(table: dict[str, Any], ok: dict[str, list[Record]], score: str, higher: bool) -> None:
    """Each agent's ``profile``: the share of users whose score is better than each of ``PROFILE_POINTS``
    thresholds spanning every agent's scores on this environment (the same grid for all), with bands
    from ``PROFILE_BOOT`` resamples (a picture: the report's intervals use the suite's count)."""
    strata = {a: clean_strata([_values(r.per_user.get(score)) for r in ok[a]]) for a in table}
    values = [np.concatenate(s) for s in strata.values() if s]
    if not values:
        return
    pooled = np.concatenate(values)
    thresholds = np.linspace(pooled.min(), pooled.max(), PROFILE_POINTS)
    for agent, agent_strata in strata.items():
        table[agent]["profile"] = (
            performance_profile(
                agent_strata, thresholds, n_boot=PROFILE_BOOT, seed=BOOTSTRAP_SEED, higher=higher
            )
            if agent_strata
            else None
        )


def _values(values: Any) -> np.ndarray:
    if values is None:
        return np.zeros(0)
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def _reward_curve(records: list[Record]) -> dict[str, list[float]]:
    curves = [r.curve for r in records]
    mean, low, high = band(
        [np.asarray(c["mean"]) for c in curves],
        [np.asarray(c["std"]) for c in curves],
        [c["n"] for c in curves],
    )
    return {"mean": mean.tolist(), "low": low.tolist(), "high": high.tolist()}


def _learning_curve(records: list[Record]) -> dict[str, Any] | None:
    """Mean learning curve over seeds on the union of their timesteps, with a normal 95% band
    (each seed's curve interpolated linearly inside its own range, absent outside it)."""
    curves = [np.asarray(r.learning_curve, dtype=np.float64).reshape(-1, 2) for r in records]
    curves = [c for c in curves if len(c)]
    if not curves:
        return None
    grid = np.unique(np.concatenate([c[:, 0] for c in curves]))
    first, last = max(c[0, 0] for c in curves), min(c[-1, 0] for c in curves)
    if first <= last:  # where every seed has a curve: a mean over all seeds at every point
        grid = grid[(grid >= first) & (grid <= last)]
    values = np.full((len(curves), len(grid)), np.nan)
    for row, curve in zip(values, curves, strict=True):
        inside = (grid >= curve[0, 0]) & (grid <= curve[-1, 0])
        row[inside] = np.interp(grid[inside], curve[:, 0], curve[:, 1])
    count = (~np.isnan(values)).sum(axis=0)
    mean = np.nansum(values, axis=0) / np.maximum(count, 1)
    squares = np.nansum((values - mean) ** 2, axis=0)
    sd = np.sqrt(squares / np.maximum(count - 1, 1))
    half = np.where(count > 1, 1.96 * sd / np.sqrt(np.maximum(count, 1)), 0.0)
    return {
        "timesteps": grid.tolist(),
        "mean": mean.tolist(),
        "low": (mean - half).tolist(),
        "high": (mean + half).tolist(),
        "seeds": len(curves),
    }


def _comparison_specs(env: str, kind: str | None, suite: Suite | None) -> list[Comparison]:
    if suite is not None and suite.comparisons is not None:
        return [
            c.model_copy(
                update={
                    "candidates": with_families(c.candidates, kind or ""),
                    "baselines": None if c.baselines is None else with_families(c.baselines, kind or ""),
                }
            )
            for c in suite.comparisons
            if c.env == env
        ]
    return [
        Comparison(
            env=env,
            label=label,
            candidates=agents_named(candidates, kind or ""),
            baselines=None if baselines is None else agents_named(baselines, kind or ""),
        )
        for label, candidates, baselines in DEFAULT_COMPARISONS.get(kind or "", [])
    ]


def _compare(
    spec: Comparison,
    table: dict[str, Any],
    ok: dict[str, list[Record]],
    score: str,
    higher: bool,
    n_boot: int,
) -> dict[str, Any] | None:
    """P(best candidate beats best baseline) on the score, over the seeds both have; None when a
    side has no scored agent in this run."""

    def matches(agent: str, names: Sequence[str]) -> bool:
        return agent in names or table[agent]["agent"] in names

    candidates = [a for a in table if matches(a, spec.candidates)]
    if spec.baselines is None:
        baselines = [a for a in table if a not in candidates and not table[a]["privileged"]]
    else:
        baselines = [a for a in table if matches(a, spec.baselines) and a not in candidates]
    if not candidates or not baselines:
        return None

    def best(group: list[str]) -> str:
        sign = -1.0 if higher else 1.0
        return min(group, key=lambda a: (sign * table[a]["metrics"][score]["mean"], a))

    x, y = best(candidates), best(baselines)
    by_seed_x = {r.cell.seed: r for r in ok[x]}
    by_seed_y = {r.cell.seed: r for r in ok[y]}
    seeds = sorted(set(by_seed_x) & set(by_seed_y))
    if not seeds:
        return None
    sign = 1.0 if higher else -1.0  # "improvement" means a better score
    xs = [sign * _values(by_seed_x[s].per_user[score]) for s in seeds]
    ys = [sign * _values(by_seed_y[s].per_user[score]) for s in seeds]
    result = probability_of_improvement_ci(xs, ys, n_boot=n_boot, seed=BOOTSTRAP_SEED)
    differences = [sign * (a - b) for a, b in zip(xs, ys, strict=True)]  # back on the score's scale
    low, high = bootstrap_ci(differences, "mean", n_boot=n_boot, seed=BOOTSTRAP_SEED)
    baseline_mean = float(np.nanmean(np.concatenate([sign * b for b in ys])))
    difference = {
        "mean": float(np.nanmean(np.concatenate(differences))),
        "low": low,
        "high": high,
        "relative": float(np.nanmean(np.concatenate(differences)) / abs(baseline_mean))
        if baseline_mean
        else None,
    }
    return {
        "label": spec.label,
        "candidate": x,
        "baseline": y,
        "seeds": seeds,
        **result,
        "difference": difference,
    }
