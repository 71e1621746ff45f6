import numpy as np
import pytest

from recworld.simulators.dynamics import EngagementDynamics

PROFILES = EngagementDynamics.genre_profiles(
    np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 0]], dtype=float)
)


def test_genre_profiles_sum_to_one_or_zero():
    np.testing.assert_allclose(PROFILES.sum(axis=1), [1, 1, 1, 0])


def test_boredom_grows_with_repetition_and_decays_with_time():
    dynamics = EngagementDynamics()
    state = dynamics.initial_state(2, 3)
    drama = PROFILES[[0, 0]]
    for _ in range(3):
        dynamics.update(state, drama, np.array([3.5, 3.5]))
    bored = state.boredom[:, 0].copy()
    assert bored[0] == pytest.approx(1 + 0.85 + 0.85**2)
    # The shift for more of the same genre is negative, for another genre zero.
    assert dynamics.shift(state, PROFILES[[0, 1]]).tolist() == pytest.approx([-0.25 * bored[0], 0.0])
    dynamics.update(state, PROFILES[[3, 3]], np.array([3.5, 3.5]))  # an item without genres
    assert state.boredom[0, 0] == pytest.approx(bored[0] * 0.85)


def test_interest_drifts_toward_liked_genres_and_away_from_disliked():
    dynamics = EngagementDynamics()
    state = dynamics.initial_state(2, 3)
    for _ in range(10):
        dynamics.update(state, PROFILES[[1, 1]], np.array([5.0, 1.0]))
    assert state.affinity[0, 1] > 0.3 and state.affinity[1, 1] < -0.3
    assert np.abs(state.affinity).max() <= dynamics.max_drift


def test_unhappy_users_leave_and_happy_ones_stay():
    dynamics = EngagementDynamics()
    state = dynamics.initial_state(2, 3)
    for _ in range(5):
        leave = dynamics.update(state, PROFILES[[0, 1]], np.array([5.0, 1.0]))
    assert leave[0] < 0.005 < 0.2 < leave[1]
    state.reset(np.array([False, True]))
    assert state.satisfaction[1] == 0 and state.satisfaction[0] > 0


def test_shift_over_the_whole_catalog_and_for_slates():
    dynamics = EngagementDynamics()
    state = dynamics.initial_state(2, 3)
    dynamics.update(state, PROFILES[[0, 1]], np.array([5.0, 5.0]))
    catalog = dynamics.catalog_shift(state, PROFILES)
    assert catalog.shape == (2, 4)
    np.testing.assert_allclose(dynamics.shift(state, PROFILES[[0, 1]]), catalog[[0, 1], [0, 1]], rtol=1e-6)
    square = dynamics.catalog_shift(state, PROFILES[:2])  # as many items as users: still the catalog
    np.testing.assert_allclose(square, catalog[:, :2], rtol=1e-6)
    slates = dynamics.shift(state, PROFILES[np.array([[0, 1], [1, 2]])])
    np.testing.assert_allclose(slates, catalog[[[0], [1]], [[0, 1], [1, 2]]], rtol=1e-6)


def test_bad_parameters_are_named():
    with pytest.raises(ValueError, match=r"boredom_decay=1\.5"):
        EngagementDynamics(boredom_decay=1.5)


def run_session(world, profiles, users, policy, dynamics, *, horizon=200, seed=0):
    """Serve each user one item per step until they leave; return each user's total rating."""
    rng = np.random.default_rng(seed)
    state = dynamics.initial_state(len(users), profiles.shape[1])
    static = world.expected_rating(users)  # what a one-step greedy policy believes, (B, n_items)
    shown = np.zeros(static.shape, dtype=bool)
    recent = np.zeros((len(users), profiles.shape[1]), dtype=np.float32)
    active = np.ones(len(users), dtype=bool)
    total = np.zeros(len(users))
    for _ in range(horizon):
        score = np.where(shown, -np.inf, static)
        if policy == "diverse":  # maximal marginal relevance against recently shown genres
            score = score - 0.5 * (recent @ profiles.T)
        items = score.argmax(axis=1)
        shown[np.arange(len(users)), items] = True
        ratings = world.sample_rating(users, items, rng, shift=dynamics.shift(state, profiles[items]))
        total += np.where(active, ratings, 0.0)
        leave = dynamics.update(state, profiles[items], ratings)
        recent = 0.8 * recent + profiles[items]
        active &= rng.random(len(users)) >= leave
    return total


@pytest.mark.realdata
def test_dynamics_create_delayed_effects_that_greedy_cannot_see():
    """Over a long session a diversity-aware heuristic beats static greedy on MovieLens users,
    although greedy picks items with the higher expected rating at every step."""
    from recworld.data import load_dataset
    from recworld.simulators.cache import load_or_fit

    data = load_dataset("movielens-100k")
    world = load_or_fit("movielens-100k", "latent-factor")
    features, _ = data.item_features()
    profiles = EngagementDynamics.genre_profiles(features[:, : len(data.genres)])
    users = np.arange(0, data.n_users, 3)
    greedy = run_session(world, profiles, users, "greedy", EngagementDynamics())
    diverse = run_session(world, profiles, users, "diverse", EngagementDynamics())
    difference = diverse - greedy
    low = difference.mean() - 1.96 * difference.std(ddof=1) / np.sqrt(len(users))
    assert low > 0, (greedy.mean(), diverse.mean())
    # The control: in a static world (no boredom, no drift, leaving at a constant rate) the same
    # heuristic gives up rating for nothing, and greedy wins.
    static = EngagementDynamics(boredom_weight=0.0, drift_rate=0.0, leave_slope=0.0)
    greedy_static = run_session(world, profiles, users, "greedy", static)
    diverse_static = run_session(world, profiles, users, "diverse", static)
    assert greedy_static.mean() > diverse_static.mean()
