"""recworld's statistics agree with rliable's (Agarwal et al. 2021) where both define the same thing.

rliable's interval estimates (``rliable.library``) import ``arch``, whose release on the index fails
to import beside pandas 3, so the bootstrap intervals are cross-checked in ``test_statistics.py``
against closed forms instead; the point estimates are checked here against ``rliable.metrics``.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recworld.numerics.statistics import iqm, probability_of_improvement

metrics = pytest.importorskip("rliable.metrics", reason="rliable is in the dev extra")

scores = st.lists(st.floats(-100, 100, allow_nan=False), min_size=4, max_size=60)


@settings(max_examples=60, deadline=None)
@given(scores)
def test_iqm_is_rliables(values):
    x = np.asarray(values)
    assert iqm(x) == pytest.approx(metrics.aggregate_iqm(x[:, None]), rel=1e-9, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(2, 60).flatmap(
        lambda n: st.tuples(*[st.lists(st.integers(0, 5), min_size=n, max_size=n)] * 2)
    )
)
def test_paired_probability_of_improvement_is_rliables_with_one_run_per_user(pair):
    """With one seed, P(X > Y) paired by user is rliable's with each user a task of one run."""
    x, y = (np.asarray(v, dtype=float) for v in pair)
    expected = metrics.probability_of_improvement(x[None, :], y[None, :])
    assert probability_of_improvement([x], [y]) == pytest.approx(expected)
