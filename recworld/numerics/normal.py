"""The standard normal CDF for compiled code, from a table: `normal_cdf`.

libm's ``erfc`` is the costliest call in an environment step (an ordinal answer needs one per cut
point). Here the CDF is a cubic Hermite interpolation of its values and slopes on a grid of step
1/16 over [-8.5, 8.5] (0 and 1 beyond): an absolute error within `MAX_ERROR` of the exact CDF
everywhere (not a relative one: far in the tails, below 1e-7, the relative error grows, and beyond
-8.5 the CDF is 0), and several times faster than ``erfc``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from scipy.special import ndtr

STEP = 1.0 / 16.0
LIMIT = 8.5
_GRID = np.arange(-LIMIT, LIMIT + STEP / 2, STEP)
#: the CDF at the grid points, and its slope (the density) times the step
VALUES = ndtr(_GRID)
SLOPES = np.exp(-0.5 * _GRID**2) / math.sqrt(2.0 * math.pi) * STEP
LAST = len(_GRID) - 1
#: the largest absolute error of `normal_cdf` (tested on a dense grid)
MAX_ERROR = 5e-8


@njit(cache=True, inline="always")
def normal_cdf(z: float) -> float:
    """``P(Z <= z)`` for a standard normal ``Z``, within `MAX_ERROR`. Without branches: the table's
    index is clamped into it and the ends (0 and 1, NaN for a NaN) selected after, so that a loop of
    CDFs over an array vectorises (the table's reads become gathers)."""
    u = (z + LIMIT) * (1.0 / STEP)
    # the table's index: int(u) wherever u is inside the table, clamped into it elsewhere (a NaN
    # fails every comparison, so it lands on 0, not on the integer a NaN converts to)
    inside = u if u > 0.0 else 0.0
    i = int(inside if inside < LAST - 1.0 else LAST - 1.0)
    s = u - i
    f0, f1, d0, d1 = VALUES[i], VALUES[i + 1], SLOPES[i], SLOPES[i + 1]
    a = f1 - f0
    # Hermite form: f0 + s * (d0 + s * ((3a - 2 d0 - d1) + s * (d0 + d1 - 2a)))
    value = f0 + s * (d0 + s * ((3.0 * a - 2.0 * d0 - d1) + s * (d0 + d1 - 2.0 * a)))
    value = 1.0 if u >= LAST else value
    value = 0.0 if u <= 0.0 else value
    return math.nan if u != u else value
