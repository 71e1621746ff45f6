"""The environments against Gymnasium's and stable-baselines3's rules, and their own semantics."""

import pickle
import subprocess
import sys
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.error import ResetNeeded
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import recworld
from recworld.envs import ENV_IDS, InvalidAction

pytestmark = pytest.mark.realdata  # the environments default to MovieLens-100K

CONFIGS = [
    (env_id, kwargs)
    for env_id in ENV_IDS
    for kwargs in ([{}] if "Elicitation" in env_id else [{}, {"slate_size": 3, "choice_model": "cascade"}])
]
IDS = [f"{env_id.split('/')[1]}-{'slate' if kwargs else 'single'}" for env_id, kwargs in CONFIGS]


def rollout(env, seed, actions):
    """Observations, rewards, flags and infos of a rollout with given actions (resetting when done)."""
    trace = []
    obs, info = env.reset(seed=seed)
    trace.append((obs, info))
    for action in actions:
        obs, reward, terminated, truncated, info = env.step(action)
        trace.append((obs, reward, terminated, truncated, info))
        if terminated or truncated:
            trace.append(env.reset())
    return trace


def assert_same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        for u, v in zip(x, y, strict=True):
            if isinstance(u, dict):
                assert u.keys() == v.keys()
                for key in u:
                    np.testing.assert_array_equal(u[key], v[key])
            else:
                assert u == v


@pytest.mark.parametrize(("env_id", "kwargs"), CONFIGS, ids=IDS)
def test_checkers_pass_without_warnings(env_id, kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        env = gym.make(env_id, **kwargs)
        check_env(env.unwrapped)
        sb3_check_env(env.unwrapped)
    assert [str(w.message) for w in caught] == []


@pytest.mark.parametrize(("env_id", "kwargs"), CONFIGS, ids=IDS)
def test_same_seed_same_trajectory_and_pickle_round_trip(env_id, kwargs):
    env = gym.make(env_id, **kwargs)
    actions = [env.action_space.sample() for _ in range(40)]
    env.action_space.seed(0)
    first = rollout(env, 3, actions)
    second = rollout(gym.make(env_id, **kwargs), 3, actions)
    assert_same(first, second)
    other = rollout(env, 4, actions)
    differs = [
        not np.array_equal(a[0]["user"], b[0]["user"]) or a[1] != b[1]
        for a, b in zip(first, other, strict=False)
    ]
    assert any(differs)
    # A pickled environment continues exactly where the original was.
    env.reset(seed=5)
    env.step(actions[0])
    clone = pickle.loads(pickle.dumps(env))
    for action in actions[1:6]:
        a, b = env.step(action), clone.step(action)
        assert_same([a], [b])
        if a[2] or a[3]:
            break


@pytest.mark.parametrize(("env_id", "kwargs"), CONFIGS, ids=IDS)
def test_vector_env_equals_single_envs_on_the_same_seeds(env_id, kwargs):
    n, steps, seed = 4, 45, 11
    vector = gym.make_vec(env_id, num_envs=n, vectorization_mode="vector_entry_point", **kwargs)
    assert vector.metadata["autoreset_mode"] == gym.vector.AutoresetMode.NEXT_STEP
    singles = [gym.make(env_id, **kwargs) for _ in range(n)]
    rng = np.random.default_rng(0)
    shape = (n,) if "slate_size" not in kwargs else (n, kwargs["slate_size"])
    actions = rng.integers(0, 1682, (steps, *shape))
    obs, _ = vector.reset(seed=seed)
    single_obs = [env.reset(seed=seed + i)[0] for i, env in enumerate(singles)]
    done = np.zeros(n, dtype=bool)
    ended = 0
    for t in range(steps):
        for i in range(n):
            for key in obs:
                np.testing.assert_array_equal(
                    obs[key][i], single_obs[i][key], err_msg=f"step {t} env {i} {key}"
                )
        obs, reward, terminated, truncated, _ = vector.step(actions[t])
        for i, env in enumerate(singles):
            if done[i]:  # next-step autoreset: the vector env resets this one now
                single_obs[i], _ = env.reset()
                assert reward[i] == 0 and not terminated[i] and not truncated[i]
                continue
            single_obs[i], r, te, tr, _ = env.step(actions[t][i])
            assert (r, te, tr) == (reward[i], terminated[i], truncated[i]), f"step {t} env {i}"
        done = terminated | truncated
        ended += int(done.sum())
    assert ended > 0 or "Engagement" in env_id  # autoreset was exercised


def test_make_works_in_a_fresh_interpreter_and_envs_list():
    code = (
        "import gymnasium as gym; env = gym.make('recworld:recworld/ColdStart-v0'); "
        "print(env.reset(seed=0)[1])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "'user'" in done.stdout
    listed = subprocess.run(
        [sys.executable, "-m", "recworld.cli", "envs", "list"], capture_output=True, text=True, check=True
    )
    assert listed.stdout.split() == [*ENV_IDS, "recworld/OBD-Replay-v0"]


@pytest.mark.expensive
def test_vector_env_batches_a_thousand_users():
    vector = gym.make_vec("recworld/ColdStart-v0", num_envs=1024, vectorization_mode="vector_entry_point")
    obs, info = vector.reset(seed=0)
    assert obs["user"].shape == (1024, vector.single_observation_space["user"].shape[0])
    obs, reward, _, _, info = vector.step(np.arange(1024))
    assert reward.shape == (1024,) and info["regret"].shape == (1024,) and info["_regret"].all()
    assert vector.observation_space.contains(obs)
    assert vector.action_masks().shape == (1024, 1682)


@pytest.mark.filterwarnings("ignore:.*render_mode='human'")
@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"horizon": 0}, ValueError, "horizon must be at least 1, got 0"),
        (
            {"slate_size": 5000},
            ValueError,
            "slate_size must be between 1 and the catalog size 1682, got 5000",
        ),
        (
            {"reward": "money"},
            ValueError,
            "reward='money' is not one of rating, centred, like, click, surprise",
        ),
        ({"choice_model": "dice"}, ValueError, "choice_model='dice' is not one of mnl, cascade, position"),
        ({"users": "everyone"}, ValueError, "users='everyone' is not one of train, validation, test, all"),
        ({"colour": "red"}, TypeError, "unknown argument.s. colour; the environment accepts: .*horizon"),
        (
            {"predictor": np.zeros(3)},
            ValueError,
            r"predictor must give one estimate per item, shape \(1682,\)",
        ),
        ({"render_mode": "human"}, ValueError, "the only render mode is 'ansi'"),
    ],
)
def test_impossible_arguments_are_named(kwargs, error, message):
    with pytest.raises(error, match=message):
        gym.make("recworld/ColdStart-v0", **kwargs)


