"""Active learners on Elicitation: they run (act and SB3's evaluate_policy), are deterministic, name
bad parameters, learn from answers, and ask questions users can answer; and the nDCG ordering."""

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.monitor import Monitor

from recworld.agents import AgentError, Responses, make_agent
from recworld.envs.context import env_context

pytestmark = pytest.mark.realdata

ACTIVE = ["entropy", "log-pop-entropy", "uncertainty", "committee", "expected-change"]
USERS = 50


@pytest.fixture(scope="module")
def elicitation():
    return gym.make_vec("recworld/Elicitation-v0", num_envs=USERS, vectorization_mode="vector_entry_point")


def episode(agent, env, seed=0):
    """One episode for every user of ``env`` (members 0..B-1): final nDCG gains, answers, questions."""
    b = env.num_envs
    agent.bind(env_context(env), b)
    observation, _ = env.reset(seed=seed, options={"members": np.arange(b)})
    gain, known, asked = np.zeros(b), np.zeros(b), []
    starting = np.ones(b, dtype=bool)
    for _ in range(env_context(env).horizon):
        actions = agent.act(observation, env.action_masks(), starting)
        starting[:] = False
        asked.append(actions)
        observation, reward, _, _, info = env.step(actions)
        gain += reward
        known += info["known"]
    return gain, known, np.stack(asked, axis=1)


def paired_ci(a, b):
    """Mean and 95% normal interval of the paired difference ``a - b``."""
    d = np.asarray(a) - np.asarray(b)
    half = 1.96 * d.std(ddof=1) / np.sqrt(len(d))
    return d.mean(), d.mean() - half, d.mean() + half


@pytest.mark.parametrize("name", ACTIVE)
def test_runs_through_act_without_repeating_and_deterministically(name, elicitation):
    _, _, asked = episode(make_agent(name, seed=3), elicitation)
    assert asked.shape == (USERS, 10)
    assert all(len(set(row)) == len(row) for row in asked.tolist())
    _, _, again = episode(make_agent(name, seed=3), elicitation)
    np.testing.assert_array_equal(asked, again)


@pytest.mark.parametrize("name", ACTIVE)
def test_runs_inside_stable_baselines3_evaluate_policy(name):
    env = gym.make("recworld/Elicitation-v0", budget=4)
    agent = make_agent(name).bind(env_context(env), 1)
    rewards, lengths = evaluate_policy(agent, Monitor(env), n_eval_episodes=2, return_episode_rewards=True)
    assert lengths == [4, 4]
    assert all(np.isfinite(rewards))


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("uncertainty", {"rank": 0}, "rank must be an integer in [1, 200], got 0"),
        ("uncertainty", {"rank": 2.5}, "rank must be an integer in [1, 200], got 2.5"),
        ("uncertainty", {"reg": 0.0}, "reg must be a number in (0, inf), got 0.0"),
        ("uncertainty", {"prior": -1}, "prior must be a number in (0, inf), got -1"),
        ("committee", {"members": 1}, "members must be an integer in [2, 50], got 1"),
        ("committee", {"members": 51}, "members must be an integer in [2, 50], got 51"),
        ("committee", {"rank": "ten"}, "rank must be an integer in [1, 200], got 'ten'"),
        ("entropy", {"rank": 3}, "agent 'entropy' has no parameter rank"),
    ],
)
def test_bad_parameters_are_named_with_their_range(name, params, message):
    with pytest.raises(AgentError) as caught:
        make_agent(name, **params)
    assert message in str(caught.value)


@pytest.mark.parametrize("name", ACTIVE)
def test_recommendation_environments_are_refused(name):
    env = gym.make("recworld/ColdStart-v0")
    with pytest.raises(AgentError, match=r"does not support ColdStart environments; it supports Elicitation"):
        make_agent(name).bind(env_context(env), 1)


def answer(agent, item, rating, known):
    agent.shown[0, item] = True
    agent.update(
        Responses(
            users=np.array([0]),
            items=np.array([[item]]),
            ratings=np.array([[rating]], dtype=float),
            taken=np.array([[known]]),
            signal=np.zeros((1, 1)),
        )
    )


@pytest.mark.parametrize("name", ["uncertainty", "committee", "expected-change"])
def test_adaptive_learners_learn_from_answers_but_not_from_dont_know(name):
    env = gym.make("recworld/Elicitation-v0")
    observation, _ = env.reset(seed=0)
    batch = {key: value[None] for key, value in observation.items()}
    agents = {case: make_agent(name).bind(env_context(env), 1) for case in ("none", "unknown", "known")}
    item = 49  # Star Wars: most users know it
    answer(agents["unknown"], item, 1.0, False)
    answer(agents["known"], item, 5.0, True)
    scores = {case: agent.scores(batch) for case, agent in agents.items()}
    np.testing.assert_allclose(scores["unknown"], scores["none"])  # "don't know" teaches the model nothing
    assert not np.allclose(scores["known"], scores["none"])


@pytest.mark.parametrize("name", ["log-pop-entropy", "uncertainty", "committee", "expected-change"])
def test_informed_learners_ask_questions_users_can_answer(name, elicitation):
    """The chance-of-knowing weight works: these learners get more answers than random questions."""
    _, known_random, _ = episode(make_agent("random"), elicitation)
    _, known, _ = episode(make_agent(name), elicitation)
    _, low, _ = paired_ci(known, known_random)
    assert low > 0, (name, known.mean(), known_random.mean())
