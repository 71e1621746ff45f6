"""Cold-start curves of the meta-model experiment (``recworld meta eval --plots``): metric against K,
one line per model with its 95% interval as a band."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from recworld.numerics.files import save_figure

PANELS = ("mae", "rmse", "ndcg3_linear", "ndcg3_exp", "recall10", "like_f1")


def plot_cold_start(
    results: Mapping[str, Mapping[str, Mapping[str, Mapping[str, float]]]],
    path: str | Path,
    *,
    metrics: Sequence[str] = PANELS,
    title: str = "",
) -> Path:
    """Write a PNG grid of cold-start curves from the object `meta_evaluate.summarise` returns."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.0 * 3, 3.6 * ((len(metrics) + 2) // 3)), layout="constrained")
    axes = fig.subplots((len(metrics) + 2) // 3, 3, squeeze=False).ravel()
    for ax, metric in zip(axes, metrics, strict=False):
        for name, by_k in results.items():
            points = [(int(k), v[metric]) for k, v in by_k.items() if metric in v]
            if not points:
                continue
            ks = [k for k, _ in points]
            ax.plot(ks, [m["mean"] for _, m in points], marker="o", label=name)
            ax.fill_between(
                ks, [m["ci_low"] for _, m in points], [m["ci_high"] for _, m in points], alpha=0.15
            )
        ax.set_xlabel("K (support ratings)")
        ax.set_ylabel(metric)
        ax.set_title(metric)
        ax.grid(alpha=0.3)
    for ax in axes[len(metrics) :]:
        ax.set_visible(False)
    axes[0].legend(fontsize="small")
    if title:
        fig.suptitle(title)
    return save_figure(fig, path)
