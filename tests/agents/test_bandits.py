"""Bandits and meta agents: cross-checks against MABWiser and closed forms, and the orderings the
science expects on ColdStart (with 95% intervals over users)."""

import gymnasium as gym
import numpy as np
import pytest

from recworld.agents import AGENTS, AgentError, Responses, make_agent
from recworld.envs.context import env_context, kernel_of

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def cold_start():
    return gym.make_vec(
        "recworld/ColdStart-v0", num_envs=94, vectorization_mode="vector_entry_point", users="test"
    )


def feed(agent, items, signals, ratings=None):
    """Give one user's responses to the agent, one step at a time."""
    for item, signal in zip(items, signals, strict=True):
        rating = signal if ratings is None else ratings
        agent.update(
            Responses(
                users=np.array([0]),
                items=np.array([[item]]),
                ratings=np.array([[rating]], dtype=float),
                taken=np.array([[True]]),
                signal=np.array([[signal]], dtype=float),
            )
        )


def test_linucb_chooses_the_same_items_as_mabwiser(cold_start):
    mabwiser = pytest.importorskip("mabwiser.mab")
    agent = make_agent("linucb", alpha=0.7, reg=2.0).bind(env_context(cold_start), 1)
    agent.offset = np.zeros_like(agent.offset)  # MABWiser's LinUCB has no offset
    agent.noise = 1.0
    reference = mabwiser.MAB(
        arms=["user"], learning_policy=mabwiser.LearningPolicy.LinUCB(alpha=0.7, l2_lambda=2.0), seed=0
    )
    rng = np.random.default_rng(0)
    allowed = np.ones((1, agent.x.shape[0]), dtype=bool)
    items, rewards = [], []
    for _ in range(12):
        ours = int(agent.choose({}, allowed)[0, 0])
        expectations = reference.predict_expectations(agent.x) if items else None
        if expectations is not None:
            theirs = int(np.argmax(np.where(allowed[0], [e["user"] for e in expectations], -np.inf)))
            assert ours == theirs
        reward = float(rng.integers(1, 6))
        feed(agent, [ours], [reward])
        items.append(ours)
        rewards.append(reward)
        reference.fit(decisions=["user"] * len(items), rewards=rewards, contexts=agent.x[items])
        allowed[0, ours] = False  # our agent never repeats; keep MABWiser's choice comparable
        agent_scores = np.array([e["user"] for e in reference.predict_expectations(agent.x)])
        mean, covariance = agent.posterior()
        width = np.sqrt(np.einsum("id,de,ie->i", agent.x, covariance[0], agent.x))
        np.testing.assert_allclose(mean[0] @ agent.x.T + 0.7 * width, agent_scores, rtol=1e-6)


def test_epsilon_greedy_agrees_with_mabwiser_when_greedy_and_explores_at_its_rate(cold_start):
    mabwiser = pytest.importorskip("mabwiser.mab")
    agent = make_agent("epsilon-greedy", epsilon=0.0).bind(env_context(cold_start), 1)
    arms = np.arange(8)
    agent.pulls = np.full_like(agent.pulls, 1e-12)  # no prior, as in MABWiser
    agent.total = np.zeros_like(agent.total)
    reference = mabwiser.MAB(
        arms=list(arms), learning_policy=mabwiser.LearningPolicy.EpsilonGreedy(epsilon=0.0)
    )
    allowed = np.zeros((1, agent.pulls.size), dtype=bool)
    allowed[0, arms] = True
    rng = np.random.default_rng(1)
    quality = rng.random(8)
    decisions, rewards = [0, 1, 2, 3, 4, 5, 6, 7], list(rng.normal(quality, 0.3))
    feed(agent, decisions, rewards)
    reference.fit(decisions=decisions, rewards=rewards)
    for _ in range(50):
        ours = int(agent.choose({}, allowed)[0, 0])
        assert ours == reference.predict()
        reward = float(rng.normal(quality[ours], 0.3))
        feed(agent, [ours], [reward])
        reference.partial_fit(decisions=[ours], rewards=[reward])
    explorer = make_agent("epsilon-greedy", epsilon=0.3, seed=5).bind(env_context(cold_start), 94)
    picks = np.array([explorer.choose({}, np.ones((94, agent.pulls.size), bool))[:, 0] for _ in range(20)])
    best = int(np.argmax(explorer.means))
    assert abs((picks != best).mean() - 0.3) < 0.05  # random picks are almost never the best item


def test_thompson_posteriors_match_the_closed_form(cold_start):
    context = env_context(gym.make("recworld/ColdStart-v0", reward="like"))
    agent = make_agent("thompson", prior_strength=4.0).bind(context, 1)
    alpha0, beta0 = (p.copy() for p in agent.posterior_parameters())
    feed(agent, [7, 7, 7, 9], [1.0, 0.0, 1.0, 0.0])
    alpha, beta = agent.posterior_parameters()
    assert alpha[7] == pytest.approx(alpha0[7] + 2) and beta[7] == pytest.approx(beta0[7] + 1)
    assert alpha[9] == pytest.approx(alpha0[9]) and beta[9] == pytest.approx(beta0[9] + 1)
    # The prior is Beta(1 + m * p, 1 + m * (1 - p)) with m = min(count, strength) + 1 pulls.
    assert alpha0[7] + beta0[7] == pytest.approx(2 + agent.pulls[7] - 3)

    gaussian = make_agent("thompson").bind(env_context(cold_start), 1)
    mean0, std0 = (p.copy() for p in gaussian.posterior_parameters())
    feed(gaussian, [3, 3], [5.0, 4.0])
    mean, std = gaussian.posterior_parameters()
    pulls = gaussian.pulls[3]
    assert mean[3] == pytest.approx((mean0[3] * (pulls - 2) + 9.0) / pulls)
    assert std[3] == pytest.approx(gaussian.noise / np.sqrt(pulls)) and std[3] < std0[3]