def test_elicitation_budget_is_checked():
    with pytest.raises(ValueError, match="budget must be at least 1 question, got 0"):
        gym.make("recworld/Elicitation-v0", budget=0)


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (1682, "action 1682 is outside the catalog: items are 0..1681"),
        (-1, "action -1 is outside the catalog"),
        (2.5, r"action 2\.5 is not in Discrete\(1682\)"),
        ("x", "action 'x' is not in Discrete"),
        ([1, 2], r"action \[1, 2\] is not in Discrete"),
    ],
)
def test_actions_outside_the_space_are_refused(action, message):
    env = gym.make("recworld/ColdStart-v0").unwrapped
    with pytest.raises(ResetNeeded):
        env.step(0)
    env.reset(seed=0)
    with pytest.raises(InvalidAction, match=message):
        env.step(action)
    env.step(0)  # the episode goes on after a refused action


def test_step_after_the_episode_ended_needs_a_reset():
    env = gym.make("recworld/ColdStart-v0", horizon=2).unwrapped
    env.reset(seed=0)
    env.step(0)
    *_, truncated, _ = env.step(1)
    assert truncated
    with pytest.raises(ResetNeeded):
        env.step(2)


def test_cold_start_semantics():
    env = gym.make("recworld/ColdStart-v0", horizon=5).unwrapped
    obs, _ = env.reset(seed=0)
    assert obs["progress"][0] == 0 and not obs["recent_responses"].any()
    _, reward, _, _, info = env.step(10)
    assert reward == info["rating"] in {1.0, 2.0, 3.0, 4.0, 5.0}
    assert info["regret"] >= -1e-5 and info["repeats"] == 0
    assert not env.action_masks()[10] and env.action_masks().sum() == 1681
    _, reward, _, _, info = env.step(10)  # the same film again brings nothing
    assert reward == 0.0 and info["repeats"] == 1
    # The oracle (the best unseen item by the simulator's truth) has zero regret.
    user = env.kernel.user[0]
    best = int(
        np.argmax(
            np.where(env.kernel.shown[0], -np.inf, env.kernel.world.simulator.score(np.array([user]))[0])
        )
    )
    *_, info = env.step(best)
    assert abs(info["regret"]) < 1e-5


def test_slates_are_deduplicated_and_answered_by_the_choice_model():
    env = gym.make("recworld/ColdStart-v0", slate_size=3, reward="click").unwrapped
    env.reset(seed=0)
    _, reward, _, _, info = env.step(np.array([7, 7, 9]))
    assert info["repeats"] == 1 and reward == info["clicks"] <= 2
    assert env.action_masks().shape == (3 * 1682,)


def test_surprise_reward_uses_the_injected_predictor():
    high = gym.make("recworld/ColdStart-v0", reward="surprise", predictor=np.full(1682, 5.0)).unwrapped
    high.reset(seed=0)
    assert all(high.step(i)[1] == 0.0 for i in range(10))  # nobody beats a predicted 5
    low = gym.make(
        "recworld/ColdStart-v0", reward="surprise", predictor=lambda items: np.zeros(len(items))
    ).unwrapped
    low.reset(seed=0)
    _, reward, _, _, info = low.step(0)
    assert reward == info["rating"]


