"""Cold-start evaluation of the meta-learned model and its baselines (``recworld meta eval``): per-user
metrics after K support ratings, and bootstrap confidence intervals.

Protocol (per seed): the test users of the split that have at least ``max(ks) + n_query``
ratings. Each gets one random query set of ``n_query`` ratings and one random order of the rest;
the support set for K is the first K of that order. So every K uses the same users and the same
query ratings, and support sets are nested: the cold-start curves are comparable across K.

Metrics (query ratings of each user):

* ``mae``, ``rmse`` over all query ratings (``rmse = sqrt(total squared error / count)``).
* ``ndcg3_linear`` and ``ndcg3_exp``: nDCG@3 of the query items ranked by predicted rating, with
  gain ``r`` and ``2^r - 1``, discount ``1 / log2(rank + 1)``, normalised by the ideal order of the
  same query items; averaged over users.
* ``recall10``: the whole catalog minus the user's support items ranked by predicted rating; the
  fraction of the user's liked query items (rating >= like threshold) in the top 10, averaged over
  users with at least one liked query item.
* ``like_precision``, ``like_recall``, ``like_f1``: a like is predicted when the predicted rating
  is at least ``like_threshold - rating_step / 2`` (for models with a Gaussian predictive, exactly
  when ``P(like) >= 0.5``); counts pooled over users.
* ``coverage90`` (models with uncertainty): fraction of query ratings inside the central 90%
  predictive interval.

Confidence intervals: the unit is a (seed, test user) pair. Percentile bootstrap over units
(2,000 resamples from a seeded ``numpy.random.Generator``), each metric recomputed from the
resampled per-unit sums, so ratios like RMSE and F1 are handled exactly (the draws and the interval:
`recworld.numerics.statistics`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

from recworld.data import RatingData, support_query
from recworld.models.baselines import ItemBias, MFFoldIn
from recworld.models.model import EmbeddingModel
from recworld.models.tasks import TaskBatch, tasks_from_support_query
from recworld.numerics.statistics import bootstrap_indices, percentile_interval

KS = (0, 1, 3, 5, 10, 20)
METRICS = (
    "mae",
    "rmse",
    "ndcg3_linear",
    "ndcg3_exp",
    "recall10",
    "like_precision",
    "like_recall",
    "like_f1",
    "coverage90",
)
Z90 = 1.6448536269514722

Scorer = Callable[[TaskBatch], tuple[Tensor, Tensor | None]]
Columns = dict[str, np.ndarray]


def embedding_scorer(model: EmbeddingModel) -> Scorer:
    def score(tasks: TaskBatch) -> tuple[Tensor, Tensor | None]:
        users = model.adapt(
            tasks.support_items, tasks.support_ratings, tasks.support_mask, tasks.user_features
        )
        return users.predict(clip=False)

    return score


def without_uncertainty(scorer: Scorer) -> Scorer:
    """The same predictions with no predictive spread (no coverage is reported for them)."""

    def score(tasks: TaskBatch) -> tuple[Tensor, Tensor | None]:
        return scorer(tasks)[0], None

    return score


def mf_scorer(model: MFFoldIn) -> Scorer:
    def score(tasks: TaskBatch) -> tuple[Tensor, Tensor | None]:
        return model.scores(tasks.support_items, tasks.support_ratings, tasks.support_mask, clip=False), None

    return score


def item_bias_scorer(model: ItemBias) -> Scorer:
    def score(tasks: TaskBatch) -> tuple[Tensor, Tensor | None]:
        return model.scores(len(tasks), clip=False), None

    return score


def evaluation_tasks(
    data: RatingData,
    test_users: np.ndarray,
    user_features: np.ndarray,
    *,
    ks: Sequence[int],
    n_query: int,
    seed: int,
) -> tuple[TaskBatch, int]:
    """Tasks with ``max(ks)`` nested support ratings for the test users who have enough ratings.

    Returns the tasks and how many test users were left out for having too few ratings.
    """
    sq = support_query(
        data, test_users, k=max(ks), n_query=n_query, rng=np.random.default_rng([seed, 20240601])
    )
    return tasks_from_support_query(data, sq, user_features), len(sq.skipped)


def user_columns(
    mean: Tensor,
    std: Tensor | None,
    tasks: TaskBatch,
    *,
    like_threshold: float = 4.0,
    rating_step: float = 1.0,
    rating_range: tuple[float, float] | None = None,
    top_n: int = 10,
    ndcg_at: int = 3,
) -> Columns:
    """Per-user sums from which every metric is computed (see the module docstring).

    ``mean`` may be raw scores: predictions are clipped to ``rating_range`` for the rating metrics,
    while Recall@10 ranks the raw scores (clipping would tie every item above the scale's top).
    """
    raw = mean.detach().float().cpu()
    mean = raw if rating_range is None else raw.clamp(*rating_range)
    tasks = tasks.to("cpu")
    pred = mean.gather(1, tasks.query_items)
    truth = tasks.query_ratings
    err = pred - truth
    n_users, n_query = truth.shape
    cols: Columns = {
        "abs": err.abs().sum(1).numpy(),
        "sq": (err**2).sum(1).numpy(),
        "n": np.full(n_users, float(n_query)),
        "one": np.ones(n_users),
    }
    # nDCG@3 inside the query set (ties in prediction keep the random query order).
    order = torch.argsort(-pred, dim=1, stable=True)[:, :ndcg_at]
    discount = 1.0 / torch.log2(torch.arange(2, order.shape[1] + 2, dtype=torch.float32))
    ideal = torch.sort(truth, dim=1, descending=True).values[:, :ndcg_at]
    for name, gain in (("ndcg_linear", lambda r: r), ("ndcg_exp", lambda r: 2.0**r - 1.0)):
        dcg = (gain(truth.gather(1, order)) * discount).sum(1)
        idcg = (gain(ideal) * discount).sum(1)
        cols[name] = torch.where(idcg > 0, dcg / idcg.clamp_min(1e-12), torch.zeros_like(dcg)).numpy()
    # Recall@10 over the catalog, support items excluded.
    ranked = raw.clone()
    ranked.scatter_add_(1, tasks.support_items, torch.where(tasks.support_mask, -torch.inf, 0.0))
    top = torch.topk(ranked, k=min(top_n, ranked.shape[1]), dim=1).indices
    liked = truth >= like_threshold
    hit = (tasks.query_items[:, :, None] == top[:, None, :]).any(-1) & liked
    n_liked = liked.sum(1).float()
    has_liked = n_liked > 0
    cols["recall"] = torch.where(
        has_liked, hit.sum(1) / n_liked.clamp_min(1), torch.zeros_like(n_liked)
    ).numpy()
    cols["recall_den"] = has_liked.float().numpy()
    predicted_like = pred >= like_threshold - rating_step / 2
    cols["tp"] = (predicted_like & liked).sum(1).float().numpy()
    cols["fp"] = (predicted_like & ~liked).sum(1).float().numpy()
    cols["fn"] = (~predicted_like & liked).sum(1).float().numpy()
    if std is not None:
        s = std.detach().float().cpu().gather(1, tasks.query_items)
        cols["cover"] = (err.abs() <= Z90 * s).sum(1).float().numpy()
        cols["cover_n"] = cols["n"].copy()
    return cols


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


METRIC_FORMULAS: dict[str, tuple[Callable[[Mapping[str, np.ndarray]], np.ndarray], str]] = {
    "mae": (lambda s: _ratio(s["abs"], s["n"]), "n"),
    "rmse": (lambda s: np.sqrt(_ratio(s["sq"], s["n"])), "n"),
    "ndcg3_linear": (lambda s: _ratio(s["ndcg_linear"], s["one"]), "one"),
    "ndcg3_exp": (lambda s: _ratio(s["ndcg_exp"], s["one"]), "one"),
    "recall10": (lambda s: _ratio(s["recall"], s["recall_den"]), "recall_den"),
    "like_precision": (lambda s: _ratio(s["tp"], s["tp"] + s["fp"]), "one"),
    "like_recall": (lambda s: _ratio(s["tp"], s["tp"] + s["fn"]), "one"),
    "like_f1": (lambda s: _ratio(2 * s["tp"], 2 * s["tp"] + s["fp"] + s["fn"]), "one"),
    "coverage90": (lambda s: _ratio(s["cover"], s["cover_n"]), "cover_n"),
}


def aggregate(cols: Columns, indices: np.ndarray, *, level: float = 0.95) -> dict[str, dict[str, float]]:
    """``{metric: {mean, ci_low, ci_high, n}}``: point estimate on all units, percentile bootstrap CI."""
    total = {name: np.asarray(values.sum()) for name, values in cols.items()}
    resampled = {name: values[indices].sum(axis=1) for name, values in cols.items()}
    out: dict[str, dict[str, float]] = {}
    for metric, (formula, unit_column) in METRIC_FORMULAS.items():
        if any(name not in cols for name in _columns_of(metric)):
            continue
        point = float(formula(total))
        low, high = percentile_interval(formula(resampled), level)
        out[metric] = {
            "mean": point,
            "ci_low": float(low),
            "ci_high": float(high),
            "n": int((cols[unit_column] > 0).sum()),
        }
    return out


def paired_difference(
    a: Columns, b: Columns, metric: str, indices: np.ndarray, *, level: float = 0.95
) -> dict[str, float]:
    """``metric(a) - metric(b)`` on the same units, with a percentile bootstrap CI (paired resampling)."""
    formula, _ = METRIC_FORMULAS[metric]
    point = float(formula({k: np.asarray(v.sum()) for k, v in a.items()})) - float(
        formula({k: np.asarray(v.sum()) for k, v in b.items()})
    )
    diff = formula({k: v[indices].sum(1) for k, v in a.items()}) - formula(
        {k: v[indices].sum(1) for k, v in b.items()}
    )
    low, high = percentile_interval(diff, level)
    return {"mean": point, "ci_low": low, "ci_high": high}


def _columns_of(metric: str) -> tuple[str, ...]:
    return {
        "mae": ("abs", "n"),
        "rmse": ("sq", "n"),
        "ndcg3_linear": ("ndcg_linear",),
        "ndcg3_exp": ("ndcg_exp",),
        "recall10": ("recall", "recall_den"),
        "like_precision": ("tp", "fp"),
        "like_recall": ("tp", "fn"),
        "like_f1": ("tp", "fp", "fn"),
        "coverage90": ("cover", "cover_n"),
    }[metric]


def concat_columns(parts: Sequence[Columns]) -> Columns:
    return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}


def evaluate_scorers(
    scorers: Mapping[str, Scorer],
    tasks: TaskBatch,
    *,
    ks: Sequence[int] = KS,
    like_threshold: float = 4.0,
    rating_step: float = 1.0,
    rating_range: tuple[float, float] | None = None,
) -> dict[str, dict[int, Columns]]:
    """Per-user columns for every model and K on one seed's tasks (scores clipped to
    ``rating_range`` for the rating metrics, ranked raw for recall)."""
    out: dict[str, dict[int, Columns]] = {name: {} for name in scorers}
    for k in ks:
        part = tasks.with_k(k)
        for name, scorer in scorers.items():
            with torch.no_grad():
                mean, std = scorer(part)
            out[name][k] = user_columns(
                mean,
                std,
                part,
                like_threshold=like_threshold,
                rating_step=rating_step,
                rating_range=rating_range,
            )
    return out


def summarise(
    columns: Mapping[str, Mapping[int, Columns]], *, n_boot: int = 2000, seed: int = 0
) -> dict[str, dict[str, dict[str, dict[str, float]]]]:
    """``{model: {K (str): {metric: {mean, ci_low, ci_high, n}}}}`` (the ``--json`` object)."""
    result: dict[str, dict[str, dict[str, dict[str, float]]]] = {}
    for name, by_k in columns.items():
        result[name] = {}
        for k, cols in by_k.items():
            indices = bootstrap_indices(len(cols["n"]), n_boot=n_boot, seed=seed)
            result[name][str(k)] = aggregate(cols, indices)
    return result


def format_table(
    results: Mapping[str, Mapping[str, Mapping[str, Mapping[str, float]]]],
    metrics: Sequence[str] = ("mae", "rmse", "ndcg3_linear", "ndcg3_exp", "recall10", "like_f1"),
) -> str:
    """A plain-text table: one block per metric, models as rows, K as columns, ``mean [low, high]``."""
    lines: list[str] = []
    ks = list(next(iter(results.values())).keys()) if results else []
    width = max((len(n) for n in results), default=5)
    for metric in metrics:
        lines.append(f"{metric}  (mean [95% CI])")
        lines.append(" " * (width + 2) + "".join(f"K={k:<22}" for k in ks))
        for name, by_k in results.items():
            cells = []
            for k in ks:
                m: Any = by_k[k].get(metric)
                cells.append(f"{m['mean']:.4f} [{m['ci_low']:.3f},{m['ci_high']:.3f}]  " if m else " " * 24)
            lines.append(f"{name:<{width}}  " + "".join(cells))
        lines.append("")
    return "\n".join(lines)


def format_report(report: Mapping[str, Any]) -> str:
    """`meta_suite.evaluate_suite`'s report as text: protocol, users, tables, comparisons."""
    lines = [f"dataset {report['dataset']}, seeds {report['seeds']}, {report['units']} (seed, user) units"]
    lines.append(report["protocol"])
    for seed, c in report["users"].items():
        lines.append(
            f"  {seed}: {c['evaluated']} of {c['test_users']} test users evaluated "
            f"({c['skipped']} with too few ratings)"
        )
    lines.append("")
    lines.append(format_table(report["results"]))
    if any("coverage90" in by_k.get("0", {}) for by_k in report["results"].values()):
        lines.append(format_table(report["results"], metrics=("coverage90",)))
    for name, by_k in report.get("paired_mae_differences", {}).items():
        cells = "  ".join(
            f"K={k}: {d['mean']:+.4f} [{d['ci_low']:+.3f},{d['ci_high']:+.3f}]" for k, d in by_k.items()
        )
        lines.append(f"MAE {name} (paired): {cells}")
    return "\n".join(lines)
