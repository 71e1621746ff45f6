"""Engagement's delayed effects, pinned by the two privileged references: in the default dynamics a
planner given the true state beats the myopic oracle by a wide margin; in the control dynamics,
where nothing carries over, the two choose the same films."""

import gymnasium as gym
import numpy as np
import pytest

import recworld  # noqa: F401 - registers the environments
from recworld.agents import AgentError, make_agent
from recworld.benchmarks.cell import evaluate
from recworld.benchmarks.suite import Cell

pytestmark = pytest.mark.realdata


def returns(agent, dynamics, seeds=(0, 1), horizon=100):
    """Per-user returns over every test user, one row per seed."""
    kwargs = {"horizon": horizon, "dynamics": dynamics}
    rows = []
    for seed in seeds:
        cell = Cell(
            env="Engagement",
            env_id="recworld/Engagement-v0",
            env_kwargs=kwargs,
            agent=agent,
            agent_name=agent,
            params={},
            seed=seed,
            budget=0,
        )
        rows.append(evaluate(make_agent(agent, seed=seed), cell)["per_user"]["return"])
    return np.asarray(rows)


def test_the_planner_beats_the_myopic_oracle_when_the_long_run_matters():
    planner, oracle = returns("oracle-planner", "default"), returns("oracle", "default")
    difference = (planner - oracle).ravel()
    low = difference.mean() - 1.96 * difference.std(ddof=1) / np.sqrt(difference.size)
    assert low > 0.10 * oracle.mean(), (planner.mean(), oracle.mean())


def test_planner_and_oracle_tie_in_the_control():
    np.testing.assert_array_equal(returns("oracle-planner", "control"), returns("oracle", "control"))


def test_the_planner_is_for_engagement_with_one_item_per_step():
    with pytest.raises(AgentError, match="depth must be an integer in"):
        make_agent("oracle-planner", depth=0)
    env = gym.make_vec(
        "recworld/Engagement-v0", num_envs=2, vectorization_mode="vector_entry_point", slate_size=3, horizon=5
    )
    from recworld.envs.context import env_context

    agent = make_agent("oracle-planner").bind(env_context(env), 2).attach(env)
    observation, _ = env.reset(seed=0)
    with pytest.raises(ValueError, match="one item per step; slate_size=3"):
        agent.act(observation, env.action_masks(), np.ones(2, dtype=bool))


def test_unknown_dynamics_are_named():
    with pytest.raises(ValueError, match="unknown component 'mood'"):
        gym.make("recworld/Engagement-v0", dynamics={"mood": {}})
    with pytest.raises(ValueError, match=r"memory=2 \(allowed: \[0, 1\]\)"):
        gym.make("recworld/Engagement-v0", dynamics={"satisfaction": {"memory": 2}})


def test_sessions_end_and_users_come_back():
    """Over long episodes users have several sessions, and `info["session"]` counts them."""
    env = gym.make_vec(
        "recworld/Engagement-v0", num_envs=32, vectorization_mode="vector_entry_point", horizon=100
    )
    env.reset(seed=0)
    most = np.ones(32, dtype=np.int64)
    alive = np.ones(32, dtype=bool)
    for _ in range(100):
        masks = env.action_masks()
        _, _, terminated, truncated, info = env.step(masks.argmax(axis=1))
        most = np.where(alive, np.maximum(most, info["session"]), most)
        alive &= ~(terminated | truncated)
    assert most.max() >= 2
    assert set(info) >= {"satisfaction", "session"}
