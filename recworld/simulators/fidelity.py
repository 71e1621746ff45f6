"""The fidelity report: how faithful is a fitted world to real people it has not seen?

The simulator is fitted on a random 80% of the real ratings and compared with the held-out 20%:

* ``heldout_rmse`` / ``heldout_mae``: the simulator's expected rating against the held-out ratings
  (context: the same for the training mean and for each item's training mean);
* ``rating_wasserstein``: Wasserstein-1 distance between ratings sampled at the held-out pairs and
  the real held-out ratings (in rating points);
* ``awareness_auc``: how well the awareness model ranks held-out rated pairs above unrated ones;
* ``popularity_gini_real`` / ``_simulated``: item popularity concentration of the held-out ratings
  and of the same number of pairs drawn per user from the awareness model;
* ``user_mean_correlation`` / ``user_mean_mae``: each user's mean held-out rating against the mean of
  the simulator's sampled ratings at the same pairs;
* ``answer_value_real`` / ``_simulated``: how much personal signal people carry — the gain in nDCG@10
  of ranking each user's held-out films (gains ``2^r - 1``) that 10 of their training ratings bring
  to an MF fold-in recommender (the Elicitation environment's default: rank 10, prior 3) fitted on
  other users, with the real ratings and with ratings sampled from the world at the same pairs
  (``answer_value_ci95``: half-width of the real one's 95% interval over users). A world whose users
  are posterior means holds less personal signal than people who really are low-rank (the tests'
  synthetic data); ``user_spread`` adds it back.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import pearsonr, rankdata, wasserstein_distance

from recworld.data import RatingData
from recworld.simulators.families import fit_simulator
from recworld.simulators.latent_factor import fit_als, fold_in
from recworld.simulators.tabular import TabularSimulator


def gini(counts: np.ndarray) -> float:
    """Gini coefficient of non-negative counts (0: all equal, 1: one item has everything)."""
    x = np.sort(np.asarray(counts, dtype=float))
    if x.sum() == 0:
        return 0.0
    n = len(x)
    return float((2 * np.arange(1, n + 1) - n - 1) @ x / (n * x.sum()))


def auc(positive: np.ndarray, negative: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney), ties counted half."""
    ranks = rankdata(np.concatenate([positive, negative]))
    n_pos, n_neg = len(positive), len(negative)
    return float((ranks[:n_pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


ANSWERS, FOLD_IN_RANK, FOLD_IN_PRIOR, MIN_HELD_OUT = 10, 10, 3.0, 5


def validate(
    data: RatingData,
    family: str = "latent-factor",
    *,
    seed: int = 0,
    test_fraction: float = 0.2,
    user_spread: float = 0.0,
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Fit on ``1 - test_fraction`` of the ratings (``user_spread`` as in `fit_simulator`), compare
    with the rest.

    Returns the report (JSON-able numbers) and the arrays behind the plots.
    """
    rng = np.random.default_rng(seed)
    shuffled = rng.permutation(data.n_ratings)
    n_test = int(test_fraction * data.n_ratings)
    test, train = shuffled[:n_test], shuffled[n_test:]
    started = time.perf_counter()
    world = fit_simulator(data.select(train), family, seed=seed, user_spread=user_spread)
    fit_seconds = time.perf_counter() - started
    u, i, r = data.user[test].astype(np.int64), data.item[test].astype(np.int64), data.rating[test]

    expected = world.expected_rating(u, i)
    sampled = world.sample_rating(u, i, rng)
    train_mean = float(data.rating[train].mean())
    item_sum = np.bincount(data.item[train], weights=data.rating[train], minlength=data.n_items)
    item_count = np.bincount(data.item[train], minlength=data.n_items)
    item_mean = (item_sum + 5 * train_mean) / (item_count + 5)

    awareness_pos, awareness_neg = _awareness_pairs(world, data, u, i, rng)
    real_counts = np.bincount(i, minlength=data.n_items)
    simulated_counts = _simulated_popularity(world, data, train, u, rng)
    user_count = np.bincount(u, minlength=data.n_users)
    has = user_count > 0
    real_user_mean = np.bincount(u, weights=r, minlength=data.n_users)[has] / user_count[has]
    sim_user_mean = np.bincount(u, weights=sampled, minlength=data.n_users)[has] / user_count[has]
    levels = world.rating_levels
    answer_real, answer_simulated = answer_value(world, data, train, test, seed)
    report = {
        "dataset": data.name,
        "family": family,
        "seed": seed,
        "train_ratings": len(train),
        "heldout_ratings": len(test),
        "heldout_rmse": _rmse(expected, r),
        "heldout_mae": float(np.mean(np.abs(expected - r))),
        "heldout_rmse_global_mean": _rmse(np.full(len(r), train_mean), r),
        "heldout_rmse_item_mean": _rmse(item_mean[i], r),
        "rating_wasserstein": float(wasserstein_distance(sampled, r)),
        "rating_histogram_real": _shares(r, levels),
        "rating_histogram_sampled": _shares(sampled, levels),
        "awareness_auc": auc(awareness_pos, awareness_neg),
        "popularity_gini_real": gini(real_counts),
        "popularity_gini_simulated": gini(simulated_counts),
        "user_mean_correlation": float(pearsonr(real_user_mean, sim_user_mean)[0]),
        "user_mean_mae": float(np.mean(np.abs(real_user_mean - sim_user_mean))),
        "answer_value_real": float(answer_real.mean()),
        "answer_value_simulated": float(answer_simulated.mean()),
        "answer_value_ci95": float(1.96 * answer_real.std(ddof=1) / np.sqrt(len(answer_real))),
        "user_spread": user_spread,
        "params": world.meta["params"],
        "fit_seconds": fit_seconds,
    }
    arrays = {
        "expected": expected,
        "real": r,
        "sampled": sampled,
        "levels": levels,
        "real_counts": real_counts,
        "simulated_counts": simulated_counts,
        "real_user_mean": real_user_mean,
        "sim_user_mean": sim_user_mean,
    }
    return report, arrays


def answer_value(
    world: TabularSimulator, data: RatingData, train: np.ndarray, test: np.ndarray, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """The nDCG@10 gain of 10 answers to a fold-in recommender, per user, real and simulated (module
    docstring).

    The recommender's item side is fitted on the training ratings of a random half of the users; the
    other half's users with at least ``ANSWERS`` training and ``MIN_HELD_OUT`` held-out ratings take
    part: the answers are a random ``ANSWERS`` of their training ratings, the ranked films their
    held-out ones.
    """
    rng = np.random.default_rng([seed, 2])
    users, items, ratings = data.user.astype(np.int64), data.item.astype(np.int64), data.rating
    fold = rng.random(data.n_users) < 0.5  # the recommender learns from these users, never the others'
    fitted = train[fold[users[train]]]
    model = fit_als(
        users[fitted], items[fitted], ratings[fitted].astype(np.float64), data.n_users, data.n_items,
        rank=FOLD_IN_RANK, reg=0.1, rng=np.random.default_rng(seed),
    )  # fmt: skip
    design = model.item_design()
    support, support_ok = _padded(train, users, data.n_users, rng, limit=ANSWERS)
    query, query_ok = _padded(test, users, data.n_users, rng)
    keep = ~fold & (support_ok.sum(axis=1) >= ANSWERS) & (query_ok.sum(axis=1) >= MIN_HELD_OUT)
    support, query, query_ok = support[keep], query[keep], query_ok[keep]
    who = np.flatnonzero(keep)
    answer_items, query_items = items[support], items[query]
    simulated = {
        "answers": world.sample_rating(np.repeat(who, ANSWERS), answer_items.ravel(), rng),
        "held_out": world.sample_rating(np.repeat(who, query.shape[1]), query_items.ravel(), rng),
    }
    gains = []
    for answers, held_out in (
        (ratings[support], ratings[query]),
        (simulated["answers"].reshape(support.shape), simulated["held_out"].reshape(query.shape)),
    ):
        targets = answers - model.mu - model.item_bias[answer_items]
        vector = fold_in(design, targets, answer_items, np.ones(support.shape, bool), FOLD_IN_PRIOR)
        baseline = model.item_bias[query_items]
        personal = baseline + np.einsum("bd,bnd->bn", vector, design[query_items])
        relevance = np.exp2(held_out - world.rating_levels.min()) - 1.0
        after = _ndcg(personal, relevance, query_ok, 10)
        before = _ndcg(baseline, relevance, query_ok, 10)
        gains.append(after - before)
    return gains[0], gains[1]


def _padded(
    rows: np.ndarray, users: np.ndarray, n_users: int, rng: np.random.Generator, limit: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The rating ``rows`` grouped by user in random order, padded: ``(n_users, m)`` indices and mask."""
    order = rows[np.lexsort((rng.random(len(rows)), users[rows]))]
    owner = users[order]
    counts = np.bincount(owner, minlength=n_users)
    position = np.arange(len(order)) - np.repeat(np.cumsum(counts) - counts, counts)
    width = int(counts.max()) if limit is None else limit
    kept = position < width
    index = np.zeros((n_users, width), dtype=np.int64)
    mask = np.zeros((n_users, width), dtype=bool)
    index[owner[kept], position[kept]] = order[kept]
    mask[owner[kept], position[kept]] = True
    return index, mask


def _ndcg(scores: np.ndarray, gains: np.ndarray, valid: np.ndarray, k: int) -> np.ndarray:
    """nDCG@k per row over the ``valid`` entries of padded rows."""
    discount = 1.0 / np.log2(np.arange(2, scores.shape[1] + 2))[:k]
    gains = np.where(valid, gains, 0.0)
    ranked = np.take_along_axis(gains, np.argsort(np.where(valid, -scores, np.inf), axis=1), axis=1)
    ideal = -np.sort(-gains, axis=1)
    best = (ideal[:, :k] * discount).sum(axis=1)
    return np.where(best > 0, (ranked[:, :k] * discount).sum(axis=1) / np.maximum(best, 1e-12), 0.0)


def _rmse(prediction: np.ndarray, truth: np.ndarray) -> float:
    return float(np.sqrt(np.mean((prediction - truth) ** 2)))


def _shares(values: np.ndarray, levels: np.ndarray) -> dict[str, float]:
    return {f"{level:g}": float(np.mean(np.isclose(values, level))) for level in levels}


def _awareness_pairs(
    world: TabularSimulator, data: RatingData, users: np.ndarray, items: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Awareness at the held-out rated pairs, and at as many random pairs that nobody rated."""
    aware = world.awareness(np.arange(data.n_users))
    rated = np.zeros((data.n_users, data.n_items), dtype=bool)
    rated[data.user, data.item] = True
    never = np.flatnonzero(~rated.ravel())
    negative = aware.ravel()[rng.choice(never, size=min(len(users), len(never)), replace=False)]
    return aware[users, items], negative


def _simulated_popularity(
    world: TabularSimulator,
    data: RatingData,
    train: np.ndarray,
    test_users: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Item counts when each user picks as many new items as they really did, by awareness."""
    seen = np.zeros((data.n_users, data.n_items), dtype=bool)
    seen[data.user[train], data.item[train]] = True
    aware = world.awareness(np.arange(data.n_users)).astype(np.float64)
    # Gumbel top-k: sampling without replacement proportionally to awareness, for all users at once.
    keys = np.log(np.maximum(aware, 1e-12)) + rng.gumbel(size=aware.shape)
    keys[seen] = -np.inf
    rank = np.argsort(np.argsort(-keys, axis=1), axis=1)
    wanted = np.bincount(test_users, minlength=data.n_users)
    chosen = rank < wanted[:, None]
    return chosen.sum(axis=0)


def plot_fidelity(arrays: dict[str, np.ndarray], report: dict[str, Any], directory: str | Path) -> list[Path]:
    """Write histogram, calibration, popularity and user-mean PNGs; return their paths."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    title = f"{report['dataset']} — {report['family']} (held-out {report['heldout_ratings']:,} ratings)"
    paths = []

    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    levels = arrays["levels"]
    width = 0.38 * (levels[1] - levels[0] if len(levels) > 1 else 1)
    real = [report["rating_histogram_real"][f"{v:g}"] for v in levels]
    sampled = [report["rating_histogram_sampled"][f"{v:g}"] for v in levels]
    ax.bar(levels - width / 2, real, width, label="real")
    ax.bar(levels + width / 2, sampled, width, label="sampled")
    ax.set(
        xlabel="rating", ylabel="share", title=f"Rating histogram (W1 = {report['rating_wasserstein']:.3f})"
    )
    ax.legend()
    fig.suptitle(title, fontsize=8)
    paths.append(_save(fig, directory / "rating_histogram.png"))

    fig = Figure(figsize=(5, 5))
    ax = fig.subplots()
    edges = np.quantile(arrays["expected"], np.linspace(0, 1, 11))
    bins = np.clip(np.searchsorted(edges, arrays["expected"], side="right") - 1, 0, 9)
    mean_pred = np.array([arrays["expected"][bins == b].mean() for b in range(10)])
    mean_real = np.array([arrays["real"][bins == b].mean() for b in range(10)])
    ax.plot([levels[0], levels[-1]], [levels[0], levels[-1]], color="grey", linestyle="--", label="ideal")
    ax.plot(mean_pred, mean_real, marker="o", label="deciles of expected rating")
    ax.set(
        xlabel="expected rating (simulator)",
        ylabel="mean real held-out rating",
        title=f"Calibration (RMSE {report['heldout_rmse']:.3f})",
    )
    ax.legend()
    fig.suptitle(title, fontsize=8)
    paths.append(_save(fig, directory / "calibration.png"))

    fig = Figure(figsize=(5, 5))
    ax = fig.subplots()
    for label, counts in (("real", arrays["real_counts"]), ("simulated", arrays["simulated_counts"])):
        x = np.sort(counts)
        ax.plot(
            np.linspace(0, 1, len(x) + 1),
            np.concatenate([[0], np.cumsum(x) / max(x.sum(), 1)]),
            label=f"{label} (Gini {gini(counts):.3f})",
        )
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--")
    ax.set(
        xlabel="share of items (least popular first)",
        ylabel="share of ratings",
        title="Item popularity (Lorenz)",
    )
    ax.legend()
    fig.suptitle(title, fontsize=8)
    paths.append(_save(fig, directory / "popularity.png"))

    fig = Figure(figsize=(5, 5))
    ax = fig.subplots()
    ax.scatter(arrays["real_user_mean"], arrays["sim_user_mean"], s=6, alpha=0.5)
    ax.plot([levels[0], levels[-1]], [levels[0], levels[-1]], color="grey", linestyle="--")
    ax.set(
        xlabel="user's mean real held-out rating",
        ylabel="user's mean sampled rating",
        title=f"User means (r = {report['user_mean_correlation']:.3f})",
    )
    fig.suptitle(title, fontsize=8)
    paths.append(_save(fig, directory / "user_means.png"))
    return paths


def _save(fig: Any, path: Path) -> Path:
    tmp = path.with_name(f".{path.name}.tmp")
    fig.savefig(tmp, dpi=110, format="png", bbox_inches="tight")
    tmp.replace(path)
    return path


def format_report(report: dict[str, Any]) -> str:
    """The fidelity report as a short text table."""
    rows = [
        (
            "held-out RMSE (expected rating)",
            f"{report['heldout_rmse']:.4f}",
            f"training mean {report['heldout_rmse_global_mean']:.4f}, "
            f"item mean {report['heldout_rmse_item_mean']:.4f}",
        ),
        ("held-out MAE", f"{report['heldout_mae']:.4f}", ""),
        ("rating Wasserstein-1 (sampled vs real)", f"{report['rating_wasserstein']:.4f}", "rating points"),
        ("awareness AUC (rated vs never rated)", f"{report['awareness_auc']:.4f}", ""),
        (
            "item popularity Gini",
            f"{report['popularity_gini_simulated']:.4f}",
            f"real {report['popularity_gini_real']:.4f}",
        ),
        (
            "user mean rating correlation",
            f"{report['user_mean_correlation']:.4f}",
            f"MAE {report['user_mean_mae']:.4f}",
        ),
        (
            "value of 10 answers (nDCG@10 gain)",
            f"{report['answer_value_simulated']:+.4f}",
            f"real {report['answer_value_real']:+.4f} (95% CI ±{report['answer_value_ci95']:.4f})",
        ),
        ("fit time", f"{report['fit_seconds']:.2f} s", f"params {report['params']}"),
    ]
    width = max(len(r[0]) for r in rows)
    head = (
        f"{report['dataset']} — {report['family']}: fitted on {report['train_ratings']:,} ratings, "
        f"compared with {report['heldout_ratings']:,} held out (seed {report['seed']}, "
        f"user spread {report['user_spread']:g})"
    )
    return "\n".join([head] + [f"  {a:<{width}}  {b:>10}  {c}".rstrip() for a, b, c in rows])
