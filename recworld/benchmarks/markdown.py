"""The report's ``report.md``: one table per environment, the comparisons, failed cells with their
tracebacks, compute, versions and machines. Part of the report (`recworld.benchmarks.report`)."""

from __future__ import annotations

import math
from typing import Any

from recworld.benchmarks.protocol import METRICS
from recworld.benchmarks.records import Record

PRIVILEGED_NOTE = "privileged: reads the simulator's truth; an upper reference, not a method"


def _difference(comparison: dict[str, Any]) -> str:
    difference = comparison.get("difference")
    if not difference:
        return "not recorded"
    text = f"{difference['mean']:+.4g} [{difference['low']:+.4g}, {difference['high']:+.4g}]"
    if difference.get("relative") is not None:
        text += f" ({100 * difference['relative']:+.1f}% of {comparison['baseline']})"
    return text


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


def render_markdown(summary: dict[str, Any], plots: dict[str, list[str]], records: dict[str, Record]) -> str:
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
            error = records[failure["key"]].error if failure["key"] in records else None
            trace = error["traceback"] if error is not None else ""
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
    seconds = [r.seconds.get("total", 0.0) for r in records.values()]
    lines += ["## Compute, versions, machine", ""]
    lines += [f"- compute: {sum(seconds) / 60:.1f} CPU-minutes over {len(seconds)} records"]
    for versions in summary["versions"]:
        lines.append("- versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    for machine in summary["machines"]:
        lines.append(f"- machine: {machine}")
    lines += ["- resolved suite: `suite.json`; statistics: `summary.json`; records: `records/`", ""]
    return "\n".join(lines)
