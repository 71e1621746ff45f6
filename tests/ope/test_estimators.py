"""Off-policy estimators: their defining properties on small logs written here, and agreement with
obp on the Open Bandit Dataset (values recorded by `scripts/obp_crosscheck.py`)."""

import json
from pathlib import Path

import numpy as np
import pytest

from recworld.ope import (
    ESTIMATORS,
    LoggedRounds,
    bernoulli_ts_action_dist,
    bootstrap_ratio,
    estimate,
    item_position_model,
    uniform_action_dist,
)

OBP_VALUES = Path(__file__).with_name("obp_values.json")


def random_log(n=4000, n_items=5, n_positions=3, seed=0):
    """A uniform-random logging policy; item a at position k is clicked with rate ``rates[a, k]``."""
    rng = np.random.default_rng(seed)
    rates = rng.uniform(0.05, 0.5, size=(n_items, n_positions))
    action = rng.integers(0, n_items, n)
    position = rng.integers(0, n_positions, n)
    reward = (rng.random(n) < rates[action, position]).astype(float)
    return LoggedRounds(action, position, reward, np.full(n, 1.0 / n_items)), rates


def test_evaluating_the_logging_policy_gives_its_mean_reward():
    rounds, _ = random_log()
    dist = uniform_action_dist(len(rounds.action), 5, 3)
    for name in ("ipw", "snipw"):
        assert estimate(name, rounds, dist)["estimate"] == pytest.approx(rounds.reward.mean())


def test_every_estimator_recovers_a_deterministic_policy_value_with_the_true_model():
    rounds, rates = random_log(n=20_000)
    n = len(rounds.action)
    dist = np.zeros((n, 5, 3))
    dist[:, 2, :] = 1.0  # always item 2
    truth = rates[2].mean()  # positions are uniform in the log
    q_true = np.broadcast_to(rates, (n, 5, 3))
    values = {name: estimate(name, rounds, dist, q_true, n_boot=500) for name in ESTIMATORS}
    for name, value in values.items():
        assert value["ci_low"] <= value["estimate"] <= value["ci_high"]
        assert value["estimate"] == pytest.approx(truth, abs=0.03), name
    assert values["dm"]["estimate"] == pytest.approx(truth, abs=1e-3)  # exact up to the positions' mix
    # DR with a useless model (all zeros) is IPW; DM with it is 0
    zeros = np.zeros((n, 5, 3))
    assert estimate("dr", rounds, dist, zeros)["estimate"] == pytest.approx(values["ipw"]["estimate"])
    assert estimate("dm", rounds, dist, zeros)["estimate"] == 0.0


def test_snipw_stays_in_the_reward_range_when_weights_are_extreme():
    rounds = LoggedRounds(
        np.array([0, 1, 1]), np.zeros(3, int), np.array([1.0, 0.0, 0.0]), np.array([1e-3, 0.5, 0.5])
    )
    dist = np.zeros((3, 2, 1))
    dist[:, 0, 0] = 1.0
    assert estimate("ipw", rounds, dist)["estimate"] > 1  # IPW can leave [0, 1]
    assert estimate("snipw", rounds, dist)["estimate"] == pytest.approx(1.0)


def test_the_cross_fitted_model_never_sees_its_own_round():
    rounds, _ = random_log(n=300)
    q_hat = item_position_model(rounds, 5, 3, n_folds=3, seed=1)
    assert q_hat.shape == (300, 5, 3) and np.all((q_hat >= 0) & (q_hat <= 1))
    # flipping one round's click changes the model of the other folds only
    flipped = LoggedRounds(rounds.action, rounds.position, rounds.reward.copy(), rounds.pscore)
    flipped.reward[0] = 1 - flipped.reward[0]
    again = item_position_model(flipped, 5, 3, n_folds=3, seed=1)
    np.testing.assert_array_equal(again[0], q_hat[0])
    assert not np.array_equal(again, q_hat)


def test_bootstrap_intervals_are_reproducible_and_cover_the_mean():
    values = np.random.default_rng(0).random(500)
    first = bootstrap_ratio(values, rng=np.random.default_rng(3))
    assert first == bootstrap_ratio(values, rng=np.random.default_rng(3))
    assert first["ci_low"] < values.mean() < first["ci_high"]
    assert first["ci_high"] - first["ci_low"] == pytest.approx(
        2 * 1.96 * values.std() / np.sqrt(500), rel=0.2
    )


def test_thompson_sampling_distribution_is_a_distribution_per_position():
    alpha, beta = np.array([5.0, 1.0, 1.0, 20.0]), np.array([5.0, 9.0, 1.0, 2.0])
    dist = bernoulli_ts_action_dist(alpha, beta, 2, 3, n_sim=20_000, rng=np.random.default_rng(0))
    assert dist.shape == (2, 4, 3)
    np.testing.assert_allclose(dist[0].sum(axis=0), 1.0)
    assert dist[0, 3, 0] > 0.9  # mean 0.91: almost always first
    again = bernoulli_ts_action_dist(alpha, beta, 2, 3, n_sim=20_000, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(dist, again)


def test_bad_inputs_are_named():
    rounds, _ = random_log(n=10)
    with pytest.raises(ValueError, match="unknown estimator 'switch'"):
        estimate("switch", rounds, uniform_action_dist(10, 5, 3))
    with pytest.raises(ValueError, match="needs a reward model"):
        estimate("dr", rounds, uniform_action_dist(10, 5, 3))
    with pytest.raises(ValueError, match=r"action_dist must be \(n_rounds, n_items, n_positions\)"):
        estimate("ipw", rounds, np.ones((10, 5)))
    with pytest.raises(ValueError, match="propensity must be > 0"):
        LoggedRounds(np.zeros(2, int), np.zeros(2, int), np.zeros(2), np.array([0.5, 0.0]))


@pytest.mark.realdata
def test_the_estimators_agree_with_obp_on_the_open_bandit_dataset():
    from recworld.data.obd import load_obd
    from recworld.ope.evaluation import action_dist, rounds_of

    recorded = json.loads(OBP_VALUES.read_text())
    for campaign in ("all", "men", "women"):
        logs = {policy: load_obd(campaign, policy) for policy in ("random", "bts")}
        for target, behaviour in (("bts", "random"), ("random", "bts")):
            log, key = logs[behaviour], f"{campaign}_{target}_from_{behaviour}"
            rounds = rounds_of(log)
            dist = action_dist(target, log, logs[target], seed=0, n_sim=100_000)
            q_hat = item_position_model(rounds, log.n_items, log.n_positions, seed=0)
            for name in ESTIMATORS:
                ours = estimate(name, rounds, dist, q_hat, n_boot=10)["estimate"]
                assert ours == pytest.approx(recorded[key][name], rel=1e-9), (key, name)
            if target == "bts":  # obp's own Monte Carlo of the production prior, another random stream
                ours = estimate("ipw", rounds, dist, n_boot=10)["estimate"]
                assert ours == pytest.approx(recorded[key]["ipw_obp_policy"], rel=0.03), key
