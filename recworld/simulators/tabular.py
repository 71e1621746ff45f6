"""`TabularSimulator`: a fitted world held as dense per-user tables.

Both fitted families end here: whatever model produced them, a world is a score table
``scores[u, i]`` on the rating scale, a per-user noise scale, ordinal thresholds, and the
awareness model. Dense tables make every answer a lookup, so a batched step costs microseconds
per user, and new synthetic users are just new rows drawn from `UserDensity`.

Ratings follow an ordinal probit: ``r* = score + sigma_u * eps``, ``eps ~ N(0, 1)``, and the rating
is level ``k`` when ``theta[k-1] < r* <= theta[k]``. The thresholds are calibrated so that sampled
ratings reproduce the real rating histogram (`recworld.simulators.ordinal`).

Awareness is a logistic model ``P(knows) = sigmoid(alpha_u + beta_i + gamma * z_ui)`` with ``z`` the
standardised score: active users and popular items are known more, and people tend to know what they
like (`recworld.simulators.awareness`).
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import expit

from recworld.numerics.files import write_atomic
from recworld.simulators.base import Simulator, SimulatorError
from recworld.simulators.ordinal import level_probabilities
from recworld.simulators.population import UserDensity

FORMAT_VERSION = 1


@dataclass(eq=False)
class TabularSimulator(Simulator):
    """A world of users with dense score tables (see the module docstring).

    Attributes:
        family: the name of the family that fitted the scores (``"latent-factor"``, ``"item-knn"``).
        scores: float32 ``(n_users, n_items)`` latent preference on the rating scale.
        noise: float32 ``(n_users,)`` per-user standard deviation of the ordinal noise.
        thresholds: ``(L - 1,)`` increasing cut points between rating levels.
        rating_levels: ``(L,)`` the rating values (1..5 for MovieLens).
        aware_user, aware_item: logistic awareness offsets per user and per item.
        aware_preference: weight of the standardised score in awareness.
        score_center, score_scale: the standardisation of scores used by awareness.
        density: the fitted density over user parameters, for synthetic users (None: none fitted).
        n_real_users: users ``0..n_real_users-1`` are the dataset's users, later ones synthetic.
        meta: JSON-able facts about the fit (dataset, checksum, hyper-parameters, timings).
    """

    family: str
    scores: np.ndarray
    noise: np.ndarray
    thresholds: np.ndarray
    rating_levels: np.ndarray
    aware_user: np.ndarray
    aware_item: np.ndarray
    aware_preference: float
    score_center: float
    score_scale: float
    density: UserDensity | None = None
    n_real_users: int = -1
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.scores = np.ascontiguousarray(self.scores, dtype=np.float32)
        self.noise = np.asarray(self.noise, dtype=np.float32)
        self.thresholds = np.asarray(self.thresholds, dtype=np.float32)
        self.rating_levels = np.asarray(self.rating_levels, dtype=np.float32)
        self.aware_user = np.asarray(self.aware_user, dtype=np.float32)
        self.aware_item = np.asarray(self.aware_item, dtype=np.float32)
        n_users, n_items = self.scores.shape
        if self.noise.shape != (n_users,) or self.aware_user.shape != (n_users,):
            raise SimulatorError(f"noise and aware_user need shape ({n_users},)")
        if self.aware_item.shape != (n_items,):
            raise SimulatorError(f"aware_item needs shape ({n_items},)")
        if self.thresholds.shape != (len(self.rating_levels) - 1,) or np.any(np.diff(self.thresholds) <= 0):
            raise SimulatorError("thresholds must be L-1 increasing cut points for L rating levels")
        if self.n_real_users < 0:
            self.n_real_users = n_users

    @property
    def n_users(self) -> int:  # type: ignore[override]
        return int(self.scores.shape[0])

    @property
    def n_items(self) -> int:  # type: ignore[override]
        return int(self.scores.shape[1])

    # ------------------------------------------------------------------ the protocol
    def score(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        users, items = self.check(users, items)
        if items is None:
            return self.scores[users[:, 0]]
        return self.scores[users, items]

    def rating_probabilities(self, users: np.ndarray, scores: np.ndarray) -> np.ndarray:
        users = np.asarray(users)
        sigma = self.noise[users].reshape(users.shape + (1,) * (scores.ndim - users.ndim))
        return level_probabilities(scores, sigma, self.thresholds)

    def awareness(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        users, items = self.check(users, items)
        item_offset = self.aware_item if items is None else self.aware_item[items]
        scores = self.score(users.reshape(-1) if users.ndim == 2 else users, items)
        z = (scores - self.score_center) / self.score_scale
        logit = self.aware_user[users] + item_offset + self.aware_preference * z
        return expit(logit).astype(np.float32)

    # ------------------------------------------------------------------ users
    def real_users(self) -> np.ndarray:
        """Indices of the dataset's own users."""
        return np.arange(self.n_real_users)

    def with_synthetic_users(
        self, n: int, rng: np.random.Generator, user_features: np.ndarray | None = None
    ) -> tuple[TabularSimulator, np.ndarray, np.ndarray]:
        """A copy of this world with ``n`` new users drawn from the fitted density.

        ``user_features`` (``(n, d)``, encoded as `RatingData.user_features`) conditions the draw
        on demographics; without it demographics are resampled from the real users. Returns the
        new simulator, the indices of the new users and their demographic features.
        """
        if self.density is None:
            raise SimulatorError(
                "this simulator has no fitted user density; refit it to draw synthetic users"
            )
        if n < 1:
            raise SimulatorError(f"n must be at least 1, got {n}")
        scores, noise, aware_user, features = self.density.sample(n, rng, user_features)
        world = TabularSimulator(
            family=self.family,
            scores=np.concatenate([self.scores, scores]),
            noise=np.concatenate([self.noise, noise]),
            thresholds=self.thresholds,
            rating_levels=self.rating_levels,
            aware_user=np.concatenate([self.aware_user, aware_user]),
            aware_item=self.aware_item,
            aware_preference=self.aware_preference,
            score_center=self.score_center,
            score_scale=self.score_scale,
            density=self.density,
            n_real_users=self.n_real_users,
            meta=dict(self.meta),
        )
        return world, np.arange(self.n_users, self.n_users + n), features

    # ------------------------------------------------------------------ save / load
    _ARRAYS = ("scores", "noise", "thresholds", "rating_levels", "aware_user", "aware_item")

    def save(self, directory: str | Path) -> Path:
        """Write ``world.npz`` (arrays) and ``world.json`` (the rest) into ``directory``, atomically."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        arrays = {name: getattr(self, name) for name in self._ARRAYS}
        if self.density is not None:
            arrays.update({f"density.{k}": v for k, v in self.density.arrays().items()})
        config = {
            "format_version": FORMAT_VERSION,
            "family": self.family,
            "aware_preference": self.aware_preference,
            "score_center": self.score_center,
            "score_scale": self.score_scale,
            "n_real_users": self.n_real_users,
            "like_threshold": self.like_threshold,
            "meta": self.meta,
        }
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        write_atomic(directory / "world.npz", buffer.getvalue())
        write_atomic(directory / "world.json", json.dumps(config, indent=2).encode())
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> TabularSimulator:
        """Read a world written by `save` (no pickle is ever loaded)."""
        directory = Path(directory)
        try:
            config = json.loads((directory / "world.json").read_text())
            with np.load(directory / "world.npz", allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
        except FileNotFoundError as err:
            raise SimulatorError(
                f"{err.filename}: not found — save a simulator there with `TabularSimulator.save` "
                "or `recworld sim fit`"
            ) from None
        except (ValueError, OSError) as err:
            raise SimulatorError(
                f"{directory}: unreadable simulator files ({err}) — fit and save it again"
            ) from None
        if config.get("format_version") != FORMAT_VERSION:
            raise SimulatorError(
                f"{directory / 'world.json'}: format_version {config.get('format_version')!r}, this recworld "
                f"reads {FORMAT_VERSION} — fit and save the simulator again"
            )
        missing = [name for name in cls._ARRAYS if name not in arrays]
        if missing:
            raise SimulatorError(
                f"{directory / 'world.npz'}: lacks {', '.join(missing)} — fit and save it again"
            )
        density_arrays = {k.split(".", 1)[1]: v for k, v in arrays.items() if k.startswith("density.")}
        world = cls(
            family=config["family"],
            **{name: arrays[name] for name in cls._ARRAYS},
            aware_preference=float(config["aware_preference"]),
            score_center=float(config["score_center"]),
            score_scale=float(config["score_scale"]),
            density=UserDensity.from_arrays(density_arrays) if density_arrays else None,
            n_real_users=int(config["n_real_users"]),
            meta=config.get("meta", {}),
        )
        world.like_threshold = float(config.get("like_threshold", 4.0))
        return world
