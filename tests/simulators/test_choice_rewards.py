import numpy as np
import pytest

from recworld.simulators.choice import Cascade, MultinomialLogit, PositionBased, sample_clicks

RATING = np.array([[4.8, 3.0, 2.0], [2.0, 2.0, 2.0]])
LIKE = np.array([[0.9, 0.3, 0.1], [0.5, 0.5, 0.5]])


@pytest.mark.parametrize("model", [MultinomialLogit(), Cascade(), PositionBased()])
def test_sampled_clicks_match_the_probabilities(model):
    n = 40_000
    rating, like = np.tile(RATING, (n, 1)), np.tile(LIKE, (n, 1))
    clicks = sample_clicks(model, rating, like, np.random.default_rng(0))
    assert clicks.dtype == bool and clicks.shape == rating.shape
    for row in range(2):
        observed = clicks[row::2].mean(axis=0)
        np.testing.assert_allclose(observed, model.probabilities(RATING, LIKE)[row], atol=0.01)


def test_mnl_prefers_better_items_and_can_ignore_the_slate():
    probs = MultinomialLogit().probabilities(RATING, LIKE)
    assert probs[0, 0] > probs[0, 1] > probs[0, 2]
    assert probs[0].sum() < 1 and probs[1].sum() < 0.2  # a dull slate is mostly ignored
    clicks = sample_clicks(
        MultinomialLogit(),
        np.repeat(RATING, 1000, axis=0),
        np.repeat(LIKE, 1000, axis=0),
        np.random.default_rng(0),
    )
    assert clicks.sum(axis=1).max() == 1
    with pytest.raises(ValueError, match="temperature must be > 0"):
        MultinomialLogit(temperature=0)


def test_cascade_clicks_at_most_the_first_liked_item():
    like = np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    clicks = sample_clicks(Cascade(), RATING, like, np.random.default_rng(0))
    assert clicks.tolist() == [[True, False, False], [False, False, True]]
    np.testing.assert_allclose(Cascade().probabilities(RATING, LIKE)[1], [0.5, 0.25, 0.125])


def test_position_based_examination_decays():
    np.testing.assert_allclose(PositionBased().examination(3), [1, 1 / 2, 1 / 3])
    np.testing.assert_allclose(PositionBased(decay=0).probabilities(RATING, LIKE), LIKE)
