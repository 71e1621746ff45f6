import numpy as np
import pytest
from scipy.stats import wasserstein_distance

from recworld.numerics.factorization import fit_als
from recworld.simulators import FAMILIES, SimulatorError, fit_simulator
from recworld.simulators.awareness import fit_awareness
from recworld.simulators.fidelity import auc, gini, point_prediction
from recworld.simulators.item_knn import fit_item_knn
from tests.simulators.synthetic import low_rank_ratings


@pytest.fixture(scope="module")
def synthetic():
    return low_rank_ratings()


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_fit_recovers_the_truth_better_than_item_means(synthetic, family):
    data, truth = synthetic
    world = fit_simulator(data, family, seed=0, calibrated=False)  # the family's fit on all ratings
    rmse = np.sqrt(np.mean((world.scores - truth) ** 2))
    item_mean = np.bincount(data.item, weights=data.rating, minlength=data.n_items) / np.maximum(
        data.counts_per_item(), 1
    )
    baseline = np.sqrt(np.mean((item_mean[None, :] - truth) ** 2))
    assert rmse < 0.8 * baseline
    # The calibrated world's model is fitted on the training part of the ratings (90%).
    calibrated = fit_simulator(data, family, seed=0)
    assert np.sqrt(np.mean((point_prediction(calibrated) - truth) ** 2)) < 0.85 * baseline
    assert world.meta["params"] in [dict(g) for g in FAMILIES[family].grid]
    assert len(world.meta["search"]) == len(FAMILIES[family].grid)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_fit_is_deterministic_bit_for_bit(synthetic, family):
    data, _ = synthetic
    a = fit_simulator(data, family, seed=3)
    b = fit_simulator(data, family, seed=3)
    for name in ("scores", "noise", "thresholds", "aware_user", "aware_item"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert np.array_equal(a.density.chol, b.density.chol)


def test_thresholds_reproduce_the_real_histogram(synthetic):
    data, _ = synthetic
    world = fit_simulator(data, "latent-factor", seed=0)
    sampled = world.sample_rating(
        data.user.astype(np.int64), data.item.astype(np.int64), np.random.default_rng(0)
    )
    assert wasserstein_distance(sampled, data.rating) < 0.05


def test_noise_is_per_user_and_plausible(synthetic):
    data, _ = synthetic
    world = fit_simulator(data, "latent-factor", seed=0)
    assert world.noise.shape == (data.n_users,) and len(np.unique(world.noise)) > 10
    assert 0.25 <= world.noise.min() and world.noise.max() < 2.0


def test_awareness_finds_activity_popularity_and_preference():
    rng = np.random.default_rng(0)
    n_users, n_items = 200, 100
    scores = rng.normal(3.5, 0.8, (n_users, n_items))
    true_logit = (
        rng.normal(-2, 0.5, (n_users, 1)) + rng.normal(0, 1, (1, n_items)) + 1.0 * (scores - 3.5) / 0.8
    )
    known = rng.random((n_users, n_items)) < 1 / (1 + np.exp(-true_logit))
    users, items = np.nonzero(known)
    model = fit_awareness(users, items, scores)
    assert 0.7 < model.preference < 1.3
    fitted = (
        model.user[:, None] + model.item[None, :] + model.preference * (scores - model.center) / model.scale
    )
    assert auc(fitted[known], fitted[~known]) > 0.8
    assert np.corrcoef(fitted.ravel(), true_logit.ravel())[0, 1] > 0.9


def test_awareness_takes_the_newton_steps_of_its_docstring():
    """The compiled fit against a direct transcription of the steps on the dense matrix."""
    rng = np.random.default_rng(1)
    scores = rng.normal(3.5, 0.8, (60, 40))
    known = rng.random(scores.shape) < 1 / (1 + np.exp(-(scores - 5.0)))
    users, items = np.nonzero(known)
    model = fit_awareness(users, items, scores, n_iter=8)
    rated = known.astype(np.float64)
    z = ((scores - scores.mean()) / scores.std()).astype(np.float32).astype(np.float64)
    share_u = np.clip(rated.mean(axis=1), 1e-4, 1 - 1e-4)
    share_i = np.clip(rated.mean(axis=0), 1e-4, 1 - 1e-4)
    alpha = np.log(share_u / (1 - share_u))
    beta = np.log(share_i / (1 - share_i)) - np.log(share_i / (1 - share_i)).mean()
    gamma = 0.0
    for _ in range(8):
        p = 1 / (1 + np.exp(-(alpha[:, None] + beta[None, :] + gamma * z)))
        alpha += (rated - p).sum(axis=1) / ((p * (1 - p)).sum(axis=1) + 1e-6)
        p = 1 / (1 + np.exp(-(alpha[:, None] + beta[None, :] + gamma * z)))
        beta += ((rated - p).sum(axis=0) - 0.1 * beta) / ((p * (1 - p)).sum(axis=0) + 0.1)
        p = 1 / (1 + np.exp(-(alpha[:, None] + beta[None, :] + gamma * z)))
        gamma += float(((rated - p) * z).sum() / ((p * (1 - p) * z * z).sum() + 1e-6))
    np.testing.assert_allclose(model.user, alpha, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(model.item, beta, rtol=1e-6, atol=1e-6)
    assert model.preference == pytest.approx(gamma, rel=1e-9)


def test_item_knn_table_agrees_with_its_pairwise_predictions(synthetic):
    data, _ = synthetic
    users, items = data.user.astype(np.int64), data.item.astype(np.int64)
    ratings, rng = data.rating.astype(float), np.random.default_rng(0)
    model = fit_item_knn(users, items, ratings, data.n_users, data.n_items, k=5, rng=rng)
    every_user, every_item = np.divmod(np.arange(data.n_users * data.n_items), data.n_items)
    pairwise = model.predict(every_user, every_item).reshape(data.n_users, data.n_items)
    np.testing.assert_allclose(model.table(), pairwise, atol=1e-5)


def test_als_matches_a_direct_least_squares_solution():
    """With rank 0 the model is mu + b_u + b_i: ALS must converge to the ridge solution."""
    rng = np.random.default_rng(0)
    users, items = rng.integers(0, 8, 60), rng.integers(0, 6, 60)
    ratings = rng.normal(3, 1, 60)
    model = fit_als(users, items, ratings, 8, 6, rank=0, reg=0.1, n_iter=200, rng=rng)
    design = np.zeros((60, 14))
    design[np.arange(60), users] = 1
    design[np.arange(60), 8 + items] = 1
    counts = np.concatenate([np.bincount(users, minlength=8), np.bincount(items, minlength=6)])
    penalty = np.diag(0.1 * np.maximum(counts, 1))
    target = ratings - ratings.mean()
    direct = np.linalg.solve(design.T @ design + penalty, design.T @ target)
    np.testing.assert_allclose(np.concatenate([model.user_bias, model.item_bias]), direct, atol=1e-6)


def test_gini_and_auc_reference_values():
    assert gini(np.ones(10)) == pytest.approx(0.0)
    assert gini(np.array([0, 0, 0, 10])) == pytest.approx(0.75)
    assert auc(np.array([2.0, 3.0]), np.array([0.0, 1.0])) == 1.0
    assert auc(np.array([1.0]), np.array([1.0])) == 0.5


def test_bad_fit_arguments(synthetic):
    data, _ = synthetic
    with pytest.raises(
        SimulatorError, match="unknown simulator family 'svd'; known: latent-factor, item-knn"
    ):
        fit_simulator(data, "svd")
    with pytest.raises(SimulatorError, match="validation_fraction must be in"):
        fit_simulator(data, validation_fraction=0.9)
    with pytest.raises(SimulatorError, match="needs at least 20"):
        fit_simulator(data.select(np.arange(5)))
    with pytest.raises(SimulatorError, match="grid is empty"):
        fit_simulator(data, grid=[])


def test_noise_on_a_half_star_scale_subtracts_the_half_star_rounding():
    """A perfect model, true noise 0.5, ratings rounded to half stars: the fitted noise is 0.5."""
    from recworld.simulators.ordinal import fit_noise

    rng = np.random.default_rng(0)
    users = np.repeat(np.arange(400), 50)
    latent = rng.uniform(1.5, 4.5, len(users))
    ratings = np.clip(np.round((latent + rng.normal(0, 0.5, len(users))) * 2) / 2, 0.5, 5.0)
    noise = fit_noise(ratings - latent, users, 400, step=0.5)
    assert np.median(noise) == pytest.approx(0.5, abs=0.02)


def test_fit_passes_the_datas_rating_step_to_the_noise(synthetic, monkeypatch):
    import dataclasses

    import recworld.simulators.families as families

    data, _ = synthetic
    half = dataclasses.replace(data, rating=data.rating / 2, rating_scale=(0.5, 2.5))
    steps = []
    real_fit_noise = families.fit_noise
    monkeypatch.setattr(
        families, "fit_noise", lambda *a, **kw: steps.append(kw["step"]) or real_fit_noise(*a, **kw)
    )
    fit_simulator(half, grid=[{"rank": 3, "reg": 0.1}])
    assert steps == [0.5]