def run(env, name, seeds=(0, 1), steps=20):
    """Per-user returns over all test users and seeds, and the returns of the first 10 steps."""
    totals, firsts = [], []
    n = len(kernel_of(env).world.population)
    for seed in seeds:
        agent = make_agent(name, seed=seed)
        if agent.privileged:
            agent.attach(env)
        agent.bind(env_context(env), env.num_envs)
        obs, _ = env.reset(seed=seed, options={"members": np.arange(n)})
        start = np.ones(env.num_envs, dtype=bool)
        total, first = np.zeros(env.num_envs), np.zeros(env.num_envs)
        for t in range(steps):
            obs, reward, *_ = env.step(agent.act(obs, env.action_masks(), start))
            start[:] = False
            total += reward
            first += reward if t < 10 else 0.0
        totals.append(total)
        firsts.append(first)
    return np.concatenate(totals), np.concatenate(firsts)


def beats(a, b):
    """The paired difference's 95% interval lies above zero."""
    difference = a - b
    return difference.mean() - 1.96 * difference.std(ddof=1) / np.sqrt(len(difference)) > 0


@pytest.mark.expensive
def test_the_orderings_the_science_expects(cold_start):
    returns = {
        name: run(cold_start, name)
        for name in ("random", "popularity", "thompson", "linucb", "meta-greedy", "meta-ucb", "oracle")
    }
    total = {name: r[0] for name, r in returns.items()}
    first10 = {name: r[1] for name, r in returns.items()}
    assert beats(total["popularity"], total["random"])
    assert beats(total["thompson"], total["popularity"])
    assert beats(total["linucb"], total["popularity"])
    assert beats(first10["meta-greedy"], first10["linucb"])
    assert beats(first10["meta-ucb"], first10["linucb"])
    for name in total:
        if name != "oracle":
            assert beats(total["oracle"], total[name]), name


def test_same_seed_same_actions(cold_start):
    for name in ("thompson", "lin-thompson", "epsilon-greedy"):
        a = run(cold_start, name, seeds=(3,), steps=5)
        b = run(cold_start, name, seeds=(3,), steps=5)
        np.testing.assert_array_equal(a[0], b[0])


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("epsilon-greedy", {"epsilon": 1.5}, r"epsilon must be in \[0, 1\], got 1.5"),
        ("ucb1", {"c": 0}, r"c must be > 0, got 0"),
        ("linucb", {"features": "tags"}, "features must be 'genres', 'mf' or 'meta', got 'tags'"),
        ("linucb", {"rank": 0}, r"rank must be in 1\.\.100, got 0"),
        ("thompson", {"prior_strength": -1}, "prior_strength must be > 0"),
        ("meta-ucb", {"beta": -1}, "beta must be >= 0"),
        ("thompson", {"temperature": 2}, "agent 'thompson' has no parameter temperature; its parameters: "),
        ("bandit", {}, "unknown agent 'bandit'; known agents: random, popularity, oracle"),
    ],
)
def test_bad_agent_arguments_are_named(name, params, message):
    with pytest.raises(AgentError, match=message):
        make_agent(name, **params)


def test_agents_refuse_environments_they_cannot_handle():
    elicitation = env_context(gym.make("recworld/Elicitation-v0"))
    with pytest.raises(
        AgentError, match="agent 'linucb' does not support Elicitation environments; it supports"
    ):
        make_agent("linucb").bind(elicitation, 1)
    with pytest.raises(AgentError, match="not bound"):
        make_agent("random").act({"progress": np.zeros((1, 1))})
    with pytest.raises(AgentError, match="needs the environment"):
        oracle = make_agent("oracle").bind(env_context(gym.make("recworld/ColdStart-v0")), 1)
        oracle.choose({}, np.ones((1, 1682), dtype=bool))


def test_agents_work_inside_stable_baselines3_evaluate_policy():
    from stable_baselines3.common.evaluation import evaluate_policy

    env = gym.make("recworld/ColdStart-v0", horizon=10)
    for name in ("popularity", "linucb", "meta-greedy"):
        agent = make_agent(name).bind(env_context(env), 1)
        mean, _ = evaluate_policy(agent, env, n_eval_episodes=3, warn=False)
        assert 10 <= mean <= 50
    assert "meta-elicitation" in AGENTS and AGENTS["meta-elicitation"].supports == {"Elicitation"}


@pytest.mark.parametrize(
    "options",
    [
        {"reward": "click"},
        {"reward": "click", "slate_size": 3},
        {"reward": "surprise", "predictor": np.full(1682, 4.5)},
        {"reward": "like"},
    ],
    ids=["click", "click-slate", "surprise-predictor", "like"],
)
def test_the_signal_agents_learn_from_is_the_environments_reward(options):
    env = gym.make_vec(
        "recworld/ColdStart-v0", num_envs=16, vectorization_mode="vector_entry_point", **options
    )
    agent = make_agent("random").bind(env_context(env), 16)
    observation, _ = env.reset(seed=0)
    starting = np.ones(16, dtype=bool)
    for _ in range(5):
        actions = agent.act(observation, env.action_masks(), starting)
        starting[:] = False
        observation, reward, *_ = env.step(actions)
        signal = agent._responses(observation, np.arange(16)).signal.sum(axis=1)
        np.testing.assert_allclose(signal, reward, rtol=1e-5, atol=1e-5)
