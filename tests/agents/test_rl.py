"""Feedback RL (q-learning, sarsa, linear-q, slate-q) on ColdStart and Engagement: they run (act, SB3's
evaluate_policy, slates), learn in `fit` on training users, are deterministic, name bad parameters,
and a small `fit` makes q-learning no worse than random on Engagement."""

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.monitor import Monitor

from recworld.agents import AgentError, make_agent
from recworld.envs.context import env_context

pytestmark = pytest.mark.realdata

RL = ["q-learning", "sarsa", "linear-q", "slate-q"]
WEIGHTS = {"linear-q", "slate-q"}  # the linear learners; the others keep a table
CONFIGS = [
    ("recworld/ColdStart-v0", {"horizon": 15}),
    ("recworld/Engagement-v0", {"horizon": 40}),
    ("recworld/Engagement-v0", {"horizon": 20, "slate_size": 3, "choice_model": "cascade", "reward": "like"}),
]
CONFIG_IDS = ["coldstart", "engagement", "engagement-slate"]


def rollout(agent, env_id, kwargs, users=6, seed=0):
    """One episode per user (members 0..users-1) through `act`; returns (returns, actions)."""
    env = gym.make_vec(env_id, num_envs=users, vectorization_mode="vector_entry_point", **kwargs)
    agent.bind(env_context(env), users)
    observation, _ = env.reset(seed=seed, options={"members": np.arange(users)})
    returns, alive, actions = np.zeros(users), np.ones(users, dtype=bool), []
    starting = np.ones(users, dtype=bool)
    while alive.any():
        action = agent.act(observation, env.action_masks(), starting)
        starting[:] = False
        actions.append(action)
        observation, reward, terminated, truncated, _ = env.step(action)
        returns += reward * alive
        alive &= ~(terminated | truncated)
    return returns, np.stack(actions, axis=1)


@pytest.mark.parametrize("name", RL)
@pytest.mark.parametrize(("env_id", "kwargs"), CONFIGS, ids=CONFIG_IDS)
def test_runs_through_act_without_repeats_and_deterministically(name, env_id, kwargs):
    returns, actions = rollout(make_agent(name, seed=2), env_id, kwargs)
    assert np.isfinite(returns).all()
    flat = actions.reshape(len(actions), -1)
    assert all(len(set(row)) == len(row) for row in flat.tolist())  # never an item twice
    again, actions_again = rollout(make_agent(name, seed=2), env_id, kwargs)
    np.testing.assert_array_equal(actions, actions_again)
    np.testing.assert_array_equal(returns, again)


@pytest.mark.parametrize("name", RL)
def test_runs_inside_stable_baselines3_evaluate_policy(name):
    env = gym.make("recworld/Engagement-v0", horizon=15)
    agent = make_agent(name).bind(env_context(env), 1)
    rewards, lengths = evaluate_policy(agent, Monitor(env), n_eval_episodes=2, return_episode_rewards=True)
    assert all(1 <= n <= 15 for n in lengths) and all(np.isfinite(rewards))


