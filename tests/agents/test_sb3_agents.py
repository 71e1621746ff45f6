"""The stable-baselines3 adapter (ppo, a2c, dqn, maskable-ppo): fit on training users, act in a
vector env and inside SB3's evaluate_policy, determinism, save/load, masking, clear errors."""

import sys

import gymnasium as gym
import numpy as np
import pytest
import torch
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.monitor import Monitor

from recworld.agents import AgentError, make_agent
from recworld.envs.context import env_context

pytestmark = pytest.mark.realdata

ENV_ID, KWARGS, STEPS = "recworld/ColdStart-v0", {"horizon": 10}, 128
TINY = {
    "ppo": {"hyperparams": {"n_steps": 32, "batch_size": 32, "n_epochs": 2}},
    "a2c": {},
    "dqn": {"hyperparams": {"learning_starts": 32}},
    "maskable-ppo": {"hyperparams": {"n_steps": 32, "batch_size": 32, "n_epochs": 2}},
}
SB3 = list(TINY)


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """Tiny networks train faster on one thread; restore the setting afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def fitted(name, seed=0):
    agent = make_agent(name, seed=seed, n_envs=2, net_arch=[32], **TINY[name])
    curve = agent.fit(ENV_ID, KWARGS, STEPS)
    return agent, curve


@pytest.fixture(scope="module")
def agents():
    return {name: fitted(name) for name in SB3}


def observations(users=4, seed=0):
    env = gym.make_vec(ENV_ID, num_envs=users, vectorization_mode="vector_entry_point", **KWARGS)
    observation, _ = env.reset(seed=seed, options={"members": np.arange(users)})
    return env, observation


@pytest.mark.parametrize("name", SB3)
def test_fit_returns_a_learning_curve_and_acts_in_a_vector_env(name, agents):
    agent, curve = agents[name]
    assert curve and all(0 < t <= STEPS + 32 and np.isfinite(r) for t, r in curve)
    env, observation = observations()
    agent.bind(env_context(env), 4)
    starting = np.ones(4, dtype=bool)
    for _ in range(10):
        actions = agent.act(observation, env.action_masks(), starting)
        starting[:] = False
        assert actions.shape == (4,) and ((0 <= actions) & (actions < 1682)).all()
        observation, *_ = env.step(actions)


@pytest.mark.parametrize("name", SB3)
def test_runs_inside_stable_baselines3_evaluate_policy(name, agents):
    agent, _ = agents[name]
    env = gym.make(ENV_ID, **KWARGS)
    agent.bind(env_context(env), 1)
    rewards, lengths = evaluate_policy(agent, Monitor(env), n_eval_episodes=2, return_episode_rewards=True)
    assert lengths == [10, 10] and all(np.isfinite(rewards))


def test_same_seed_same_model():
    first, curve = fitted("ppo", seed=5)
    second, again = fitted("ppo", seed=5)
    assert curve == again
    env, observation = observations()
    for agent in (first, second):
        agent.bind(env_context(env), 4)
    np.testing.assert_array_equal(
        first.choose(observation, ~first.shown), second.choose(observation, ~second.shown)
    )


@pytest.mark.parametrize("name", SB3)
def test_save_and_load_round_trip(name, agents, tmp_path):
    agent, _ = agents[name]
    path = agent.save(tmp_path / name)
    assert path.is_file() and path.suffix == ".zip"
    loaded = make_agent(name).load(path)
    env, observation = observations()
    for a in (agent, loaded):
        a.bind(env_context(env), 4)
    np.testing.assert_array_equal(
        agent.choose(observation, ~agent.shown), loaded.choose(observation, ~loaded.shown)
    )
    with pytest.raises(AgentError, match="no saved SB3 model at"):
        make_agent(name).load(tmp_path / "missing.zip")


def test_maskable_ppo_never_repeats_an_item(agents):
    agent, _ = agents["maskable-ppo"]
    env = gym.make_vec(ENV_ID, num_envs=4, vectorization_mode="vector_entry_point", horizon=30)
    agent.bind(env_context(env), 4)
    observation, _ = env.reset(seed=0)
    shown, starting = [], np.ones(4, dtype=bool)
    for _ in range(30):
        actions = agent.act(observation, env.action_masks(), starting)
        starting[:] = False
        shown.append(actions)
        observation, _, _, _, info = env.step(actions)
        assert (info["repeats"] == 0).all()
    assert all(len(set(row)) == 30 for row in np.stack(shown, axis=1).tolist())


def test_dqn_refuses_slates():
    env = gym.make(ENV_ID, slate_size=3)
    with pytest.raises(AgentError, match=r"dqn needs one item per step .* got slate_size=3"):
        make_agent("dqn").bind(env_context(env), 1)
    with pytest.raises(AgentError, match="got slate_size=3"):
        make_agent("dqn").fit(ENV_ID, {"slate_size": 3}, 64)


def test_slates_work_for_maskable_ppo():
    agent = make_agent("maskable-ppo", n_envs=1, net_arch=[16], **TINY["maskable-ppo"])
    agent.fit(ENV_ID, {"horizon": 5, "slate_size": 3}, 64)
    env = gym.make(ENV_ID, horizon=5, slate_size=3)
    agent.bind(env_context(env), 1)
    _, lengths = evaluate_policy(agent, Monitor(env), n_eval_episodes=1, return_episode_rewards=True)
    assert lengths == [5]


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("ppo", {"learning_rate": 0}, "learning_rate must be a number in (0, 1], got 0"),
        ("a2c", {"gamma": 1.5}, "gamma must be a number in [0, 1], got 1.5"),
        ("dqn", {"n_envs": 0}, "n_envs must be an integer in [1, 1024], got 0"),
        ("maskable-ppo", {"net_arch": []}, "net_arch must be a list of 1 to 8 layer widths, got []"),
        ("ppo", {"net_arch": [0]}, "net_arch width must be an integer in [1, 4096], got 0"),
        ("ppo", {"hyperparams": 3}, "hyperparams must be a dict of SB3 keywords, got 3"),
    ],
)
def test_bad_parameters_are_named_with_their_range(name, params, message):
    with pytest.raises(AgentError) as caught:
        make_agent(name, **params)
    assert message in str(caught.value)


def test_unknown_hyperparameters_are_named():
    with pytest.raises(AgentError, match=r"PPO does not accept hyperparams .*'n_stepz'"):
        make_agent("ppo", hyperparams={"n_stepz": 8}).fit(ENV_ID, KWARGS, 16)


@pytest.mark.parametrize("name", SB3)
def test_unsupported_environments_and_missing_models_are_clear(name):
    with pytest.raises(AgentError, match="does not support Elicitation environments"):
        make_agent(name).bind(env_context(gym.make("recworld/Elicitation-v0")), 1)
    env, observation = observations(users=1)
    agent = make_agent(name).bind(env_context(env), 1)
    with pytest.raises(AgentError, match="has no model: call fit"):
        agent.act(observation)
    with pytest.raises(AgentError, match="has no model to save"):
        agent.save("/nonexistent/model")


@pytest.mark.parametrize(("name", "module"), [("ppo", "stable_baselines3"), ("maskable-ppo", "sb3_contrib")])
def test_missing_extra_gives_the_install_hint(name, module, monkeypatch):
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` fail
    with pytest.raises(AgentError, match=r"pip install 'recworld\[sb3\]'"):
        make_agent(name).fit(ENV_ID, KWARGS, 16)


def test_the_native_vec_env_resets_in_the_step_that_ends_an_episode():
    """SB3's VecEnv convention over one recworld vector environment: the final observation in
    ``terminal_observation``, the next episode's first one returned, truncation flagged."""
    from recworld.agents.sb3 import native_vec_env

    env = native_vec_env("recworld/ColdStart-v0", 4, horizon=3)
    env.seed(5)
    observation = env.reset()
    first = {key: value.copy() for key, value in observation.items()}
    assert observation["progress"].shape == (4, 1)
    for _ in range(3):
        masks = np.stack(env.env_method("action_masks"))
        assert masks.shape == (4, env.action_space.n)
        observation, reward, dones, infos = env.step(masks.argmax(axis=1))
        assert reward.dtype == np.float32 and np.isfinite(reward).all()
    assert dones.all()
    assert all(info["terminal_observation"]["progress"][0] == 1.0 for info in infos)
    assert all(info["TimeLimit.truncated"] for info in infos)
    assert (observation["progress"] == 0.0).all()  # the new episodes have started
    again = native_vec_env("recworld/ColdStart-v0", 4, horizon=3)
    again.seed(5)  # the same seed, the same users
    np.testing.assert_array_equal(again.reset()["user"], first["user"])
    env.close()


def test_same_step_autoreset_follows_gymnasium():
    """``final_info`` holds the ended step's info as masked arrays; the top level, the reset users."""
    import gymnasium as gym

    env = gym.make_vec(
        "recworld/ColdStart-v0",
        num_envs=3,
        vectorization_mode="vector_entry_point",
        autoreset_mode="same-step",
        horizon=2,
    )
    env.reset(seed=0)
    _, _, _, truncated, info = env.step(env.action_masks().argmax(axis=1))
    assert not truncated.any() and "final_info" not in info and info["_rating"].all()
    _, _, _, truncated, info = env.step(env.action_masks().argmax(axis=1))
    assert truncated.all() and info["_final_info"].all() and info["_final_obs"].all()
    assert set(info["final_info"]) >= {"rating", "_rating", "regret", "_regret"}
    assert info["final_info"]["_rating"].all() and not info["_rating"].any()  # the step's values moved
    assert info["_user"].all()  # the reset info: the new users
    with pytest.raises(ValueError, match="autoreset_mode='sometimes' is not one of next-step, same-step"):
        gym.make_vec(
            "recworld/ColdStart-v0",
            num_envs=1,
            vectorization_mode="vector_entry_point",
            autoreset_mode="sometimes",
        )
