"""Users drawn from the latent-factor posterior (``user_spread``) and the value-of-answers report."""

import numpy as np
import pytest

from recworld.data import load_dataset
from recworld.numerics.factorization import fit_als, fold_in
from recworld.simulators import SimulatorError, fit_simulator
from recworld.simulators.fidelity import validate
from tests.simulators.synthetic import low_rank_ratings


@pytest.fixture(scope="module")
def synthetic():
    return low_rank_ratings()


def _personal_variance(scores: np.ndarray) -> float:
    """Variance of scores around the item means and the user means: the personal part."""
    personal = scores - scores.mean(axis=0) - scores.mean(axis=1, keepdims=True) + scores.mean()
    return float(personal.var())


def test_spread_adds_personal_variance_keeps_the_histogram_and_is_deterministic(synthetic):
    data, truth = synthetic
    mean_world = fit_simulator(data, seed=0, calibrated=False)
    spread_world = fit_simulator(data, seed=0, user_spread=1.0)
    again = fit_simulator(data, seed=0, user_spread=1.0)
    np.testing.assert_array_equal(spread_world.scores, again.scores)
    assert spread_world.meta["user_spread"] == 1.0
    assert _personal_variance(spread_world.scores) > 1.2 * _personal_variance(mean_world.scores)
    assert _personal_variance(mean_world.scores) < _personal_variance(truth)  # shrunk toward the crowd
    assert np.all(spread_world.noise <= mean_world.noise) and np.any(spread_world.noise < mean_world.noise)
    rng = np.random.default_rng(0)
    users, items = data.user.astype(np.int64), data.item.astype(np.int64)
    sampled = spread_world.sample_rating(users, items, rng)
    for level in (1, 2, 3, 4, 5):
        assert np.mean(sampled == level) == pytest.approx(np.mean(data.rating == level), abs=0.03)


def test_posterior_draws_have_the_stated_variance(synthetic):
    data, _ = synthetic
    users, items = data.user.astype(np.int64), data.item.astype(np.int64)
    model = fit_als(users, items, data.rating.astype(float), data.n_users, data.n_items, rank=3, reg=0.1,
                    rng=np.random.default_rng(0))  # fmt: skip
    noise = np.full(data.n_users, 0.7)
    draws = np.stack(
        [model.posterior_draw(users, items, noise, np.random.default_rng(s))[0] for s in range(400)]
    )
    _, stated = model.posterior_draw(users, items, noise, np.random.default_rng(0))
    empirical = np.bincount(users, weights=draws[:, users, items].var(axis=0)) / np.bincount(users)
    np.testing.assert_allclose(empirical.mean(), stated.mean(), rtol=0.1)
    np.testing.assert_allclose(empirical, stated, rtol=0.25)  # per user, 400 draws
    assert np.abs(draws.mean(axis=0)).max() < 0.25  # centred on the posterior mean


def test_fold_in_is_each_rows_ridge_solution():
    rng = np.random.default_rng(1)
    design = rng.normal(size=(12, 3))
    items = rng.integers(0, 12, (2, 5))
    targets = rng.normal(size=(2, 5))
    answered = np.array([[True] * 5, [True, True, False, True, False]])
    solution = fold_in(design, targets, items, answered, prior=0.5)
    for b in range(2):
        x, y = design[items[b][answered[b]]], targets[b][answered[b]]
        np.testing.assert_allclose(solution[b], np.linalg.solve(x.T @ x + 0.5 * np.eye(3), x.T @ y))


def test_answer_value_sees_the_personal_signal_a_mean_world_lacks(synthetic):
    """Synthetic people really are low-rank: 10 answers help rank their held-out films, much more
    than in a world of posterior means; a spread world gets closer, and so does the world calibrated
    on the ladder of baselines (the default)."""
    data, _ = synthetic
    gains = {}
    for name, options in (
        ("mean", {"calibrated": False}),
        ("spread", {"user_spread": 4.0}),
        ("calibrated", {}),
    ):
        report, _ = validate(data, seed=0, **options)
        gains[name] = report["answer_value_simulated"]
    real = report["answer_value_real"]
    assert real > report["answer_value_ci95"] > 0
    assert gains["mean"] < real - 0.01
    assert gains["spread"] > gains["mean"] + 0.01
    assert abs(gains["calibrated"] - real) < abs(gains["mean"] - real)


def test_bad_spread(synthetic):
    data, _ = synthetic
    with pytest.raises(SimulatorError, match="user_spread must be a finite number >= 0, got -1"):
        fit_simulator(data, user_spread=-1)
    with pytest.raises(SimulatorError, match="item-knn family has no posterior over users"):
        fit_simulator(data, "item-knn", user_spread=1.0)


@pytest.mark.realdata
def test_movielens_world_matches_the_real_value_of_answers():
    """On MovieLens-100K, 10 answers do not measurably help a fold-in recommender rank a new user's
    held-out films (the real gain's 95% interval covers 0), and the default world agrees (within the
    noise of two such estimates; seeds 1 and 2 give real +0.002/-0.001, simulated -0.013/-0.003)."""
    report, _ = validate(load_dataset("movielens-100k"), seed=0)
    real, half, simulated = (
        report[k] for k in ("answer_value_real", "answer_value_ci95", "answer_value_simulated")
    )
    assert abs(real) < half
    assert abs(simulated - real) < 1.5 * half
