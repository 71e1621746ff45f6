"""One cell: the evaluation protocol, its metrics, and failures as records."""

import numpy as np
import pytest

from recworld.benchmarks.cell import intra_list_diversity, run_cell
from recworld.benchmarks.suite import Cell


def cell(agent, env="ColdStart", seed=0, batch=0, **kwargs):
    return Cell(
        env=env,
        env_id=f"recworld/{env}-v0",
        env_kwargs=kwargs,
        agent=agent,
        agent_name=agent,
        params={},
        seed=seed,
        budget=100,
        batch=batch,
    )


def comparable(record):
    return record.model_dump(exclude={"seconds", "machine"})


def test_intra_list_diversity_by_hand():
    genres = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, 0.0]])
    shown = np.array(
        [
            [True, True, False, False],  # orthogonal: distance 1
            [True, False, False, True],  # identical: distance 0
            [True, True, True, False],  # pairs: 1, 1 - 1/sqrt2, 1 - 1/sqrt2
            [True, False, False, False],  # a single item: undefined
        ]
    )
    expected = [1.0, 0.0, (3 - np.sqrt(2)) / 3, np.nan]
    np.testing.assert_allclose(intra_list_diversity(shown, genres), expected)


@pytest.mark.realdata
def test_cold_start_cell_every_test_user_once():
    record = run_cell(cell("popularity", horizon=5))
    assert record.status == "ok", record.error
    n = record.n_users
    assert len(record.users) == len(set(record.users)) == n
    returns = np.array(record.per_user["return"])
    assert returns.shape == (n,) and len(record.curve["mean"]) == 5
    assert sum(record.curve["mean"]) == pytest.approx(returns.mean())
    assert 0 < record.metrics["coverage"] < 1 and record.metrics["regret"] >= 0
    assert 0 <= record.metrics["like_rate"] <= 1
    assert record.kind == "ColdStart" and record.learning_curve == []


@pytest.mark.realdata
def test_engagement_counts_each_users_first_session_only():
    record = run_cell(cell("popularity", env="Engagement", horizon=30))
    assert record.status == "ok", record.error
    length = np.array(record.per_user["session_length"])
    left = np.array(record.per_user["leave_rate"])
    assert length.max() <= 30 and np.all(length[left == 0] == 30) and 0 < left.mean() < 1
    assert len(record.curve["mean"]) == length.max()
    assert sum(record.curve["mean"]) == pytest.approx(np.mean(record.per_user["return"]))


@pytest.mark.realdata
def test_results_do_not_depend_on_the_batch_and_seeds_differ():
    whole = run_cell(cell("oracle", horizon=5))
    batched = run_cell(cell("oracle", horizon=5, batch=30))
    assert whole.per_user == batched.per_user and whole.users == batched.users
    assert comparable(run_cell(cell("oracle", horizon=5))) == comparable(whole)
    other_seed = run_cell(cell("oracle", horizon=5, seed=1))
    assert other_seed.per_user["return"] != whole.per_user["return"]


@pytest.mark.realdata
def test_elicitation_metrics():
    record = run_cell(cell("popularity", env="Elicitation", budget=3))
    assert record.status == "ok", record.error
    assert set(record.per_user) >= {"ndcg", "answer_rate", "return", "like_rate", "diversity"}
    assert "regret" not in record.per_user and record.env_info["k"] == 10
    assert 0 < record.metrics["ndcg"] <= 1


def test_a_failing_cell_is_a_record_with_its_traceback():
    record = run_cell(cell("no-such-agent"))
    assert record.status == "failed"
    error = record.error
    assert error["phase"] == "agent" and error["type"] == "AgentError"
    assert "no-such-agent" in error["message"] and "Traceback" in error["traceback"]


@pytest.mark.realdata
def test_agents_never_learn_from_the_episodes_that_restart_after_a_user_leaves():
    """Each user's answers reach the agent once per step of their first session, never more."""
    import gymnasium as gym

    from recworld.agents import make_agent
    from recworld.benchmarks.cell import _rollout
    from recworld.envs.context import env_context

    members = np.arange(40)
    env = gym.make_vec(
        "recworld/Engagement-v0", num_envs=len(members), vectorization_mode="vector_entry_point", horizon=30
    )
    agent = make_agent("thompson").bind(env_context(env), len(members))
    answers = np.zeros(len(members), dtype=int)
    learn = agent.update

    def counting(responses):
        answers[responses.users] += 1
        learn(responses)

    agent.update = counting
    result = _rollout(env, agent, members, seed=0)
    length = result["per_user"]["session_length"].astype(int)
    assert (length < 30).any()  # some users left early and were restarted
    # every answer of the session is read once, the last one at the next step (if there is one)
    assert np.all(answers <= length) and np.all(answers >= length - 1)
