"""Counter-based draws: pure functions of (seed, stream, step, draw), the same from numba and numpy."""

import numpy as np
from scipy import stats

from recworld.numerics.counter import RESET_STEP, seed_words, stream_keys, uniforms, uniforms_numpy


def keys_for(seeds, streams):
    return stream_keys(seed_words(seeds), np.asarray(streams, dtype=np.uint64))


def test_compiled_and_numpy_draws_are_the_same_bits():
    keys = keys_for([0, 1, 2**64 + 1, 12345], [0, 7, 0, 2**40])
    steps = np.array([0, 99, RESET_STEP, 3])
    np.testing.assert_array_equal(uniforms(keys, steps, 6), uniforms_numpy(keys, steps, 6))


def test_a_draw_depends_on_every_coordinate_and_only_on_them():
    base = uniforms(keys_for([5], [2]), np.array([3]), 4)[0]
    np.testing.assert_array_equal(base, uniforms(keys_for([5], [2]), np.array([3]), 4)[0])  # pure
    assert not np.array_equal(base, uniforms(keys_for([6], [2]), np.array([3]), 4)[0])  # seed
    assert not np.array_equal(base, uniforms(keys_for([5], [3]), np.array([3]), 4)[0])  # stream
    assert not np.array_equal(base, uniforms(keys_for([5], [2]), np.array([4]), 4)[0])  # step
    assert len(set(base.tolist())) == 4  # draw
    # seeds are taken modulo 2**64
    np.testing.assert_array_equal(keys_for([2**64 + 5], [2]), keys_for([5], [2]))


def test_draws_are_uniform_and_neighbouring_seeds_are_independent():
    n = 50_000
    keys = keys_for(np.arange(n), np.zeros(n))
    draws = uniforms(keys, np.zeros(n, dtype=np.int64), 4)
    assert draws.min() >= 0.0 and draws.max() < 1.0
    assert stats.kstest(draws.ravel(), "uniform").pvalue > 1e-3
    # consecutive seeds (a vector environment's sub-environments) and consecutive draws are uncorrelated
    assert abs(np.corrcoef(draws[:-1, 0], draws[1:, 0])[0, 1]) < 0.02
    assert abs(np.corrcoef(draws[:, 0], draws[:, 1])[0, 1]) < 0.02
