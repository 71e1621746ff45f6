"""The environments' contracts on a small synthetic `RatingData` (no MovieLens needed): a world fitted to
it in this process, Gymnasium's and stable-baselines3's checkers, determinism, vector = single, the
arguments and actions refused, the rewards' semantics and the torch backend."""

import pickle
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.error import ResetNeeded
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import recworld  # noqa: F401 - registers the environments
from recworld.envs import ENV_IDS, InvalidAction
from recworld.numerics.counter import RESET_STEP, seed_words, stream_keys, uniforms_numpy
from tests.models.synthetic import synthetic_data

DATA = synthetic_data(n_users=120, n_items=60, seed=3)
N = DATA.n_items
OPTIONS = {
    "recworld/ColdStart-v0": {"horizon": 12},
    "recworld/Elicitation-v0": {"budget": 6},
    "recworld/Engagement-v0": {"horizon": 30},
}
CONFIGS = [
    (env_id, kwargs)
    for env_id in ENV_IDS
    for kwargs in ([{}] if "Elicitation" in env_id else [{}, {"slate_size": 3, "choice_model": "cascade"}])
]
IDS = [f"{env_id.split('/')[1]}-{'slate' if kwargs else 'single'}" for env_id, kwargs in CONFIGS]


def make(env_id, **kwargs):
    """An environment on the synthetic world; ``kwargs`` override the module's short episodes."""
    return gym.make(env_id, dataset=DATA, **{**OPTIONS[env_id], **kwargs})


def make_vec(env_id, num_envs, **kwargs):
    return gym.make_vec(
        env_id,
        num_envs=num_envs,
        vectorization_mode="vector_entry_point",
        dataset=DATA,
        **{**OPTIONS[env_id], **kwargs},
    )


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
        env = make(env_id, **kwargs)
        check_env(env.unwrapped)
        sb3_check_env(env.unwrapped)
    assert [str(w.message) for w in caught] == []
    space = env.action_space  # the synthetic catalog, one item or a slate of them
    assert space == (
        gym.spaces.MultiDiscrete([N] * kwargs["slate_size"]) if kwargs else gym.spaces.Discrete(N)
    )


@pytest.mark.parametrize(("env_id", "kwargs"), CONFIGS, ids=IDS)
def test_same_seed_same_trajectory_and_pickle_round_trip(env_id, kwargs):
    env = make(env_id, **kwargs)
    actions = [env.action_space.sample() for _ in range(40)]
    env.action_space.seed(0)
    first = rollout(env, 3, actions)
    second = rollout(make(env_id, **kwargs), 3, actions)
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
    vector = make_vec(env_id, n, **kwargs)
    assert vector.metadata["autoreset_mode"] == gym.vector.AutoresetMode.NEXT_STEP
    singles = [make(env_id, **kwargs) for _ in range(n)]
    rng = np.random.default_rng(0)
    shape = (n,) if "slate_size" not in kwargs else (n, kwargs["slate_size"])
    actions = rng.integers(0, N, (steps, *shape))
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
    assert ended > 0  # autoreset was exercised (the episodes are shorter than the rollout)


@pytest.mark.parametrize(("env_id", "kwargs"), CONFIGS, ids=IDS)
def test_a_batch_stepped_in_blocks_on_threads_equals_one_block(env_id, kwargs, monkeypatch):
    """The compiled steps and observations split a large batch into blocks of users, one per thread:
    forced onto 3 blocks (on however many threads numba has), ten users step exactly as in one."""
    import recworld.envs.base as base
    import recworld.envs.cold_start as cold_start
    import recworld.envs.elicitation as elicitation

    n, steps = 10, 40
    shape = (n,) if "slate_size" not in kwargs else (n, kwargs["slate_size"])
    actions = np.random.default_rng(2).integers(0, N, (steps, *shape))
    traces = []
    for n_blocks in (1, 3):
        for module in (base, cold_start, elicitation):
            monkeypatch.setattr(module, "blocks", lambda batch, n_blocks=n_blocks: n_blocks)
        env = make_vec(env_id, n, autoreset_mode="same-step", **kwargs)
        trace = [env.reset(seed=4)]
        trace += [env.step(action) for action in actions]
        traces.append(trace)
    for t, (one, three) in enumerate(zip(*traces, strict=True)):
        assert_equal_nested(one, three, f"step {t}")


