"""Counter-based random numbers: every draw is a pure function of ``(seed, stream, step, draw)``.

A draw is splitmix64 (Steele, Lea and Flood 2014) used as a hash, nested once per coordinate:
``key = mix(mix(seed) ^ stream)`` names an episode's stream, and draw ``d`` of step ``t`` is
``mix(mix(key + (t + 1) * G) + (d + 1) * G)`` with ``G`` the golden-ratio increment, its top 53
bits read as a float64 in [0, 1). Nothing is carried from one draw to the next, so a batch of users
needs no generator objects (sub-environment ``i`` of a vector environment seeded ``s`` draws exactly
what the single environment seeded ``s + i`` draws), any step can be recomputed, and the same
streams come out of numba, numpy and torch (`recworld.envs.torch_backend`) bit for bit.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
MIX_2 = np.uint64(0x94D049BB133111EB)
MASK_64 = (1 << 64) - 1
#: the ``step`` of the draws made when an episode starts (which user arrives): no step reaches it
RESET_STEP = 1 << 40
TO_UNIT = 2.0**-53


@njit(cache=True, inline="always")
def mix(z: Any) -> Any:
    """splitmix64's finaliser: a bijection of 64-bit words whose output bits all depend on all input bits."""
    z = (z ^ (z >> np.uint64(30))) * MIX_1
    z = (z ^ (z >> np.uint64(27))) * MIX_2
    return z ^ (z >> np.uint64(31))


@njit(cache=True, inline="always")
def step_key(key: Any, step: int) -> Any:
    """The key of step ``step`` in the stream ``key``, which every draw of that step starts from: a
    step that makes several draws computes it once."""
    return mix(key + np.uint64(step + 1) * GOLDEN)


@njit(cache=True, inline="always")
def step_uniform(key_of_step: Any, draw: int) -> float:
    """Draw ``draw`` of the step whose key is ``key_of_step`` (`step_key`): a float64 in [0, 1)."""
    return float(mix(key_of_step + np.uint64(draw + 1) * GOLDEN) >> np.uint64(11)) * TO_UNIT


@njit(cache=True, inline="always")
def uniform(key: Any, step: int, draw: int) -> float:
    """Draw ``draw`` of step ``step`` in the stream ``key``: a float64 in [0, 1)."""
    return step_uniform(step_key(key, step), draw)


@njit(cache=True)
def stream_keys(seeds: np.ndarray, streams: np.ndarray) -> np.ndarray:
    """The key of each (seed, stream) pair, ``uint64``; seeds are taken modulo 2**64."""
    out = np.empty(len(seeds), dtype=np.uint64)
    for i in range(len(seeds)):
        out[i] = mix(mix(seeds[i] + GOLDEN) ^ streams[i])
    return out


@njit(cache=True)
def uniforms(keys: np.ndarray, steps: np.ndarray, n_draws: int) -> np.ndarray:
    """Draws ``0..n_draws-1`` of step ``steps[b]`` in stream ``keys[b]``, ``(B, n_draws)`` float64."""
    out = np.empty((len(keys), n_draws))
    for b in range(len(keys)):
        for d in range(n_draws):
            out[b, d] = uniform(keys[b], steps[b], d)
    return out


def seed_words(seeds: list[int] | list[int | None] | np.ndarray) -> np.ndarray:
    """Python integers (any size, non-negative) as the ``uint64`` words `stream_keys` takes."""
    words = [int(s) & MASK_64 for s in np.asarray(seeds, dtype=object).reshape(-1)]
    return np.array(words, dtype=np.uint64)


def uniforms_numpy(keys: np.ndarray, steps: np.ndarray, n_draws: int) -> np.ndarray:
    """`uniforms` in plain numpy (the reference the compiled and torch versions are tested against)."""

    def mix_np(z: np.ndarray) -> np.ndarray:
        z = (z ^ (z >> np.uint64(30))) * MIX_1
        z = (z ^ (z >> np.uint64(27))) * MIX_2
        return z ^ (z >> np.uint64(31))

    with np.errstate(over="ignore"):
        step_word = (np.asarray(steps, dtype=np.int64) + 1).astype(np.uint64)
        inner = mix_np(np.asarray(keys, dtype=np.uint64) + step_word * GOLDEN)
        draw_word = np.arange(1, n_draws + 1, dtype=np.uint64)
        words = mix_np(inner[:, None] + draw_word[None, :] * GOLDEN)
    return (words >> np.uint64(11)).astype(np.float64) * TO_UNIT