@pytest.mark.parametrize("name", RL)
def test_fit_learns_on_training_users_and_is_deterministic(name, monkeypatch):
    kwargs = {"horizon": 30, "users": "test"}
    made, original = [], gym.make_vec

    def make_vec(*args, **options):
        made.append(options)
        return original(*args, **options)

    monkeypatch.setattr("recworld.agents.rl.gymnasium.make_vec", make_vec)
    first = make_agent(name, seed=1, n_envs=4)
    curve = first.fit("recworld/Engagement-v0", kwargs, 600)
    assert made[0]["users"] == "train" and made[0]["num_envs"] == 4
    assert curve and all(isinstance(t, int) and np.isfinite(r) for t, r in curve)
    assert [t for t, _ in curve] == sorted(t for t, _ in curve) and curve[-1][0] <= 600 + 4
    learned = first.weights.copy() if name in WEIGHTS else first.q.copy()
    assert np.abs(learned).sum() > 0
    second = make_agent(name, seed=1, n_envs=4)
    assert second.fit("recworld/Engagement-v0", kwargs, 600) == curve
    np.testing.assert_array_equal(second.weights if name in WEIGHTS else second.q, learned)
    # what was learned survives binding to the evaluation environment
    second.bind(env_context(gym.make("recworld/Engagement-v0", **kwargs)), 1)
    np.testing.assert_array_equal(second.weights if name in WEIGHTS else second.q, learned)
    assert make_agent(name).fit("recworld/Engagement-v0", kwargs, 0) == []


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("q-learning", {"alpha": 0.0}, "alpha must be a number in (0, 1], got 0.0"),
        ("sarsa", {"alpha": 1.5}, "alpha must be a number in (0, 1], got 1.5"),
        ("q-learning", {"gamma": 1.0}, "gamma must be a number in [0, 1), got 1.0"),
        ("linear-q", {"epsilon": -0.1}, "epsilon must be a number in [0, 1], got -0.1"),
        ("linear-q", {"n_envs": 0}, "n_envs must be an integer in [1, 1024], got 0"),
        ("sarsa", {"beta": 1}, "agent 'sarsa' has no parameter beta"),
    ],
)
def test_bad_parameters_are_named_with_their_range(name, params, message):
    with pytest.raises(AgentError) as caught:
        make_agent(name, **params)
    assert message in str(caught.value)


@pytest.mark.parametrize("name", RL)
def test_elicitation_is_refused(name):
    env = gym.make("recworld/Elicitation-v0")
    with pytest.raises(AgentError, match="does not support Elicitation environments"):
        make_agent(name).bind(env_context(env), 1)
    with pytest.raises(AgentError, match="timesteps must be an integer in"):
        make_agent(name).fit("recworld/Engagement-v0", {}, -1)


def test_q_learning_after_a_small_fit_is_not_worse_than_random_on_engagement():
    """50 test users, paired (same users, same seeds); 95% interval of q-learning minus random."""
    agent = make_agent("q-learning", seed=0)
    agent.fit("recworld/Engagement-v0", {}, 3000)
    learned, _ = rollout(agent, "recworld/Engagement-v0", {}, users=50, seed=100)
    random, _ = rollout(make_agent("random"), "recworld/Engagement-v0", {}, users=50, seed=100)
    d = learned - random
    low = d.mean() - 1.96 * d.std(ddof=1) / np.sqrt(len(d))
    assert low > 0, (learned.mean(), random.mean())


def test_training_runs_at_different_seeds_share_no_user_stream():
    from recworld.agents.base import training_seed

    seeds = [training_seed(s) for s in range(10)]
    # vector training envs seed user i with s + i: 64 users at seeds 0..9 must not overlap
    streams = [set(range(s, s + 64)) for s in seeds]
    assert all(not (a & b) for i, a in enumerate(streams) for b in streams[i + 1 :])
    assert training_seed(3) == training_seed(3)


def test_slate_q_learns_that_wearing_users_out_costs_later():
    """On the default Engagement dynamics, repetition rates well now and costs satisfaction later:
    slate-q starts greedy on the shared estimate (repetition weights 0) and learns to avoid it."""
    agent = make_agent("slate-q", seed=0)
    assert agent.weights[2:4].tolist() == [0.0, 0.0]
    agent.fit("recworld/Engagement-v0", {}, 20_000)
    assert agent.weights[2] + agent.weights[3] < 0, agent.weights
    assert agent.weights[1] > 0  # a good film is still worth showing


def test_learn_takes_an_environment_in_stable_baselines3_shape():
    env = gym.make("recworld/Engagement-v0", horizon=20, users="test")
    agent = make_agent("slate-q", seed=0, n_envs=4)
    assert agent.learn(env, 400) is agent
    assert agent.learning_curve and agent.learning_curve[-1][0] <= 404
    again = make_agent("slate-q", seed=0, n_envs=4).learn(gym.make("recworld/Engagement-v0", horizon=20), 400)
    np.testing.assert_array_equal(again.weights, agent.weights)  # trained on training users either way
    assert make_agent("ucb1").learn(env, 100).learning_curve == []  # online learners: nothing to do
    with pytest.raises(AgentError, match=r"made with gymnasium\.make"):
        make_agent("slate-q").learn(object(), 10)