def assert_equal_nested(a, b, where):
    """Equal, bit for bit, through tuples, dicts and object arrays (``final_obs``)."""
    if isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            assert_equal_nested(a[key], b[key], f"{where} {key}")
    elif isinstance(a, tuple) or (isinstance(a, np.ndarray) and a.dtype == object):
        assert len(a) == len(b), where
        for i, (u, v) in enumerate(zip(a, b, strict=True)):
            assert_equal_nested(u, v, f"{where} [{i}]")
    elif a is None:
        assert b is None, where
    else:
        np.testing.assert_array_equal(a, b, err_msg=where)
        assert np.asarray(a).dtype == np.asarray(b).dtype, where


def test_vector_reset_without_a_seed_continues_each_generator():
    """As Gymnasium's reset(seed=None): sub-environment i stays the single env seeded s + i."""
    venv = make_vec("recworld/ColdStart-v0", 2, horizon=3)
    single = make("recworld/ColdStart-v0", horizon=3)
    _, first = venv.reset(seed=5)
    _, again = venv.reset()
    _, one = single.reset(seed=6)
    _, two = single.reset()
    assert [first["user"][1], again["user"][1]] == [one["user"], two["user"]]
    venv.reset(seed=5)
    _, repeat = venv.reset()
    np.testing.assert_array_equal(repeat["user"], again["user"])


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_an_episode_starts_as_the_counter_streams_say(env_id):
    """The compiled start (`start_episodes`) against the streams' definition in plain numpy: the user
    of episode e of seed s is the first draw of step `RESET_STEP` in stream ``(s, e)``, scaled to the
    population; the episode starts with nothing shown, an empty history and its clock at 0; ``members``
    picks the users instead, and a bad one is refused before anything changes (the kernel, and the
    environment's seeds and episode counters)."""
    venv = make_vec(env_id, 6)
    kernel = venv.unwrapped.kernel
    n = len(kernel.world.population)
    for episode in range(3):  # the first reset and two autoresets' worth of episodes
        seeds = seed_words([40 + i for i in range(6)])
        keys = stream_keys(seeds, np.full(6, episode, dtype=np.uint64))
        expected = np.minimum(
            (uniforms_numpy(keys, np.full(6, RESET_STEP), 1)[:, 0] * n).astype(np.int64), n - 1
        )
        if episode == 0:
            venv.reset(seed=40)
        else:
            kernel.restart(np.arange(6), venv.unwrapped._seeds, venv.unwrapped._episodes)
        np.testing.assert_array_equal(kernel.keys, keys)
        np.testing.assert_array_equal(kernel.member, expected)
        np.testing.assert_array_equal(kernel.user, kernel.world.population[expected])
        assert not kernel.t.any() and not kernel.history.n_shown.any() and not kernel.history.items.any()
        venv.step(np.arange(6))  # something shown and recorded, for the next start to clear
        assert kernel.history.n_shown.all()
    restarted = np.array([1, 4])
    kernel.restart(restarted, venv.unwrapped._seeds, venv.unwrapped._episodes)
    assert not kernel.shown[restarted].any() and kernel.shown[[0, 2, 3, 5]].any()
    members = np.array([n - 1, 0, 2, 3, 4, 5])
    venv.reset(seed=1, options={"members": members})
    np.testing.assert_array_equal(kernel.member, members)
    twin = make_vec(env_id, 6)  # the same resets, without the refused one
    twin.reset(seed=1, options={"members": members})
    before = kernel.member.copy()
    with pytest.raises(ValueError, match=f"members must be 6 positions in the population of {n} users"):
        venv.reset(seed=[None, 9, None, None, None, None], options={"members": members + 1})
    np.testing.assert_array_equal(kernel.member, before)
    np.testing.assert_array_equal(venv.reset()[1]["user"], twin.reset()[1]["user"])  # seeds not moved
    single, single_twin = make(env_id), make(env_id)
    single.reset(seed=3)
    single_twin.reset(seed=3)
    with pytest.raises(ValueError, match=f"members must be 1 positions in the population of {n} users"):
        single.reset(options={"member": -1})
    assert single.reset()[1]["user"] == single_twin.reset()[1]["user"]


