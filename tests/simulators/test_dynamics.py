import numpy as np
import pytest

from recworld.simulators.dynamics import (
    Boredom,
    EngagementDynamics,
    Retention,
    Satisfaction,
    session_statistics,
)

PROFILES = EngagementDynamics.genre_profiles(
    np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 0], [0, 0, 1]], dtype=float)
)
NEUTRAL = np.array([0.0, 0.0], dtype=np.float32)


def test_genre_profiles_sum_to_one_or_zero():
    np.testing.assert_allclose(PROFILES.sum(axis=1), [1, 1, 1, 0, 1])


def test_boredom_grows_with_repetition_decays_with_time_and_persists_across_sessions():
    dynamics = EngagementDynamics()
    state = dynamics.initial_state(2, 3)
    for _ in range(3):
        dynamics.update(state, PROFILES[[0, 0]], NEUTRAL)
    bored = state.boredom[0, 0]
    assert bored == pytest.approx(1 + 0.85 + 0.85**2)
    # The shift for more of the same genre is negative, for another genre zero.
    assert dynamics.shift(state, PROFILES[[0, 1]]).tolist() == pytest.approx([-0.05 * bored, 0.0])
    dynamics.update(state, PROFILES[[3, 3]], NEUTRAL)  # an item without genres
    assert state.boredom[0, 0] == pytest.approx(bored * 0.85)
    dynamics.new_session(state, np.array([True, False]))
    assert state.boredom[0, 0] == pytest.approx(bored * 0.85 * 0.5)
    assert state.boredom[1, 0] == pytest.approx(bored * 0.85)
    assert state.sessions.tolist() == [2, 1]


def test_interest_drifts_toward_liked_genres_and_away_from_disliked():
    dynamics = EngagementDynamics.from_spec({"drift": {"rate": 0.1, "max_drift": 0.5}})
    state = dynamics.initial_state(2, 3)
    for _ in range(10):
        dynamics.update(state, PROFILES[[1, 1]], dynamics.verdict(np.array([5.0, 1.0])))
    assert state.affinity[0, 1] > 0.3 and state.affinity[1, 1] < -0.3
    assert np.abs(state.affinity).max() <= 0.5


def test_repetition_is_the_overlap_of_genre_profiles():
    """A drama after dramas repeats fully, a drama-comedy after dramas half, a comedy not at all."""
    dynamics = EngagementDynamics.from_spec({"satisfaction": {"memory": 1.0, "rate": 1.0, "wear_cost": 1.0}})
    outcomes = []
    for profile in (0, 2, 1):  # drama, drama-comedy, comedy, each after one drama
        state = dynamics.initial_state(1, 3)
        dynamics.update(state, PROFILES[[0]], np.zeros(1, dtype=np.float32))
        dynamics.update(state, PROFILES[[profile]], np.zeros(1, dtype=np.float32))
        outcomes.append(float(state.satisfaction[0]))
    assert outcomes == pytest.approx([-1.0, -0.5, 0.0])


def test_repetition_wears_users_out_although_every_film_rates_well():
    """Two users rate every film 5; one is shown one genre, the other a rotation of three. The
    first ends up unsatisfied: more likely to end the session, less likely to come back."""
    dynamics = EngagementDynamics()
    state = dynamics.initial_state(2, 3)
    for step in range(12):
        profiles = PROFILES[[0, [0, 1, 4][step % 3]]]
        p_end, p_return = dynamics.update(state, profiles, dynamics.verdict(np.array([5.0, 5.0])))
    assert state.satisfaction[0] < 0 < state.satisfaction[1]
    assert p_end[0] > p_end[1] and p_return[0] < p_return[1]


def test_neutral_users_match_the_session_statistics_the_defaults_are_argued_from():
    dynamics = EngagementDynamics()
    p_end, p_return = dynamics.session_odds(dynamics.initial_state(1, 3))
    assert np.log(2) / p_end[0] == pytest.approx(12, abs=0.5)  # a geometric session's median, ~12
    assert p_return[0] == pytest.approx(0.65, abs=0.005)


