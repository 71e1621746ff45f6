"""The report of a benchmark run, rebuilt from its records alone (``recworld bench report DIR``).

Writes into DIR:

- ``summary.json``: per environment and agent, every metric's mean and interquartile mean with
  95% two-level bootstrap intervals (`recworld.numerics.statistics`), the ranking by the environment's
  score metric, the probability of improvement for the pairs that matter, the pooled reward and
  learning curves, the cells that failed or are missing, and the versions and machines that
  produced the records. It holds no timing, so a resumed run and an uninterrupted one give the
  same file.
- ``report.md``: one table per environment (agents sorted by score, with intervals), the
  comparisons, the failed cells with their tracebacks, compute time, versions and machine.
- PNG plots (matplotlib's explicit API on Agg): ``<env>_scores.png`` (final scores with intervals),
  ``<env>_curves.png`` (mean reward at step t with 95% bands: the cold-start curves) and, when some
  agent trains, ``<env>_learning.png`` (learning curves, mean over seeds with 95% bands).

The records used are those of the cells of ``DIR/suite.json`` (records of another configuration
of the same key are stale and ignored); without ``suite.json``, every record in ``DIR/records``.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from recworld.benchmarks.records import read_records, write_atomic, write_json
from recworld.benchmarks.suite import (
    CELL_METRICS,
    DEFAULT_BOOTSTRAP,
    DEFAULT_COMPARISONS,
    METRICS,
    Cell,
    Comparison,
    Suite,
)
from recworld.numerics.files import save_figure
from recworld.numerics.statistics import band, bootstrap_ci, probability_of_improvement_ci, summarize

BOOTSTRAP_SEED = 0
PRIVILEGED_NOTE = "privileged: reads the simulator's truth; an upper reference, not a method"


def load_run(out: str | Path) -> tuple[Suite | None, dict[str, dict[str, Any]]]:
    """The run's resolved suite (None if ``suite.json`` is absent) and its records by key."""
    out = Path(out)
    if not out.is_dir():
        raise ValueError(f"{out} is not a directory; give the --out directory of `recworld bench run`")
    suite = None
    if (out / "suite.json").is_file():
        suite = Suite.from_dict(json.loads((out / "suite.json").read_text(encoding="utf-8")))
    records = read_records(out)
    if suite is None and not records:
        raise ValueError(
            f"{out} holds neither suite.json nor records; is it a `recworld bench run` directory?"
        )
    return suite, records


def _expected(suite: Suite | None, records: dict[str, dict[str, Any]]) -> tuple[list[Cell], list[str]]:
    """The cells of the run and the keys of stale records (another configuration of a suite cell)."""
    if suite is None:
        cells = [Cell.from_dict(r["cell"]) for _, r in sorted(records.items())]
        return cells, []
    cells = suite.cells()
    stale = [c.key for c in cells if c.key in records and records[c.key].get("cell") != c.to_dict()]
    return cells, stale


def summarize_run(suite: Suite | None, records: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The machine-readable summary (``summary.json``) of a run's records."""
    cells, stale = _expected(suite, records)
    n_boot = suite.bootstrap if suite is not None else DEFAULT_BOOTSTRAP
    wanted = tuple(suite.metrics) if suite is not None else tuple(METRICS)
    used = {c.key: records[c.key] for c in cells if c.key in records and c.key not in stale}
    missing = [c.key for c in cells if c.key not in used]
    failed = [r for r in used.values() if r.get("status") != "ok"]

    env_order: list[str] = []
    agent_order: dict[str, list[str]] = defaultdict(list)
    env_cells: dict[str, Cell] = {}
    for cell in cells:
        if cell.env not in env_cells:
            env_order.append(cell.env)
            env_cells[cell.env] = cell
        if cell.agent not in agent_order[cell.env]:
            agent_order[cell.env].append(cell.agent)
    ok: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for key in sorted(used, key=lambda k: (used[k]["cell"]["seed"], k)):
        record = used[key]
        if record.get("status") == "ok":
            ok[record["cell"]["env"]][record["cell"]["agent"]].append(record)

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
            {
                "key": r["key"],
                "phase": r["error"]["phase"],
                "type": r["error"]["type"],
                "message": r["error"]["message"],
            }
            for r in sorted(failed, key=lambda r: r["key"])
        ],
        "missing": missing,
        "stale": stale,
        "versions": _distinct([r.get("versions", {}) for r in used.values()]),
        "machines": sorted({r.get("machine", "") for r in used.values() if r.get("machine")}),
    }