@pytest.mark.filterwarnings("ignore:.*render_mode='human'")
@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"horizon": 0}, ValueError, "horizon must be at least 1, got 0"),
        (
            {"slate_size": 5000},
            ValueError,
            f"slate_size must be between 1 and the catalog size {N}, got 5000",
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
            rf"predictor must give one estimate per item, shape \({N},\)",
        ),
        ({"render_mode": "human"}, ValueError, "the only render mode is 'ansi'"),
    ],
)
def test_impossible_arguments_are_named(kwargs, error, message):
    with pytest.raises(error, match=message):
        make("recworld/ColdStart-v0", **kwargs)


@pytest.mark.parametrize("dtype", ["float16", ">i8", ">f8", "longdouble", "uint8", "int32"])
def test_actions_of_any_integer_valued_dtype_step_alike(dtype):
    """Whole numbers of any dtype numpy has (half floats, long doubles, the other byte order) step as
    int64 would; out of the catalog they are refused with the same message."""
    venv, reference = make_vec("recworld/ColdStart-v0", 3), make_vec("recworld/ColdStart-v0", 3)
    venv.reset(seed=4)
    reference.reset(seed=4)
    actions = np.array([3, 1, 4])
    for got, want in zip(venv.step(actions.astype(dtype)), reference.step(actions), strict=True):
        if isinstance(got, dict):
            for key in want:
                np.testing.assert_array_equal(got[key], want[key])
        else:
            np.testing.assert_array_equal(got, want)
    with pytest.raises(InvalidAction, match=f"action {N} is outside the catalog"):
        venv.step(np.array([0, N, 1]).astype(dtype))  # (the synthetic catalog fits in every dtype)
    single = make("recworld/ColdStart-v0")
    single.reset(seed=4)
    single.step(np.array(3, dtype=dtype))


def test_action_arrays_of_any_layout_reach_the_step_as_one_layout():
    """A strided, Fortran-ordered or read-only action array is handed to the compiled step as a C-ordered
    writeable int64 array (each new layout would compile another copy of the step)."""
    kernel = make_vec("recworld/ColdStart-v0", 4, slate_size=2).unwrapped.kernel
    wide = np.arange(12).reshape(4, 3)
    for actions in (wide[:, :2], np.asfortranarray(wide[:, :2]), np.broadcast_to(np.array([1, 2]), (4, 2))):
        checked = kernel.check_actions(actions)
        assert checked.dtype == np.int64 and checked.flags.c_contiguous and checked.flags.writeable
        np.testing.assert_array_equal(checked, actions)


def test_elicitation_budget_is_checked():
    with pytest.raises(ValueError, match="budget must be at least 1 question, got 0"):
        make("recworld/Elicitation-v0", budget=0)


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (N, f"action {N} is outside the catalog: items are 0..{N - 1}"),
        (-1, "action -1 is outside the catalog"),
        (2.5, rf"action 2\.5 is not in Discrete\({N}\)"),
        ("x", "action 'x' is not in Discrete"),
        ([1, 2], r"action \[1, 2\] is not in Discrete"),
    ],
)
def test_actions_outside_the_space_are_refused(action, message):
    env = make("recworld/ColdStart-v0").unwrapped
    with pytest.raises(ResetNeeded):
        env.step(0)
    env.reset(seed=0)
    with pytest.raises(InvalidAction, match=message):
        env.step(action)
    env.step(0)  # the episode goes on after a refused action


def test_step_after_the_episode_ended_needs_a_reset():
    env = make("recworld/ColdStart-v0", horizon=2).unwrapped
    env.reset(seed=0)
    env.step(0)
    *_, truncated, _ = env.step(1)
    assert truncated
    with pytest.raises(ResetNeeded):
        env.step(2)


def test_cold_start_semantics():
    env = make("recworld/ColdStart-v0", horizon=5).unwrapped
    obs, _ = env.reset(seed=0)
    assert obs["progress"][0] == 0 and not obs["recent_responses"].any()
    _, reward, _, _, info = env.step(10)
    assert reward == info["rating"] in {1.0, 2.0, 3.0, 4.0, 5.0}
    assert info["regret"] >= -1e-5 and info["repeats"] == 0
    assert not env.action_masks()[10] and env.action_masks().sum() == N - 1
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
    env = make("recworld/ColdStart-v0", slate_size=3, reward="click").unwrapped
    env.reset(seed=0)
    _, reward, _, _, info = env.step(np.array([7, 7, 9]))
    assert info["repeats"] == 1 and reward == info["clicks"] <= 2
    assert env.action_masks().shape == (3 * N,)