def test_the_control_carries_nothing_over():
    dynamics = EngagementDynamics.from_spec("control")
    state = dynamics.initial_state(2, 3)
    before = dynamics.session_odds(state)
    for _ in range(5):
        after = dynamics.update(state, PROFILES[[0, 0]], dynamics.verdict(np.array([5.0, 1.0])))
    assert dynamics.preference(state) is None and dynamics.catalog_shift(state, PROFILES) is None
    np.testing.assert_array_equal(after[0], before[0])
    np.testing.assert_array_equal(after[1], before[1])


def test_shift_over_the_whole_catalog_and_for_slates():
    dynamics = EngagementDynamics.from_spec({"boredom": {"weight": 0.25}})
    state = dynamics.initial_state(2, 3)
    dynamics.update(state, PROFILES[[0, 1]], dynamics.verdict(np.array([5.0, 5.0])))
    catalog = dynamics.catalog_shift(state, PROFILES)
    assert catalog.shape == (2, 5)
    np.testing.assert_allclose(dynamics.shift(state, PROFILES[[0, 1]]), catalog[[0, 1], [0, 1]], rtol=1e-6)
    slates = dynamics.shift(state, PROFILES[np.array([[0, 1], [1, 2]])])
    np.testing.assert_allclose(slates, catalog[[[0], [1]], [[0, 1], [1, 2]]], rtol=1e-6)


def test_specs_build_the_components_and_bad_ones_are_named():
    assert EngagementDynamics.from_spec(None) == EngagementDynamics()
    assert EngagementDynamics.from_spec("default") == EngagementDynamics()
    custom = EngagementDynamics.from_spec({"satisfaction": {"wear_cost": 2.0}, "drift": None})
    assert custom.satisfaction == Satisfaction(wear_cost=2.0) and custom.drift is None
    assert custom.boredom == Boredom() and custom.retention == Retention()
    with pytest.raises(ValueError, match=r"unknown component 'fatigue'.*boredom, drift, satisfaction"):
        EngagementDynamics.from_spec({"fatigue": {}})
    with pytest.raises(ValueError, match=r"boredom has no parameter speed; its parameters: gain"):
        EngagementDynamics.from_spec({"boredom": {"speed": 1}})
    with pytest.raises(ValueError, match=r"decay=1\.5 \(allowed: \[0, 1\)\)"):
        EngagementDynamics.from_spec({"boredom": {"decay": 1.5}})
    with pytest.raises(ValueError, match=r"wear_cost=-1 \(allowed: \[0, 10\]\)"):
        Satisfaction(wear_cost=-1)
    with pytest.raises(ValueError, match="retention cannot be switched off"):
        EngagementDynamics.from_spec({"retention": None})
    with pytest.raises(ValueError, match=r"drift=0\.5: give its parameters as a mapping"):
        EngagementDynamics.from_spec({"drift": 0.5})
    with pytest.raises(ValueError, match="expected 'default', 'control'"):
        EngagementDynamics.from_spec("chaos")


def test_session_statistics_of_a_small_log():
    #       user 0: two sessions (3 + 2 ratings), user 1: one session of 1 rating
    user = np.array([0, 0, 0, 0, 0, 1])
    item = np.array([0, 1, 4, 0, 1, 2])
    rating = np.array([5.0, 4.0, 3.0, 2.0, 4.0, 3.0])
    timestamp = np.array([0, 60, 120, 100_000, 100_060, 0])
    genres = np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 0], [0, 0, 1]], dtype=float)
    stats = session_statistics(user, item, rating, timestamp, genres)
    assert stats["sessions"] == 3 and stats["users"] == 2
    assert stats["median_session_length"] == 2 and stats["return_rate"] == pytest.approx(1 / 3)


@pytest.mark.realdata
def test_the_docstring_quotes_what_movielens_says():
    from recworld.data import load_dataset

    data = load_dataset("movielens-100k")
    features, _ = data.item_features()
    stats = session_statistics(
        data.user, data.item, data.rating, data.timestamp, features[:, : len(data.genres)]
    )
    assert stats["median_session_length"] == 12 and stats["sessions"] == 2692
    assert stats["return_rate"] == pytest.approx(0.65, abs=0.005)
    assert stats["wear_slope"] == pytest.approx(0.04, abs=0.005)
