"""`UserDensity`: a density over user parameters, to draw new plausible users.

Each fitted user is a vector: the coordinates of their score row in the top principal components
of all users' score rows, the log of their noise scale, and their awareness offset. The density is
Gaussian, with a mean that is linear (ridge) in the user's encoded demographics, so a new user can
be drawn for given demographics ("a 25-year-old female student") or with demographics resampled
from the real users. The same density serves every family, because every family ends in a score
table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg


@dataclass(frozen=True)
class UserDensity:
    """Gaussian over (score PCA coordinates, log noise, awareness offset), linear in demographics."""

    score_mean: np.ndarray  # (n_items,)
    components: np.ndarray  # (k, n_items), orthonormal rows
    weights: np.ndarray  # (1 + n_features, k + 2): intercept and demographic effects
    chol: np.ndarray  # (k + 2, k + 2): Cholesky factor of the residual covariance
    feature_pool: np.ndarray  # (n_real_users, n_features): demographics to resample

    @classmethod
    def fit(
        cls,
        scores: np.ndarray,
        noise: np.ndarray,
        aware_user: np.ndarray,
        user_features: np.ndarray,
        *,
        n_components: int = 32,
        ridge: float = 1.0,
    ) -> UserDensity:
        n_users, n_items = scores.shape
        k = int(min(n_components, n_users - 1, n_items))
        mean = scores.mean(axis=0)
        centered = (scores - mean).astype(np.float64)
        components = _top_components(centered, k)
        vectors = np.column_stack([centered @ components.T, np.log(noise), aware_user])
        design = np.column_stack([np.ones(n_users), user_features])
        penalty = ridge * np.eye(design.shape[1])
        penalty[0, 0] = 0.0  # the intercept is not shrunk
        weights = np.linalg.solve(design.T @ design + penalty, design.T @ vectors)
        residual = vectors - design @ weights
        cov = residual.T @ residual / max(n_users - design.shape[1], 1)
        chol = np.linalg.cholesky(cov + 1e-6 * np.eye(cov.shape[0]))
        return cls(
            score_mean=mean.astype(np.float32),
            components=components.astype(np.float32),
            weights=weights,
            chol=chol,
            feature_pool=np.asarray(user_features, dtype=np.float32),
        )

    def sample(
        self, n: int, rng: np.random.Generator, user_features: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``n`` new users: score rows ``(n, n_items)``, noise ``(n,)``, awareness offsets ``(n,)`` and
        the demographic features they were drawn for ``(n, d)``."""
        n_features = self.weights.shape[0] - 1
        if user_features is None:
            if n_features and len(self.feature_pool):
                user_features = self.feature_pool[rng.integers(len(self.feature_pool), size=n)]
            else:
                user_features = np.zeros((n, n_features))
        user_features = np.asarray(user_features, dtype=np.float64)
        if user_features.shape != (n, n_features):
            raise ValueError(f"user_features must have shape ({n}, {n_features}), got {user_features.shape}")
        mean = np.column_stack([np.ones(n), user_features]) @ self.weights
        vectors = mean + rng.standard_normal(mean.shape) @ self.chol.T
        k = self.components.shape[0]
        scores = self.score_mean + vectors[:, :k] @ self.components
        return (
            scores.astype(np.float32),
            np.exp(vectors[:, k]).astype(np.float32),
            vectors[:, k + 1].astype(np.float32),
            user_features.astype(np.float32),
        )

    def arrays(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> UserDensity:
        return cls(**{name: arrays[name] for name in cls.__dataclass_fields__})


def _top_components(centered: np.ndarray, k: int) -> np.ndarray:
    """The top ``k`` right singular vectors, from the top eigenvectors of the smaller Gram matrix
    (an order of magnitude faster than a full SVD for these shapes)."""
    n_rows, n_cols = centered.shape
    small = min(n_rows, n_cols)
    gram = centered @ centered.T if n_rows < n_cols else centered.T @ centered
    _, vectors = scipy.linalg.eigh(gram, subset_by_index=[small - k, small - 1])
    vectors = vectors[:, ::-1]  # largest first
    if n_rows >= n_cols:
        return vectors.T
    right = centered.T @ vectors  # columns: v_j * s_j
    right /= np.maximum(np.linalg.norm(right, axis=0), 1e-12)
    return right.T
