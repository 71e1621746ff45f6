"""Simulator families and `fit_simulator`: from real ratings to a `TabularSimulator`.

A family is a way to predict every user's score for every item from the ratings they gave. Fitting
a world is the same for every family:

1. hold out 10% of the ratings (seeded) and pick the family's hyper-parameters on them;
2. calibrate (the default): the chosen model, fitted on the other 90%, is rescaled — item effects,
   user effects, user-by-item interaction and the per-user noise — until ratings sampled from it
   reproduce the real ladder of baselines (`recworld.simulators.calibration`); the ordinal thresholds
   reproduce the real histogram at the held-out pairs, where the world saw no rating;
3. uncalibrated (``calibrated=False``): refit on all ratings, per-user noise from the residuals
   inflated by the held-out/training error ratio, thresholds on all pairs (`ordinal`);
4. the awareness model (`awareness`) and the density over users for synthetic users (`population`).

``user_spread = c > 0`` (uncalibrated worlds only) adds one draw from each user's latent-factor
posterior, scaled by ``sqrt(c)``, and lowers the per-rating noise by the variance it adds at the
user's rated items. It was the first attempt at giving users their own taste back; the calibrated
world is the default because it reproduces the ladder without widening variance where the model
saw no structure.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from recworld.data import RatingData
from recworld.numerics.factorization import fit_als
from recworld.simulators.awareness import fit_awareness
from recworld.simulators.base import SimulatorError
from recworld.simulators.calibration import Decomposition, calibrate
from recworld.simulators.item_knn import fit_item_knn
from recworld.simulators.ladder import Split
from recworld.simulators.ordinal import MIN_NOISE, calibrate_thresholds, fit_noise
from recworld.simulators.population import UserDensity
from recworld.simulators.tabular import TabularSimulator

#: Bump when a change to fitting changes the worlds it produces: cached worlds carry it in their name.
FIT_VERSION = 3


class ScoreModel(Protocol):
    def predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray: ...

    def table(self) -> np.ndarray: ...


@dataclass(frozen=True)
class Family:
    """A named way to fit scores, with the grid its hyper-parameters are chosen from."""

    name: str
    description: str
    grid: Sequence[dict[str, Any]]
    fit: Callable[..., ScoreModel]


FAMILIES: dict[str, Family] = {
    family.name: family
    for family in (
        Family(
            "latent-factor",
            "biased matrix factorisation by alternating least squares "
            "(rank and penalty chosen on held-out ratings)",
            [{"rank": r, "reg": g} for r in (5, 10, 20) for g in (0.08, 0.12, 0.16)],
            fit_als,
        ),
        Family(
            "item-knn",
            "item-based k-nearest neighbours with baselines, shrunk Pearson-baseline similarity (k chosen on "
            "held-out ratings)",
            [{"k": k, "shrinkage": 100.0} for k in (20, 40, 80)],
            fit_item_knn,
        ),
    )
}


def family(name: str) -> Family:
    if name not in FAMILIES:
        raise SimulatorError(f"unknown simulator family {name!r}; known: {', '.join(FAMILIES)}")
    return FAMILIES[name]


def _rmse(
    model: ScoreModel, users: np.ndarray, items: np.ndarray, ratings: np.ndarray, scale: tuple[float, float]
) -> float:
    return float(np.sqrt(np.mean((np.clip(model.predict(users, items), *scale) - ratings) ** 2)))


def fit_simulator(
    data: RatingData,
    family_name: str = "latent-factor",
    *,
    seed: int = 0,
    validation_fraction: float = 0.1,
    grid: Sequence[dict[str, Any]] | None = None,
    n_components: int = 32,
    user_spread: float = 0.0,
    calibrated: bool = True,
) -> TabularSimulator:
    """Fit a simulated world to ``data`` (see the module docstring for the steps).

    ``grid`` overrides the family's hyper-parameter grid (a list of keyword dicts; one entry skips
    the search). ``calibrated`` (default) scales the personal part and the noise so that the world
    reproduces the real ladder of baselines (`recworld.simulators.calibration`); ``False`` gives the
    uncalibrated world (the table as fitted, noise inflated by the held-out/training error ratio).
    ``user_spread`` scales a posterior draw added to each user's truth instead (0: none; an
    uncalibrated world). The fit is deterministic for a given seed.
    """
    spec = family(family_name)
    if data.n_ratings < 20:
        raise SimulatorError(f"{data.name} has {data.n_ratings} ratings; a simulator needs at least 20")
    if not 0 < validation_fraction < 0.5:
        raise SimulatorError(f"validation_fraction must be in (0, 0.5), got {validation_fraction}")
    if len(np.unique(data.rating)) > 10:
        raise SimulatorError(
            f"{data.name} has {len(np.unique(data.rating))} distinct rating values; the ordinal simulator "
            "needs a discrete scale of at most 10 levels (round the ratings first)"
        )
    if not (np.isfinite(user_spread) and user_spread >= 0):
        raise SimulatorError(f"user_spread must be a finite number >= 0, got {user_spread}")
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    u, i, r = data.user.astype(np.int64), data.item.astype(np.int64), data.rating.astype(np.float64)
    shuffled = rng.permutation(data.n_ratings)
    n_val = max(1, int(validation_fraction * data.n_ratings))
    val, train = shuffled[:n_val], shuffled[n_val:]

    def fit(rows: np.ndarray, params: dict[str, Any]) -> ScoreModel:
        return spec.fit(
            u[rows], i[rows], r[rows], data.n_users, data.n_items, rng=np.random.default_rng(seed), **params
        )

    candidates = list(grid if grid is not None else spec.grid)
    if not candidates:
        raise SimulatorError("the hyper-parameter grid is empty")
    search = []
    for params in candidates:
        model = fit(train, params)
        search.append((_rmse(model, u[val], i[val], r[val], data.rating_scale), params, model))
    val_rmse, best, model = min(search, key=lambda row: row[0])
    train_rmse = _rmse(model, u[train], i[train], r[train], data.rating_scale)
    inflation = (val_rmse / train_rmse) ** 2
    levels = np.unique(data.rating)
    step = float(np.min(np.diff(levels))) if len(levels) > 1 else 1.0
    calibration = None
    if calibrated and not user_spread:
        # The world is the chosen model fitted on the training part, so the ratings it never saw
        # (the validation part) show how it behaves where agents mostly act: on unrated films.
        table = model.table()
        decomposition = Decomposition.of(table)
        residuals = r[train] - table[u[train], i[train]]
        base = fit_noise(residuals, u[train], data.n_users, inflation=inflation, step=step)
        split = Split(u, i, train, val, data.n_users, data.n_items, data.rating_scale)
        calibration = calibrate(decomposition, base, split, r, levels, seed=seed)
        scores = decomposition.scores(calibration.item_scale, calibration.user_scale, calibration.taste_scale)
        noise = np.maximum(calibration.noise_scale * base, MIN_NOISE).astype(np.float32)
    else:
        model = fit(np.arange(data.n_ratings), best)
        scores = model.table()
        noise = fit_noise(r - scores[u, i], u, data.n_users, inflation=inflation, step=step)
    if user_spread > 0:
        if not hasattr(model, "posterior_draw"):
            raise SimulatorError(
                f"the {spec.name} family has no posterior over users, so user_spread must be 0; "
                "use the latent-factor family for a spread"
            )
        deviation, variance = model.posterior_draw(u, i, noise, np.random.default_rng([seed, 1]))
        scores = scores + np.float32(np.sqrt(user_spread)) * deviation
        noise = np.sqrt(np.maximum(noise.astype(np.float64) ** 2 - user_spread * variance, MIN_NOISE**2))
        noise = noise.astype(np.float32)
    # A calibrated world reproduces the histogram where it saw no rating (where agents act).
    at = val if calibration is not None else np.arange(data.n_ratings)
    thresholds = calibrate_thresholds(scores[u[at], i[at]], noise[u[at]], r[at], levels)
    awareness = fit_awareness(u, i, scores)
    features, _ = data.user_features()
    density = UserDensity.fit(scores, noise, awareness.user, features, n_components=n_components)
    return TabularSimulator(
        family=spec.name,
        scores=scores,
        noise=noise,
        thresholds=thresholds,
        rating_levels=levels,
        aware_user=awareness.user,
        aware_item=awareness.item,
        aware_preference=awareness.preference,
        score_center=awareness.center,
        score_scale=awareness.scale,
        density=density,
        meta={
            "dataset": data.name,
            "checksum": data.checksum(),
            "seed": seed,
            "params": best,
            "user_spread": user_spread,
            "calibration": None if calibration is None else calibration.to_dict(),
            "validation_rmse": val_rmse,
            "train_rmse": train_rmse,
            "search": [{"params": p, "validation_rmse": v} for v, p, _ in search],
            "fit_seconds": time.perf_counter() - started,
        },
    )
