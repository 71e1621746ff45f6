"""Simulated vs real: does a world rank agents the way real users do?

`recworld bench validate` runs a suite's agents on every environment that has a real-data replay twin
(ColdStart and Elicitation; Engagement has none), once in the world and once on replay, with the same
test users, seeds and protocol: the world run uses ``candidates="rated"`` (each user's episode is
restricted to the films they rated in the data, as on replay), the replay run ``simulator="replay"``.
Only the truth differs: the world's sampled answers and awareness, or the ratings people really gave.

Per environment it reports each agent's mean score in both with a 95% interval (two-level bootstrap:
seeds, then users), Kendall's tau between the two rankings of agents with a bootstrap 95% interval
(users resampled jointly in both runs: they are paired), the agents involved in discordant pairs,
and, for Elicitation, each agent's answer rate in both. A scatter plot shows world vs real scores.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import kendalltau

from recworld.benchmarks.records import Record, read_records, write_atomic, write_json
from recworld.benchmarks.suite import Suite, SuiteError
from recworld.numerics.files import save_figure
from recworld.numerics.statistics import bootstrap_indices, percentile_interval, summarize

TWINS = ("recworld/ColdStart-v0", "recworld/Elicitation-v0")
SIDES = {"world": {"candidates": "rated"}, "real": {"simulator": "replay"}}


def twin_suite(suite: Suite) -> Suite:
    """The suite's environments that have a replay twin, each twice: ``LABEL-world`` and ``LABEL-real``."""
    envs = []
    for env in suite.envs:
        if env.id not in TWINS:
            continue
        if "simulator" in env.kwargs and env.kwargs["simulator"] == "replay":
            raise SuiteError(f"{env.label}: already on replay; bench validate adds the replay twin itself")
        for side, kwargs in SIDES.items():
            envs.append(
                env.model_copy(update={"label": f"{env.label}-{side}", "kwargs": {**env.kwargs, **kwargs}})
            )
    if not envs:
        raise SuiteError(
            f"suite {suite.name!r} has no environment with a replay twin (twins: {', '.join(TWINS)})"
        )
    return suite.model_copy(
        update={"name": f"{suite.name}-validate", "envs": tuple(envs), "comparisons": None}
    )


def _per_unit(
    records: dict[str, Record], env: str, agent: str, metric: str, seeds: tuple[int, ...]
) -> list[np.ndarray]:
    """Per seed, the metric of every user in user order (the units that pair world and real)."""
    strata = []
    for seed in seeds:
        record = records.get(f"{env}__{agent}__{seed}")
        if record is None or record.status != "ok":
            raise SuiteError(f"{env}: no finished record for {agent} at seed {seed}; rerun with --resume")
        order = np.argsort(record.users, kind="stable")
        strata.append(np.asarray(record.per_user[metric], dtype=np.float64)[order])
    return strata


def agreement(suite: Suite, out: str | Path, *, n_boot: int = 1000, seed: int = 0) -> dict[str, Any]:
    """The agreement report of a finished `twin_suite` run in ``out`` (JSON-ready)."""
    records = read_records(Path(out))
    result: dict[str, Any] = {}
    base_envs = [env for env in suite.envs if env.label.endswith("-world")]
    for world_env in base_envs:
        label = world_env.label[: -len("-world")]
        real_env = f"{label}-real"
        agents = list(world_env.agents)
        scores = {
            side: {a: _per_unit(records, f"{label}-{side}", a, world_env.score, suite.seeds) for a in agents}
            for side in SIDES
        }
        entry: dict[str, Any] = {"agents": {}}
        for agent in agents:
            row: dict[str, Any] = {}
            for side in SIDES:
                stats = summarize(scores[side][agent], n_boot=n_boot, seed=seed)
                row[side] = stats["mean"]
                row[f"{side}_ci"] = [stats["mean_low"], stats["mean_high"]]
            if world_env.id.endswith("Elicitation-v0"):
                for side in SIDES:
                    rates = _per_unit(records, f"{label}-{side}", agent, "answer_rate", suite.seeds)
                    row[f"answer_rate_{side}"] = float(np.nanmean(np.concatenate(rates)))
            entry["agents"][agent] = row
        world = np.array([entry["agents"][a]["world"] for a in agents])
        real = np.array([entry["agents"][a]["real"] for a in agents])
        tau = float(kendalltau(world, real).statistic) if len(agents) > 1 else float("nan")
        # Bootstrap: resample (seed, user) units jointly for every agent and both sides.
        stacked = {side: np.stack([np.concatenate(scores[side][a]) for a in agents]) for side in SIDES}
        taus = [
            kendalltau(
                np.nanmean(stacked["world"][:, pick], axis=1), np.nanmean(stacked["real"][:, pick], axis=1)
            ).statistic
            for pick in bootstrap_indices(stacked["world"].shape[1], n_boot=n_boot, seed=seed)
        ]
        low, high = percentile_interval(np.asarray(taus, dtype=float))  # NaN with one agent
        discordant = sorted(
            {
                name
                for i, a in enumerate(agents)
                for b in agents[i + 1 :]
                if (world[i] - world[agents.index(b)]) * (real[i] - real[agents.index(b)]) < 0
                for name in (a, b)
            }
        )
        entry.update(
            kendall_tau=tau,
            tau_ci_low=float(low),
            tau_ci_high=float(high),
            discordant_agents=discordant,
            score=world_env.score,
            env_id=world_env.id,
            world_env=world_env.label,
            real_env=real_env,
        )
        result[world_env.id] = entry
    return result