def _distinct(items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for item in items:
        seen.setdefault(json.dumps(item, sort_keys=True), item)
    return [seen[k] for k in sorted(seen)]


def _summarize_env(
    env: str,
    first: Cell,
    agents: list[str],
    ok: dict[str, list[dict[str, Any]]],
    suite: Suite | None,
    wanted: tuple[str, ...],
    n_boot: int,
) -> dict[str, Any]:
    kind = next((recs[0]["kind"] for recs in ok.values() if recs), None)
    env_info: dict[str, Any] = next((recs[0].get("env_info", {}) for recs in ok.values() if recs), {})
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
                strata = [[r["cell_metrics"][metric] for r in records]]
            else:
                strata = [_values(r["per_user"].get(metric)) for r in records]
            stats[metric] = summarize(strata, n_boot=n_boot, seed=BOOTSTRAP_SEED)
        first_record = records[0]
        table[agent] = {
            "agent": first_record["cell"]["agent_name"],
            "params": first_record["cell"]["params"],
            "privileged": bool(first_record.get("agent_info", {}).get("privileged", False)),
            "learns_offline": bool(first_record.get("agent_info", {}).get("learns_offline", False)),
            "seeds": [r["cell"]["seed"] for r in records],
            "users": int(sum(r["n_users"] for r in records)),
            "metrics": stats,
            "curve": _reward_curve(records),
            "learning_curve": _learning_curve(records),
        }
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


def _values(values: Any) -> np.ndarray:
    if values is None:
        return np.zeros(0)
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def _reward_curve(records: list[dict[str, Any]]) -> dict[str, list[float]]:
    curves = [r["curve"] for r in records]
    mean, low, high = band([c["mean"] for c in curves], [c["std"] for c in curves], [c["n"] for c in curves])
    return {"mean": mean.tolist(), "low": low.tolist(), "high": high.tolist()}


def _learning_curve(records: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Mean learning curve over seeds on the union of their timesteps, with a normal 95% band
    (each seed's curve interpolated linearly inside its own range, absent outside it)."""
    curves = [np.asarray(r.get("learning_curve") or [], dtype=np.float64).reshape(-1, 2) for r in records]
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


def _comparison_specs(
    env: str, kind: str | None, suite: Suite | None
) -> list[tuple[Comparison, frozenset[str]]]:
    if suite is not None and suite.comparisons is not None:
        return [(c, frozenset()) for c in suite.comparisons if c.env == env]
    return [
        (
            Comparison(
                env, label, tuple(sorted(candidates)), None if baselines is None else tuple(sorted(baselines))
            ),
            exclude,
        )
        for label, candidates, baselines, exclude in DEFAULT_COMPARISONS.get(kind or "", [])
    ]


def _compare(
    spec_and_exclude: tuple[Comparison, frozenset[str]],
    table: dict[str, Any],
    ok: dict[str, list[dict[str, Any]]],
    score: str,
    higher: bool,
    n_boot: int,
) -> dict[str, Any] | None:
    """P(best candidate beats best baseline) on the score, over the seeds both have; None when a
    side has no scored agent in this run."""
    spec, exclude = spec_and_exclude

    def matches(agent: str, names: Sequence[str]) -> bool:
        return agent in names or table[agent]["agent"] in names

    candidates = [a for a in table if matches(a, spec.candidates)]
    if spec.baselines is None:
        baselines = [
            a
            for a in table
            if a not in candidates and not table[a]["privileged"] and table[a]["agent"] not in exclude
        ]
    else:
        baselines = [a for a in table if matches(a, spec.baselines) and a not in candidates]
    if not candidates or not baselines:
        return None

    def best(group: list[str]) -> str:
        sign = -1.0 if higher else 1.0
        return min(group, key=lambda a: (sign * table[a]["metrics"][score]["mean"], a))

    x, y = best(candidates), best(baselines)
    by_seed_x = {r["cell"]["seed"]: r for r in ok[x]}
    by_seed_y = {r["cell"]["seed"]: r for r in ok[y]}
    seeds = sorted(set(by_seed_x) & set(by_seed_y))
    if not seeds:
        return None
    sign = 1.0 if higher else -1.0  # "improvement" means a better score
    xs = [sign * _values(by_seed_x[s]["per_user"][score]) for s in seeds]
    ys = [sign * _values(by_seed_y[s]["per_user"][score]) for s in seeds]
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


def _difference(comparison: dict[str, Any]) -> str:
    difference = comparison.get("difference")
    if not difference:
        return "not recorded"
    text = f"{difference['mean']:+.4g} [{difference['low']:+.4g}, {difference['high']:+.4g}]"
    if difference.get("relative") is not None:
        text += f" ({100 * difference['relative']:+.1f}% of {comparison['baseline']})"
    return text


# ---------------------------------------------------------------------------------- plots
def _figure(width: float, height: float) -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _colors(n: int) -> list[Any]:
    """Distinct colours for ``n`` lines: the default cycle up to 10, tab20 beyond."""
    if n <= 10:
        return [f"C{i}" for i in range(n)]
    import matplotlib

    palette = matplotlib.colormaps["tab20"]
    return [palette(i % 20) for i in range(n)]


def _save(fig: Any, path: Path) -> Path:
    return save_figure(fig, path)


def make_plots(out: Path, summary: dict[str, Any]) -> dict[str, list[str]]:
    """Write every environment's plots into ``out``; returns env label -> file names."""
    plots: dict[str, list[str]] = {}
    for env, data in summary["envs"].items():
        if not data["ranking"]:
            continue
        files = [_plot_scores(out, env, data), _plot_curves(out, env, data)]
        learning = _plot_learning(out, env, data)
        if learning is not None:
            files.append(learning)
        plots[env] = [f.name for f in files]
    return plots


def _plot_scores(out: Path, env: str, data: dict[str, Any]) -> Path:
    score = data["score"]
    agents = data["ranking"]
    fig = _figure(6.5, 0.45 * len(agents) + 1.4)
    ax = fig.subplots()
    stats = [data["agents"][a]["metrics"][score] for a in agents]
    means = np.array([s["mean"] for s in stats])
    errors = np.array(
        [[s["mean"] - s["mean_low"] for s in stats], [s["mean_high"] - s["mean"] for s in stats]]
    )
    positions = np.arange(len(agents))[::-1]
    colors = ["0.6" if data["agents"][a]["privileged"] else "C0" for a in agents]
    ax.barh(positions, means, xerr=errors, color=colors, capsize=3, height=0.6)
    ax.scatter([s["iqm"] for s in stats], positions, marker="|", color="k", s=120, zorder=3, label="IQM")
    ax.set_yticks(positions, [a + (" *" if data["agents"][a]["privileged"] else "") for a in agents])
    ax.set_xlabel(f"{score} (mean, 95% bootstrap CI over seeds and users)")
    ax.set_title(f"{env}: final score")
    finite = means[np.isfinite(means)]
    if len(finite) and finite.min() > 0:
        ax.set_xlim(left=0)
    ax.legend(loc="lower right", fontsize="small")
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, out / f"{env}_scores.png")


def _plot_curves(out: Path, env: str, data: dict[str, Any]) -> Path:
    fig = _figure(7.0, 4.2)
    ax = fig.subplots()
    for agent, color in zip(data["ranking"], _colors(len(data["ranking"])), strict=True):
        curve = data["agents"][agent]["curve"]
        steps = np.arange(1, len(curve["mean"]) + 1)
        style = "--" if data["agents"][agent]["privileged"] else "-"
        ax.plot(steps, curve["mean"], style, color=color, label=agent)
        ax.fill_between(steps, curve["low"], curve["high"], color=color, alpha=0.15, linewidth=0)
    ax.set_xlabel("step t")
    ax.set_ylabel("mean reward at step t (95% band)")
    ax.set_title(
        f"{env}: reward at step t" + (" (0 after a user left)" if data["kind"] == "Engagement" else "")
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", ncol=2)
    return _save(fig, out / f"{env}_curves.png")


def _plot_learning(out: Path, env: str, data: dict[str, Any]) -> Path | None:
    learners = [a for a in data["ranking"] if data["agents"][a]["learning_curve"]]
    if not learners:
        return None
    fig = _figure(7.0, 4.2)
    ax = fig.subplots()
    for agent, color in zip(learners, _colors(len(learners)), strict=True):
        curve = data["agents"][agent]["learning_curve"]
        ax.plot(curve["timesteps"], curve["mean"], color=color, label=f"{agent} ({curve['seeds']} seeds)")
        ax.fill_between(curve["timesteps"], curve["low"], curve["high"], color=color, alpha=0.15, linewidth=0)
    ax.set_xlabel("training timesteps (training users)")
    ax.set_ylabel("mean episode return (95% band over seeds)")
    ax.set_title(f"{env}: learning curves")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return _save(fig, out / f"{env}_learning.png")


# ---------------------------------------------------------------------------------- markdown
def _number(value: float | None) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    magnitude = abs(value)
    digits = 1 if magnitude >= 100 else 2 if magnitude >= 1 else 3
    return f"{round(value, digits) + 0.0:.{digits}f}"  # + 0.0 turns -0.0 into 0.0


def _interval(stats: dict[str, Any], key: str = "mean") -> str:
    return f"{_number(stats[key])} [{_number(stats[f'{key}_low'])}, {_number(stats[f'{key}_high'])}]"


def _metric_title(metric: str, data: dict[str, Any]) -> str:
    if metric == "ndcg":
        k = data.get("env_info", {}).get("k")
        return f"nDCG@{k}" if k else "nDCG"
    return metric.replace("_", " ")


def render_markdown(
    summary: dict[str, Any], plots: dict[str, list[str]], records: dict[str, dict[str, Any]]
) -> str:
    """``report.md`` from the summary (and the records, for tracebacks and compute time)."""
    lines = [f"# recworld benchmark: {summary['suite'] or 'records'}", ""]
    if summary["description"]:
        lines += [summary["description"].strip(), ""]
    cells = summary["cells"]
    boot = summary["bootstrap"]
    lines += [
        f"{cells['total']} cells ({cells['ok']} finished, {cells['failed']} failed, "
        f"{cells['missing']} missing); "
        f"seeds {', '.join(map(str, summary['seeds']))}. Every test user is evaluated once per seed. "
        f"Intervals: 95% two-level bootstrap ({boot['resamples']} resamples: seeds drawn with "
        "replacement, then users within each drawn seed). IQM = interquartile mean. Probability of "
        "improvement: P(X > Y) for the same user and seed, ties one half.",
        "",
    ]
    if not summary["complete"]:
        lines += ["**This run is incomplete: see the failed and missing cells below.**", ""]
    for env, data in summary["envs"].items():
        kwargs = ", ".join(f"{k}={v!r}" for k, v in data["kwargs"].items())
        lines += [f"## {env}", "", f"`{data['id']}`" + (f" ({kwargs})" if kwargs else ""), ""]
        score = data["score"]
        direction = "higher" if data["higher_is_better"] else "lower"
        lines += [
            f"Score: **{score}** ({METRICS[score][2]}; {direction} is better). Agents sorted by mean score.",
            "",
        ]
        if data["ranking"]:
            others = [m for m in data["metrics"] if m != score]
            header = ["#", "agent", f"{score} mean [95% CI]", f"{score} IQM [95% CI]"]
            header += [_metric_title(m, data) for m in others] + ["seeds"]
            lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            for rank, agent in enumerate(data["ranking"], start=1):
                entry = data["agents"][agent]
                name = agent + (" \\*" if entry["privileged"] else "")
                row = [
                    str(rank),
                    name,
                    _interval(entry["metrics"][score]),
                    _interval(entry["metrics"][score], "iqm"),
                ]
                row += [_interval(entry["metrics"][m]) for m in others]
                row.append(str(len(entry["seeds"])))
                lines.append("| " + " | ".join(row) + " |")
            lines.append("")
            if any(data["agents"][a]["privileged"] for a in data["ranking"]):
                lines += [f"\\* {PRIVILEGED_NOTE}.", ""]
        else:
            lines += ["No agent finished a cell here.", ""]
        if data["not_scored"]:
            lines += [f"Not scored (every cell failed): {', '.join(data['not_scored'])}.", ""]
        references = data.get("env_info", {}).get("logged_policies")
        if references:
            lines += [
                "Units are the matched rounds (Li et al.'s replay); references, the logged policies' own "
                "click rates: "
                + "; ".join(
                    f"{name} {r['estimate']:.4f} [{r['ci_low']:.4f}, {r['ci_high']:.4f}] "
                    f"over {r['rounds']:,} rounds"
                    for name, r in references.items()
                )
                + ".",
                "",
            ]
        for comparison in data["comparisons"]:
            lines.append(
                f"Probability of improvement, {comparison['label']}: P({comparison['candidate']} > "
                f"{comparison['baseline']}) = {comparison['probability']:.3f} [{comparison['low']:.3f}, "
                f"{comparison['high']:.3f}] over {len(comparison['seeds'])} seeds "
                f"(the same test user and seed, by {score}); paired difference of means "
                f"{_difference(comparison)}."
            )
        if data["comparisons"]:
            lines.append("")
        for name in plots.get(env, []):
            lines.append(f"![{name}]({name})")
        if plots.get(env):
            lines.append("")
    if summary["failed"]:
        lines += ["## Failed cells", ""]
        for failure in summary["failed"]:
            lines += [f"- `{failure['key']}` ({failure['phase']}): {failure['type']}: {failure['message']}"]
        lines += [""]
        for failure in summary["failed"]:
            trace = records.get(failure["key"], {}).get("error", {}).get("traceback", "")
            tail = trace.rstrip().splitlines()[-12:]
            lines += [
                "<details><summary>" + failure["key"] + "</summary>",
                "",
                "```",
                *tail,
                "```",
                "",
                "</details>",
                "",
            ]
    if summary["missing"]:
        lines += ["## Missing cells", "", "No record yet (finish the run with `--resume`):", ""]
        lines += [f"- `{key}`" for key in summary["missing"]] + [""]
    seconds = [r.get("seconds", {}).get("total", 0.0) for r in records.values()]
    lines += ["## Compute, versions, machine", ""]
    lines += [f"- compute: {sum(seconds) / 60:.1f} CPU-minutes over {len(seconds)} records"]
    for versions in summary["versions"]:
        lines.append("- versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    for machine in summary["machines"]:
        lines.append(f"- machine: {machine}")
    lines += ["- resolved suite: `suite.json`; statistics: `summary.json`; records: `records/`", ""]
    return "\n".join(lines)


def write_report(out: str | Path) -> dict[str, Any]:
    """Rebuild ``summary.json``, the plots and ``report.md`` in ``out`` from its records."""
    out = Path(out)
    suite, records = load_run(out)
    summary = summarize_run(suite, records)
    write_json(out / "summary.json", summary)
    plots = make_plots(out, summary)
    cells, stale = _expected(suite, records)
    used = {c.key: records[c.key] for c in cells if c.key in records and c.key not in stale}
    write_atomic(out / "report.md", render_markdown(summary, plots, used).encode("utf-8"))
    return summary