def test_elicitation_ndcg_rewards_sum_to_the_final_gain():
    env = gym.make("recworld/Elicitation-v0", budget=8, reward="ndcg").unwrapped
    env.reset(seed=2)
    initial = env.kernel.ndcg[0]
    popular = np.argsort(-np.bincount(env.kernel.world.train_data.item, minlength=1682))
    total, terminated, answered = 0.0, False, 0
    for item in popular[:8]:
        _, reward, terminated, truncated, info = env.step(int(item))
        total += reward
        answered += info["known"]
        assert not truncated
    assert terminated and 0 <= info["ndcg"] <= 1
    assert total == pytest.approx(info["ndcg"] - initial)
    assert answered > 0  # popular films are known to most users


def test_engagement_users_leave_when_unhappy():
    env = gym.make("recworld/Engagement-v0").unwrapped
    expected = env.kernel.world.expected_ratings().mean(axis=0)
    worst = np.argsort(expected)  # the films everyone dislikes
    lengths = []
    for seed in range(5):
        env.reset(seed=seed)
        for t, item in enumerate(worst):  # noqa: B007 - t is the session length below
            *_, terminated, truncated, info = env.step(int(item))
            if terminated or truncated:
                break
        assert terminated and not truncated
        assert info["satisfaction"] < 0
        lengths.append(t + 1)
    assert max(lengths) < 60


def test_render_shows_titles_and_answers():
    env = gym.make("recworld/Elicitation-v0", render_mode="ansi")
    env.reset(seed=0)
    env.step(49)  # Star Wars (1977)
    text = env.render()
    assert "Star Wars (1977)" in text and ("rated" in text or "don't know" in text)
    cold = gym.make("recworld/ColdStart-v0", render_mode="ansi")
    cold.reset(seed=0)
    cold.step(0)
    assert "Toy Story (1995)" in cold.render()


def test_flattened_observation_through_the_standard_wrapper():
    env = gym.wrappers.FlattenObservation(gym.make("recworld/Engagement-v0"))
    obs, _ = env.reset(seed=0)
    assert obs.dtype == np.float32 and obs.ndim == 1 and env.observation_space.contains(obs)


def test_synthetic_users_and_a_custom_simulator_plug_in():
    env = gym.make("recworld/ColdStart-v0", users="synthetic", n_synthetic=50)
    obs, info = env.reset(seed=0)
    assert info["user"] >= 943  # beyond the real users
    assert env.observation_space.contains(obs)

    import importlib.util
    from pathlib import Path

    path = Path(recworld.__file__).resolve().parents[1] / "examples" / "custom_simulator.py"
    spec = importlib.util.spec_from_file_location("custom_simulator", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    data = recworld.data.load_dataset("movielens-100k")
    features, _ = data.item_features()
    world = module.GenreLovers(features[:, : len(data.genres)] > 0, n_users=19)
    env = gym.make("recworld/ColdStart-v0", simulator=world, users="all")
    env.reset(seed=0)
    loved = int(np.flatnonzero(world.item_genres[:, world.loved[env.unwrapped.kernel.user[0]]])[0])
    *_, info = env.step(loved)
    assert info["expected_rating"] > 4.0


def test_user_spread_builds_a_posterior_draw_world():
    from recworld.simulators import SimulatorError
    from recworld.simulators.cache import world_dir

    env = gym.make("recworld/ColdStart-v0", user_spread=1.0)
    world = env.unwrapped.kernel.world.simulator
    assert world.meta["user_spread"] == 1.0
    assert (world_dir("movielens-100k", "latent-factor", 0, 1.0) / "world.json").is_file()  # cached apart
    mean_world = gym.make("recworld/ColdStart-v0").unwrapped.kernel.world.simulator
    assert mean_world.meta.get("user_spread", 0.0) == 0.0  # worlds cached before the option lack it
    assert not np.array_equal(world.scores, mean_world.scores)
    with pytest.raises(SimulatorError, match="user_spread=1 applies when the simulator is a family name"):
        gym.make("recworld/ColdStart-v0", simulator=mean_world, user_spread=1.0)


def test_vector_reset_without_a_seed_continues_each_generator():
    """As Gymnasium's reset(seed=None): sub-environment i stays the single env seeded s + i."""
    venv = gym.make_vec(
        "recworld/ColdStart-v0", num_envs=2, vectorization_mode="vector_entry_point", horizon=3
    )
    single = gym.make("recworld/ColdStart-v0", horizon=3)
    _, first = venv.reset(seed=5)
    _, again = venv.reset()
    _, one = single.reset(seed=6)
    _, two = single.reset()
    assert [first["user"][1], again["user"][1]] == [one["user"], two["user"]]
    venv.reset(seed=5)
    _, repeat = venv.reset()
    np.testing.assert_array_equal(repeat["user"], again["user"])