def plot_agreement(report: dict[str, Any], directory: str | Path) -> list[Path]:
    """One scatter plot per environment: world score vs real score, one point per agent."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    directory = Path(directory)
    paths = []
    for env_id, entry in report.items():
        fig = Figure(figsize=(5.5, 5))
        ax = fig.subplots()
        for name, row in entry["agents"].items():
            ax.errorbar(
                row["real"],
                row["world"],
                xerr=[[row["real"] - row["real_ci"][0]], [row["real_ci"][1] - row["real"]]],
                yerr=[[row["world"] - row["world_ci"][0]], [row["world_ci"][1] - row["world"]]],
                fmt="o",
                capsize=2,
            )
            ax.annotate(
                name, (row["real"], row["world"]), fontsize=7, xytext=(3, 3), textcoords="offset points"
            )
        ax.set(
            xlabel=f"real users (replay) — mean {entry['score']}",
            ylabel=f"world — mean {entry['score']}",
            title=f"{env_id}: Kendall tau {entry['kendall_tau']:.2f} "
            f"[{entry['tau_ci_low']:.2f}, {entry['tau_ci_high']:.2f}]",
        )
        path = save_figure(
            fig, directory / f"agreement_{env_id.split('/')[-1].split('-v')[0]}.png", bbox_inches="tight"
        )
        paths.append(path)
    return paths


def format_agreement(report: dict[str, Any]) -> str:
    """The agreement report as markdown."""
    lines = ["# Simulated vs real", ""]
    for env_id, entry in report.items():
        lines += [
            f"## {env_id}",
            "",
            f"Kendall's tau between the world's and the real users' ranking of the agents: "
            f"**{entry['kendall_tau']:.2f}** "
            f"(95% CI [{entry['tau_ci_low']:.2f}, {entry['tau_ci_high']:.2f}]); "
            f"agents in discordant pairs: {', '.join(entry['discordant_agents']) or 'none'}.",
            "",
        ]
        elicitation = any("answer_rate_world" in row for row in entry["agents"].values())
        head = "| agent | world | 95% CI | real (replay) | 95% CI |"
        rule = "|---|---:|---|---:|---|"
        if elicitation:
            head += " answer rate world | answer rate real |"
            rule += "---:|---:|"
        lines += [head, rule]
        ranked = sorted(entry["agents"].items(), key=lambda item: -item[1]["real"])
        for name, row in ranked:
            line = (
                f"| {name} | {row['world']:.4f} | [{row['world_ci'][0]:.4f}, {row['world_ci'][1]:.4f}] "
                f"| {row['real']:.4f} | [{row['real_ci'][0]:.4f}, {row['real_ci'][1]:.4f}] |"
            )
            if elicitation:
                line += f" {row['answer_rate_world']:.3f} | {row['answer_rate_real']:.3f} |"
            lines.append(line)
        lines.append("")
    return "\n".join(lines)


def write_agreement(suite: Suite, out: str | Path) -> dict[str, Any]:
    """Compute the agreement of a finished run and write ``agreement.json``, ``agreement.md`` and plots."""
    out = Path(out)
    report = agreement(suite, out)
    write_json(out / "agreement.json", report)
    plot_agreement(report, out)
    write_atomic(out / "agreement.md", format_agreement(report).encode("utf-8"))
    return report
