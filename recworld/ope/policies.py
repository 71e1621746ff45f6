"""The Open Bandit Dataset's two logging policies as evaluation policies (``action_dist``)."""

from __future__ import annotations

import numpy as np


def uniform_action_dist(n_rounds: int, n_items: int, n_positions: int) -> np.ndarray:
    """The uniform-random policy: every item at every position with probability ``1 / n_items``."""
    return np.full((n_rounds, n_items, n_positions), 1.0 / n_items)


def bernoulli_ts_action_dist(
    alpha: np.ndarray,
    beta: np.ndarray,
    n_rounds: int,
    n_positions: int,
    *,
    n_sim: int = 100_000,
    rng: np.random.Generator | None = None,
    chunk: int = 10_000,
) -> np.ndarray:
    """Bernoulli Thompson sampling with a Beta(``alpha``, ``beta``) prior per item, as ZOZOTOWN ran it:
    each round draws one sample per item and shows the ``n_positions`` largest, best first. Its
    probability of each item at each position, by ``n_sim`` Monte Carlo rounds (as obp's
    ``BernoulliTS.compute_batch_action_dist``), the same for every round (the policy ignores the
    context): ``(n_rounds, n_items, n_positions)``."""
    rng = np.random.default_rng(0) if rng is None else rng
    alpha, beta = np.asarray(alpha, dtype=np.float64), np.asarray(beta, dtype=np.float64)
    n_items = len(alpha)
    counts = np.zeros((n_items, n_positions))
    done = 0
    while done < n_sim:
        size = min(chunk, n_sim - done)
        draws = rng.beta(alpha, beta, size=(size, n_items))
        top = np.argsort(-draws, axis=1)[:, :n_positions]
        for k in range(n_positions):  # positions, not rounds or items
            counts[:, k] += np.bincount(top[:, k], minlength=n_items)
        done += size
    return np.broadcast_to(counts / n_sim, (n_rounds, n_items, n_positions))