def test_surprise_reward_uses_the_injected_predictor():
    high = make("recworld/ColdStart-v0", reward="surprise", predictor=np.full(N, 5.0)).unwrapped
    high.reset(seed=0)
    assert all(high.step(i)[1] == 0.0 for i in range(10))  # nobody beats a predicted 5
    low = make(
        "recworld/ColdStart-v0", reward="surprise", predictor=lambda items: np.zeros(len(items))
    ).unwrapped
    low.reset(seed=0)
    _, reward, _, _, info = low.step(0)
    assert reward == info["rating"]


def test_elicitation_ndcg_rewards_sum_to_the_final_gain():
    env = make("recworld/Elicitation-v0", budget=8, reward="ndcg").unwrapped
    env.reset(seed=2)
    initial = env.kernel.ndcg[0]
    popular = np.argsort(-np.bincount(env.kernel.world.train_data.item, minlength=N))
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
    env = make("recworld/Engagement-v0", horizon=100).unwrapped
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
    assert max(lengths) < N // 2  # well before the horizon, and before the catalog runs out


def test_flattened_observation_through_the_standard_wrapper():
    env = gym.wrappers.FlattenObservation(make("recworld/Engagement-v0"))
    obs, _ = env.reset(seed=0)
    assert obs.dtype == np.float32 and obs.ndim == 1 and env.observation_space.contains(obs)


def test_synthetic_users_plug_in():
    env = make("recworld/ColdStart-v0", users="synthetic", n_synthetic=50)
    obs, info = env.reset(seed=0)
    assert info["user"] >= DATA.n_users  # beyond the real users
    assert env.observation_space.contains(obs)


def test_the_torch_backend_runs_a_synthetic_world():
    kwargs = {"num_envs": 64, "vectorization_mode": "vector_entry_point", "dataset": DATA, "horizon": 12}
    numpy_env = gym.make_vec("recworld/ColdStart-v0", **kwargs)
    torch_env = gym.make_vec("recworld/ColdStart-v0", backend="torch", device="cpu", **kwargs)
    _, numpy_info = numpy_env.reset(seed=2)
    _, torch_info = torch_env.reset(seed=2)
    np.testing.assert_array_equal(np.asarray(torch_info["user"]), numpy_info["user"])  # the same streams
    actions = np.random.default_rng(2).integers(0, N, 64)
    _, numpy_reward, *_ = numpy_env.step(actions)
    _, torch_reward, *_ = torch_env.step(actions)
    assert abs(float(torch_reward.mean()) - numpy_reward.mean()) < 0.5


def test_elicitation_starts_a_member_alike_from_its_cache():
    """A member's second episode starts from the kept lists and metrics: the same as a fresh kernel's."""
    env = make("recworld/Elicitation-v0").unwrapped
    kernel = env.kernel
    parts = (
        "top",
        "ideal_items",
        "error_sum",
        "n_candidates",
        "ideal",
        "ndcg",
        "mae",
        "candidates",
    )
    for member in (3, 7, 3):
        env.reset(seed=0, options={"member": member})
        for action in range(4):
            env.step(action)  # the episode moves the metrics away from the start
        env.reset(seed=1, options={"member": member})
        fresh = make("recworld/Elicitation-v0").unwrapped
        fresh.reset(seed=1, options={"member": member})
        assert kernel.start_cache[0][kernel.member[0]]
        for name in parts:
            np.testing.assert_array_equal(getattr(kernel, name), getattr(fresh.kernel, name), err_msg=name)
        np.testing.assert_array_equal(kernel.predictions(), fresh.kernel.predictions())
        np.testing.assert_array_equal(kernel.predictions()[0], kernel.prior_prediction)


