"""The report's PNG plots (matplotlib's explicit API on Agg): final scores with intervals, the score
distributions (performance profiles), the reward at each step with bands, and learning curves. Part of
the report (`recworld.benchmarks.report`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from recworld.numerics.files import save_figure


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
        files = [_plot_scores(out, env, data), _plot_profile(out, env, data), _plot_curves(out, env, data)]
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


def _plot_profile(out: Path, env: str, data: dict[str, Any]) -> Path:
    """The score distribution of each agent (rliable's performance profile): the share of users whose
    score is better than each threshold (above it, or below it where lower is better); a curve above
    another everywhere dominates it."""
    fig = _figure(7.0, 4.2)
    ax = fig.subplots()
    agents = [a for a in data["ranking"] if data["agents"][a].get("profile")]
    for agent, color in zip(agents, _colors(len(agents)), strict=True):
        profile = data["agents"][agent]["profile"]
        style = "--" if data["agents"][agent]["privileged"] else "-"
        ax.step(profile["thresholds"], profile["fraction"], style, where="post", color=color, label=agent)
        ax.fill_between(
            profile["thresholds"], profile["low"], profile["high"], step="post", color=color, alpha=0.12, lw=0
        )
    ax.set_xlabel(f"{data['score']} threshold")
    ax.set_ylabel(f"share of users {'above' if data['higher_is_better'] else 'below'} it (95% band)")
    ax.set_title(f"{env}: score distribution (performance profile)")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", ncol=2)
    return _save(fig, out / f"{env}_profile.png")


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
