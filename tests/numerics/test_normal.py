"""The table-based normal CDF of the compiled steps against scipy's."""

import numpy as np
from numba import njit
from scipy.special import ndtr

from recworld.numerics.normal import MAX_ERROR, normal_cdf


@njit(cache=False)
def _cdf_of(values):
    out = np.empty_like(values)
    for i in range(len(values)):
        out[i] = normal_cdf(values[i])
    return out


def test_within_its_stated_error_everywhere_and_monotone():
    z = np.concatenate([np.linspace(-12.0, 12.0, 2_000_001), [-np.inf, np.inf, -8.5, 8.5, 0.0]])
    cdf = _cdf_of(z)
    assert np.abs(cdf - ndtr(z)).max() <= MAX_ERROR
    ordered = np.argsort(z, kind="stable")
    assert (np.diff(cdf[ordered]) >= 0).all()
    assert cdf[-5] == 0.0 and cdf[-4] == 1.0


def test_symmetric_and_nan_in_nan_out():
    z = np.random.default_rng(0).normal(0.0, 3.0, 100_000)
    np.testing.assert_allclose(_cdf_of(z) + _cdf_of(-z), 1.0, atol=2 * MAX_ERROR)
    assert np.isnan(_cdf_of(np.array([np.nan]))[0])
