"""`recworld/OBD-Replay-v0`: Li et al.'s replay of uniform-random logs, with recworld's bandits unchanged."""

import warnings

import gymnasium as gym
import numpy as np
import pytest

import recworld  # noqa: F401 - registers the environments
from recworld.agents import AgentError, make_agent
from recworld.envs.context import env_context

pytestmark = pytest.mark.realdata


def test_both_checkers_pass_without_warnings():
    from gymnasium.utils.env_checker import check_env
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    env = gym.make("recworld/OBD-Replay-v0", rounds=200)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped)
        sb3_check_env(env.unwrapped, warn=True)


def test_a_round_counts_only_when_the_pick_matches_the_log():
    env = gym.make("recworld/OBD-Replay-v0", rounds=500)
    log = env.unwrapped.log
    env.reset(seed=0)
    clicks = 0.0
    for t in range(500):  # the logging policy itself: every round matches
        observation, reward, terminated, truncated, info = env.step(int(log.action[t]))
        assert info["matched"] == 1 and reward == log.reward[t] and info["position"] == log.position[t]
        clicks += reward
    assert truncated and not terminated and clicks == log.reward[:500].sum()
    env.reset(seed=0)
    other = (int(log.action[0]) + 1) % log.n_items
    observation, reward, _, _, info = env.step(other)
    assert info["matched"] == 0 and reward == 0.0
    assert observation["recent_responses"][2] == 0.0  # nothing was shown


@pytest.mark.parametrize(
    "name", ["random", "popularity", "epsilon-greedy", "ucb1", "thompson", "linucb", "lin-thompson"]
)
def test_bandits_run_unchanged_and_learn_only_from_matched_rounds(name):
    env = gym.make("recworld/OBD-Replay-v0", rounds=800)
    agent = make_agent(name, seed=0).bind(env_context(env), 1)
    updates = []
    original = agent.update
    agent.update = lambda responses: (updates.append(responses.taken.copy()), original(responses))
    observation, _ = env.reset(seed=0)
    start, matched, done = np.ones(1, bool), 0, False
    while not done:
        action = agent.act({k: v[None] for k, v in observation.items()}, None, start)
        start[:] = False
        observation, _, terminated, truncated, info = env.step(int(action[0]))
        matched += info["matched"]
        done = terminated or truncated
    assert 0 < matched < 800
    assert all(taken.all() for taken in updates) and len(updates) <= matched


def test_every_round_is_a_new_visit_so_items_may_come_again():
    """A replay agent is never out of items: after more rounds than items, picks still vary."""
    env = gym.make("recworld/OBD-Replay-v0", rounds=400)
    agent = make_agent("random", seed=0).bind(env_context(env), 1)
    observation, _ = env.reset(seed=0)
    picks, start = [], np.ones(1, bool)
    for _ in range(400):
        action = int(agent.act({k: v[None] for k, v in observation.items()}, None, start)[0])
        start[:] = False
        picks.append(action)
        observation, *_ = env.step(action)
    assert len(set(picks[200:])) > 60  # of 80 items, in the last 200 rounds


def test_the_benchmark_scores_click_rates_over_matched_rounds(tmp_path):
    from recworld.benchmarks.runner import run_suite
    from recworld.benchmarks.suite import parse_suite

    suite = parse_suite(
        'seeds = [0, 1]\n[[envs]]\nid = "recworld/OBD-Replay-v0"\nkwargs = { rounds = 2000 }\n'
        'agents = ["random", "ucb1"]\n'
    )
    result = run_suite(suite, tmp_path, workers=0, progress=False)
    assert result.ok
    table = result.summary["envs"]["OBD-Replay"]
    for agent in ("random", "ucb1"):
        metrics = table["agents"][agent]["metrics"]
        assert 0 <= metrics["return"]["mean"] <= 1 and metrics["matched"]["mean"] > 0


def test_bad_arguments_and_unsupported_agents_are_named():
    with pytest.raises(ValueError, match=r"rounds=0 must be an integer in 1\.\.10000"):
        gym.make("recworld/OBD-Replay-v0", rounds=0)
    env = gym.make("recworld/OBD-Replay-v0", rounds=10)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"action 80 is outside the campaign: items are 0\.\.79"):
        env.step(80)
    with pytest.raises(AgentError, match="does not support Replay environments"):
        make_agent("q-learning").bind(env_context(env), 1)
