"""The numerics under the recommenders: biased MF fold-in, its empirical-Bayes user prior, item means,
and the ranking/rating metrics."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from recworld.numerics.factorization import UserPrior, _Pattern, fit_als, fold_in, item_means
from recworld.numerics.metrics import dcg_at_k, masked_mae, ndcg_at_k

RANK = 3
N_ITEMS = 200
N_USERS = 4000
MAX_BUDGET = 8


def synthetic_prior(rng: np.random.Generator) -> UserPrior:
    """A prior far from zero (so a zero-mean ridge is visibly biased), with correlated factors."""
    width = 1 + RANK
    root = rng.normal(0.0, 0.5, size=(width, width))
    covariance = root @ root.T + 0.2 * np.eye(width)
    mean = np.array([1.5, 0.8, -0.6, 0.4])
    return UserPrior(mean, covariance, noise=0.5)


@pytest.fixture(scope="module")
def bayes_world():
    """Users drawn from the prior, rating ``design @ x_u`` plus the prior's noise; each user's
    questions are the first ``b`` items of one random order (so the budgets are nested)."""
    rng = np.random.default_rng(7)
    prior = synthetic_prior(rng)
    design = np.column_stack([np.ones(N_ITEMS), rng.normal(0.0, 1.0, size=(N_ITEMS, RANK))])
    users = rng.multivariate_normal(prior.mean, prior.covariance, size=N_USERS)
    truth = users @ design.T  # (users, items): the scores without noise
    ratings = truth + rng.normal(0.0, np.sqrt(prior.noise), size=truth.shape)
    order = np.argsort(rng.random((N_USERS, N_ITEMS)), axis=1)[:, :MAX_BUDGET]
    return prior, design, truth, ratings, order


def prediction_mae(design, truth, ratings, order, budget, prior):
    items = order[:, :budget]
    targets = np.take_along_axis(ratings, items, axis=1)
    answered = np.ones(items.shape, dtype=bool)
    vectors = fold_in(design, targets, items, answered, prior)
    return float(np.abs(vectors @ design.T - truth).mean())


def test_bayes_fold_in_error_falls_with_every_answer(bayes_world):
    prior, design, truth, ratings, order = bayes_world
    errors = [prediction_mae(design, truth, ratings, order, b, prior) for b in range(MAX_BUDGET + 1)]
    assert all(later < earlier for earlier, later in itertools.pairwise(errors)), errors
    # no answers: the prediction is the prior mean for everyone
    assert errors[0] == pytest.approx(float(np.abs(prior.mean @ design.T - truth).mean()))


def test_zero_mean_ridge_is_worse_than_the_posterior_mean(bayes_world):
    prior, design, truth, ratings, order = bayes_world
    bayes = prediction_mae(design, truth, ratings, order, 1, prior)
    ridge = prediction_mae(design, truth, ratings, order, 1, 3.0)
    assert ridge > bayes
    # and the ridge with no answers predicts 0 for every film
    items = np.zeros((2, 0), dtype=np.int64)
    empty = fold_in(design, np.zeros((2, 0)), items, np.zeros((2, 0), dtype=bool), 3.0)
    np.testing.assert_allclose(empty, 0.0)


def test_fold_in_with_prior_is_the_closed_form_posterior_mean():
    rng = np.random.default_rng(3)
    prior = synthetic_prior(rng)
    design = np.column_stack([np.ones(30), rng.normal(size=(30, RANK))])
    items = np.array([[4, 11, 17, 2, 25]])
    answered = np.array([[True, True, False, True, True]])  # an unanswered slot is ignored
    targets = rng.normal(3.0, 1.0, size=items.shape)

    got = fold_in(design, targets, items, answered, prior)

    x = design[items[0][answered[0]]]
    y = targets[0][answered[0]]
    penalty = prior.noise * np.linalg.inv(prior.covariance)
    expected = np.linalg.solve(x.T @ x + penalty, x.T @ y + penalty @ prior.mean)
    assert got.shape == (1, 1 + RANK)
    np.testing.assert_allclose(got[0], expected, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(prior.precision, penalty)


def test_fold_in_ridge_matches_closed_form():
    rng = np.random.default_rng(4)
    design = np.column_stack([np.ones(12), rng.normal(size=(12, 2))])
    items = np.array([[1, 5, 9], [0, 0, 3]])
    answered = np.array([[True, True, True], [True, False, True]])
    targets = rng.normal(size=items.shape)
    got = fold_in(design, targets, items, answered, 0.7)
    for row in range(2):
        x = design[items[row][answered[row]]]
        y = targets[row][answered[row]]
        np.testing.assert_allclose(got[row], np.linalg.solve(x.T @ x + 0.7 * np.eye(3), x.T @ y))


# ---------------------------------------------------------------- UserPrior.fit on a fitted model
@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(11)
    n_users, n_items, rank = 120, 60, 2
    p = rng.normal(0.0, 0.7, size=(n_users, rank))
    q = rng.normal(0.0, 0.7, size=(n_items, rank))
    bias_u, bias_i = rng.normal(0.0, 0.4, n_users), rng.normal(0.0, 0.3, n_items)
    table = 3.5 + bias_u[:, None] + bias_i[None, :] + p @ q.T
    observed = rng.random((n_users, n_items)) < 0.35
    observed[-5:] = False  # five users rated nothing: they are not part of the prior
    users, items = np.nonzero(observed)
    ratings = table[users, items] + rng.normal(0.0, 0.3, size=len(users))
    model = fit_als(users, items, ratings, n_users, n_items, rank=rank, reg=0.05, rng=rng)
    return model, users, items, ratings


def test_user_prior_fit(fitted):
    model, users, items, ratings = fitted
    prior = UserPrior.fit(model, users, items, ratings)
    width = 1 + model.user_factors.shape[1]
    assert prior.mean.shape == (width,)
    assert prior.covariance.shape == (width, width)
    # the bias and the factors are apart: no cross-covariance
    np.testing.assert_array_equal(prior.covariance[0, 1:], 0.0)
    np.testing.assert_array_equal(prior.covariance[1:, 0], 0.0)
    np.testing.assert_allclose(prior.covariance, prior.covariance.T)
    assert np.all(np.linalg.eigvalsh(prior.covariance) > 0)
    # the statistics are those of the users who rated (the five silent users are left out)
    rated = np.unique(users)
    assert len(rated) == model.user_bias.shape[0] - 5
    vectors = np.column_stack([model.user_bias, model.user_factors])[rated]
    np.testing.assert_allclose(prior.mean, vectors.mean(axis=0))
    assert prior.covariance[0, 0] == pytest.approx(vectors[:, 0].var(), abs=2e-6)
    np.testing.assert_allclose(
        prior.covariance[1:, 1:], np.cov(vectors[:, 1:], rowvar=False) + 1e-6 * np.eye(width - 1)
    )
    # the noise is the mean squared training residual
    residual = ratings - model.predict(users, items)
    assert prior.noise == pytest.approx(float(np.mean(residual**2)))
    assert 0.0 < prior.noise < float(np.var(ratings))


def test_fitted_model_recovers_the_ratings(fitted):
    model, users, items, ratings = fitted
    prediction = model.predict(users, items)
    assert np.sqrt(np.mean((prediction - ratings) ** 2)) < 0.5 * np.std(ratings)
    np.testing.assert_allclose(model.table()[users, items], prediction, rtol=1e-5, atol=1e-4)
    design = model.item_design()
    assert design.shape == (len(model.item_bias), 1 + model.user_factors.shape[1])
    np.testing.assert_array_equal(design[:, 0], 1.0)


def test_predictive_variance_shrinks_with_every_answer(fitted):
    model, users, items, ratings = fitted
    prior = UserPrior.fit(model, users, items, ratings)
    design = model.item_design()
    asked = np.array([3, 17, 40, 8, 22, 51])
    variances = []
    for budget in range(len(asked) + 1):
        answered = np.zeros((1, len(asked)), dtype=bool)
        answered[0, :budget] = True
        variances.append(prior.predictive_variance(design, asked[None], answered)[0])
    variances = np.array(variances)
    assert variances.shape == (len(asked) + 1, design.shape[0])
    assert np.all(variances > 0)
    # no answers: the prior's own variance of each item's score
    np.testing.assert_allclose(variances[0], np.einsum("id,de,ie->i", design, prior.covariance, design))
    # every answer shrinks (never grows) the variance of every item, and shrinks it strictly overall
    assert np.all(np.diff(variances, axis=0) <= 1e-12)
    assert np.all(variances[1:].sum(axis=1) < variances[:-1].sum(axis=1))
    # an answered item's variance falls below the noise of one answer about it
    assert variances[-1][asked].max() < prior.noise


# ---------------------------------------------------------------- item means
def test_item_means_shrink_toward_the_global_mean():
    items = np.array([0, 0, 0, 1, 2, 2])
    ratings = np.array([4.0, 4.0, 4.0, 5.0, 1.0, 2.0])
    means = item_means(items, ratings, n_items=4, prior_count=5.0)
    mu = ratings.mean()
    assert means.shape == (4,)
    assert means[1] < 5.0
    assert means[1] > mu
    assert means[1] == pytest.approx((5.0 + 5.0 * mu) / 6.0)
    assert means[0] == pytest.approx((12.0 + 5.0 * mu) / 8.0)
    assert means[3] == pytest.approx(mu)  # unrated: the global mean
    # no shrinkage: the plain means
    plain = item_means(items, ratings, n_items=3, prior_count=0.0)
    np.testing.assert_allclose(plain, [4.0, 5.0, 1.5])


# ---------------------------------------------------------------- metrics
def test_ndcg_is_one_for_the_ideal_ranking_and_lower_reversed():
    gains = np.array([[3.0, 1.0, 7.0, 0.0, 15.0]])
    valid = np.ones_like(gains, dtype=bool)
    assert ndcg_at_k(gains, gains, valid, k=3)[0] == pytest.approx(1.0)
    assert ndcg_at_k(gains * 2.0 + 1.0, gains, valid, k=5)[0] == pytest.approx(1.0)  # monotone scores
    reversed_ = ndcg_at_k(-gains, gains, valid, k=3)[0]
    assert 0.0 <= reversed_ < 1.0
    # by hand: the reversed top 3 are gains 0, 1, 3
    ideal = 15 / np.log2(2) + 7 / np.log2(3) + 3 / np.log2(4)
    assert reversed_ == pytest.approx((0 / np.log2(2) + 1 / np.log2(3) + 3 / np.log2(4)) / ideal)
    assert dcg_at_k(gains, gains, valid, k=3)[0] == pytest.approx(ideal)


def test_ndcg_ignores_invalid_entries():
    gains = np.array([[3.0, 1.0, 7.0, 0.0, 15.0]])
    scores = np.array([[0.1, 0.5, 0.3, 0.9, 0.2]])
    valid = np.ones_like(gains, dtype=bool)
    base = ndcg_at_k(scores, gains, valid, k=3)[0]
    # an invalid entry with the top score and the top gain changes nothing
    padded_gains = np.concatenate([gains, [[100.0]]], axis=1)
    padded_scores = np.concatenate([scores, [[99.0]]], axis=1)
    padded_valid = np.concatenate([valid, [[False]]], axis=1)
    assert ndcg_at_k(padded_scores, padded_gains, padded_valid, k=3)[0] == pytest.approx(base)
    # rows are independent, and a row with no positive gain scores 0
    batch_scores = np.vstack([scores, scores])
    batch_gains = np.vstack([gains, np.zeros_like(gains)])
    result = ndcg_at_k(batch_scores, batch_gains, np.ones_like(batch_gains, dtype=bool), k=3)
    np.testing.assert_allclose(result, [base, 0.0])


def test_masked_mae_by_hand():
    prediction = np.array([[1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 0.0, 0.0], [5.0, 5.0, 5.0, 5.0]])
    truth = np.array([[2.0, 2.0, 1.0, 9.0], [1.0, 1.0, 1.0, 1.0], [4.0, 4.0, 4.0, 4.0]])
    valid = np.array([[True, True, True, False], [False, False, False, False], [True, False, False, True]])
    np.testing.assert_allclose(masked_mae(prediction, truth, valid), [(1 + 0 + 2) / 3, 0.0, 1.0])


def test_each_half_step_solves_every_rows_ridge_problem():
    """The compiled normal equations and Cholesky solve give each user's dense ridge solution."""
    rng = np.random.default_rng(3)
    n_users, n_items, rank, reg = 30, 20, 4, 0.1
    users, items = rng.integers(0, n_users, 300), rng.integers(0, n_items, 300)
    users[users == 7] = 8  # user 7 rated nothing: only the penalty speaks for it
    ratings = rng.normal(3.5, 1.0, 300)
    other, offset = rng.normal(size=(n_items, rank)), rng.normal(size=n_items)
    intercept, coefficients = _Pattern(users, items, n_users, ratings).ridge(offset, other, reg)
    design = np.column_stack([np.ones(n_items), other])
    for user in range(n_users):
        x, targets = design[items[users == user]], (ratings - offset[items])[users == user]
        normal = x.T @ x + reg * max(len(x), 1) * np.eye(1 + rank)
        expected = np.linalg.solve(normal, x.T @ targets)
        np.testing.assert_allclose(np.r_[intercept[user], coefficients[user]], expected, atol=1e-12)


def test_an_unpenalised_user_without_ratings_is_an_error():
    rng = np.random.default_rng(0)
    with pytest.raises(np.linalg.LinAlgError, match="reg > 0"):  # user 1 rated nothing
        fit_als(np.array([0, 0]), np.array([0, 1]), np.array([4.0, 3.0]), 2, 2, rank=1, reg=0.0, rng=rng)