@pytest.mark.parametrize("reward", ["rating", "centred", "like", "click", "surprise"])
@pytest.mark.parametrize("env_id", ["recworld/ColdStart-v0", "recworld/Engagement-v0"])
def test_the_reward_agents_read_is_the_one_the_kernel_pays(env_id, reward):
    """One reward definition: what an agent derives from the observation (`EnvContext.signal` of
    `EnvContext.latest_responses`) sums to the environment's reward, slates and a choice model included."""
    from recworld.envs import env_context

    vector = make_vec(env_id, 6, slate_size=3, choice_model="cascade", reward=reward)
    context = env_context(vector)
    vector.reset(seed=2)
    rng = np.random.default_rng(0)
    paid = 0.0
    for _ in range(8):
        items = np.stack([rng.choice(DATA.n_items, 3, replace=False) for _ in range(6)])
        obs, rewards, terminated, truncated, _ = vector.step(items)
        latest = context.latest_responses(obs)
        signal = context.signal(items, latest.ratings, latest.taken, latest.clicked).sum(axis=1)
        np.testing.assert_allclose(signal, rewards, atol=1e-6)
        paid += float(np.abs(rewards).sum())
        if (terminated | truncated).any():
            break  # (the next step would reset the ended users)
    assert paid > 0  # something was paid and compared


@pytest.mark.parametrize("levels", [np.arange(1.0, 8.0), np.arange(0.5, 5.01, 0.5), np.arange(0.0, 11.0)])
def test_latest_responses_decode_every_rating_level_exactly(levels):
    """The observation holds ratings as float32 fractions of the scale; read back they are the levels
    (a 6 on 1..7 read as 5.9999998 would miss a like threshold of 6 that the kernel paid)."""
    from dataclasses import replace

    from recworld.envs import env_context

    context = replace(env_context(make("recworld/ColdStart-v0")), rating_levels=levels.astype(np.float32))
    fractions = ((levels - levels.min()) / (levels.max() - levels.min())).astype(np.float32)
    recent = np.stack([[f, 1.0, 1.0, 1.0] for f in fractions]).astype(np.float32)
    decoded = context.latest_responses({"recent_responses": recent}).ratings[:, 0]
    assert decoded.tolist() == levels.tolist()


def test_the_first_users_observation_is_row_zero_of_the_batch():
    vector = make_vec("recworld/ColdStart-v0", 3)
    vector.reset(seed=0)
    vector.step(np.array([1, 2, 3]))
    kernel = vector.unwrapped.kernel
    for whole, first in (
        (kernel.observe(), kernel.observe(first=True)),
        (kernel.history.observe(), kernel.history.observe(first=True)),
    ):
        assert whole.keys() == first.keys()
        for key in whole:
            np.testing.assert_array_equal(whole[key][0], first[key], err_msg=key)


def test_elicitation_incremental_metrics_equal_a_fresh_computation():
    """The metrics the compiled step keeps incrementally (the error sum, the lists, nDCG left as it
    was when neither list changed, predictions of users still at the prior read from the prior) are
    what a computation from scratch on the kernel's state gives, step after step."""
    from recworld.numerics.metrics import masked_mae, ndcg_at_k

    env = make_vec("recworld/Elicitation-v0", 8, budget=12)
    kernel = env.unwrapped.kernel if hasattr(env, "unwrapped") else env.kernel
    env.reset(seed=4)
    popular = np.argsort(-np.bincount(kernel.world.train_data.item, minlength=N))
    rng = np.random.default_rng(0)
    known = 0
    for t in range(30):  # popular films (often known: the fold-in moves) mixed with random ones
        actions = popular[rng.integers(0, 12, 8)] if t % 2 else rng.integers(0, N, 8)
        _, _, _, _, info = env.step(actions)
        stepped = info["_mae"]
        known += int(info["known"][stepped].sum())
        rows = kernel.member
        truth, gains, valid = kernel.truth[rows], kernel.gains[rows], kernel.candidates
        predicted = kernel.predictions()
        low, high = kernel.scale
        mae = masked_mae(np.clip(predicted, low, high), truth, valid)
        ndcg = ndcg_at_k(predicted, gains, valid, kernel.top.shape[1])
        np.testing.assert_allclose(info["mae"][stepped], mae[stepped], rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(info["ndcg"][stepped], ndcg[stepped], rtol=1e-6, atol=1e-9)
    assert known > 20  # the fold-in's path was taken
