"""The ladder of baselines: how much of a rating a user's own taste explains, real vs world.

A world can match the rating histogram and the RMSE of its mean and still hold too little (or too
much) personal signal, which is what personalised agents live on. The ladder measures that signal
the way the field measures recommenders: fit a ladder of ever more personal predictors on training
ratings and score them on held-out ones —

* ``global_mean``: one number;
* ``item_bias``: each item's shrunk mean (popularity, nothing personal);
* ``user_item_bias``: plus each user's bias (ALS with rank 0);
* ``mf``: biased matrix factorisation at a fixed rank (`LADDER_RANK`);
* ``item_knn``: item-kNN with baselines (a different inductive bias).

The same ladder is fitted twice: on the real ratings, and on ratings sampled from the world at
exactly the same (user, item) pairs. A faithful world reproduces every rung's RMSE, the gain of MF
over the biases and the per-user nDCG@10 gain of MF over item bias. `fit_simulator` calibrates the
world's free parameters on it; the fidelity report (`recworld.simulators.fidelity`) prints it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from recworld.numerics.factorization import fit_als, item_means
from recworld.numerics.metrics import exp_gain, ndcg_at_k, rmse
from recworld.simulators.item_knn import fit_item_knn

RUNGS = ("global_mean", "item_bias", "user_item_bias", "mf", "item_knn")
LADDER_RANK, LADDER_REG, NDCG_K, MIN_HELD_OUT = 20, 0.1, 10, 5


@dataclass(frozen=True)
class Ladder:
    """Held-out RMSE per rung, and each user's nDCG@10 gain of ``mf`` over ``item_bias``."""

    rmse: dict[str, float]
    ndcg_gain: np.ndarray

    @property
    def mf_gain(self) -> float:
        """RMSE of the user+item biases minus that of MF: what latent factors add."""
        return self.rmse["user_item_bias"] - self.rmse["mf"]


@dataclass(frozen=True)
class Split:
    """Rating pairs split into training and held-out rows, with the held-out rows grouped by user."""

    users: np.ndarray
    items: np.ndarray
    train: np.ndarray
    test: np.ndarray
    n_users: int
    n_items: int
    scale: tuple[float, float]

    def padded_test(self) -> tuple[np.ndarray, np.ndarray]:
        """Held-out rows grouped by user: ``(n_ranked_users, m)`` row indices and mask, for users with at
        least `MIN_HELD_OUT` held-out ratings."""
        rows = self.test[np.argsort(self.users[self.test], kind="stable")]
        owner = self.users[rows]
        counts = np.bincount(owner, minlength=self.n_users)
        position = np.arange(len(rows)) - np.repeat(np.cumsum(counts) - counts, counts)
        ranked = np.flatnonzero(counts >= MIN_HELD_OUT)
        slot = np.full(self.n_users, -1)
        slot[ranked] = np.arange(len(ranked))
        keep = slot[owner] >= 0
        index = np.zeros((len(ranked), int(counts.max(initial=0))), dtype=np.int64)
        mask = np.zeros(index.shape, dtype=bool)
        index[slot[owner[keep]], position[keep]] = rows[keep]
        mask[slot[owner[keep]], position[keep]] = True
        return index, mask


def fit_ladder(split: Split, ratings: np.ndarray, *, rungs: Sequence[str] = RUNGS, seed: int = 0) -> Ladder:
    """Fit every rung on ``ratings[split.train]`` and score it on ``ratings[split.test]``."""
    unknown = sorted(set(rungs) - set(RUNGS))
    if unknown:
        raise ValueError(f"unknown ladder rung(s) {', '.join(unknown)}; known: {', '.join(RUNGS)}")
    u, i, r = split.users, split.items, np.asarray(ratings, dtype=np.float64)
    tr, te = split.train, split.test
    n_users, n_items = split.n_users, split.n_items
    predictions: dict[str, np.ndarray] = {}
    mean = float(r[tr].mean())
    item_mean = item_means(i[tr], r[tr], n_items)
    for rung in rungs:
        if rung == "global_mean":
            predictions[rung] = np.full(len(te), mean)
        elif rung == "item_bias":
            predictions[rung] = item_mean[i[te]]
        elif rung == "user_item_bias":
            model = fit_als(u[tr], i[tr], r[tr], n_users, n_items, rank=0, reg=LADDER_REG, n_iter=5,
                            rng=np.random.default_rng(seed))  # fmt: skip
            predictions[rung] = model.predict(u[te], i[te])
        elif rung == "mf":
            model = fit_als(u[tr], i[tr], r[tr], n_users, n_items, rank=LADDER_RANK, reg=LADDER_REG,
                            n_iter=10, rng=np.random.default_rng(seed))  # fmt: skip
            predictions[rung] = model.predict(u[te], i[te])
        else:
            knn = fit_item_knn(u[tr], i[tr], r[tr], n_users, n_items, k=40, rng=np.random.default_rng(seed))
            predictions[rung] = knn.predict(u[te], i[te])
    errors = {rung: rmse(np.clip(p, *split.scale), r[te]) for rung, p in predictions.items()}
    gain = np.zeros(0)
    if "mf" in predictions and "item_bias" in predictions:
        index, mask = split.padded_test()
        position = np.zeros(len(r), dtype=np.int64)
        position[te] = np.arange(len(te))
        relevance = exp_gain(r[index], split.scale[0])
        mf, item = predictions["mf"][position[index]], predictions["item_bias"][position[index]]
        gain = ndcg_at_k(mf, relevance, mask, NDCG_K) - ndcg_at_k(item, relevance, mask, NDCG_K)
    return Ladder(errors, gain)
