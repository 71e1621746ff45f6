"""Fast paths of the environments give what the general paths give."""

import functools

import gymnasium as gym
import numba
import numpy as np
import pytest

import recworld  # noqa: F401 - registers the environments
from recworld.envs.base import InvalidAction, Kernel
from recworld.envs.compiled import USERS_PER_THREAD, blocks, thread_counter
from recworld.simulators import Simulator
from recworld.simulators.choice import MultinomialLogit


def test_plain_int_actions_step_like_checked_arrays():
    """`RecEnv.step` skips `check_actions` for an int in range; a 0-d array takes the checked path."""
    fast, checked = gym.make("recworld/ColdStart-v0"), gym.make("recworld/ColdStart-v0")
    fast.reset(seed=1)
    checked.reset(seed=1)
    for action in np.random.default_rng(0).integers(0, 30, 25):
        a = fast.step(int(action) if action % 2 else action)  # Python and numpy ints
        b = checked.step(np.array(action))
        for key in a[0]:
            np.testing.assert_array_equal(a[0][key], b[0][key])
        assert a[1:] == b[1:]
        if a[2] or a[3]:
            fast.reset()
            checked.reset()


@pytest.mark.parametrize("slate_size", [1, 3])
def test_compiled_regret_equals_the_catalog_scan(slate_size):
    """The compiled step's search along each user's items by static score finds what a scan of the
    whole catalog under today's dynamics finds (`EngagementKernel.best_unseen`, numpy)."""
    env = gym.make_vec(
        "recworld/Engagement-v0", num_envs=16, vectorization_mode="vector_entry_point", slate_size=slate_size
    )
    env.reset(seed=0)
    kernel = env.unwrapped.kernel if hasattr(env, "unwrapped") else env.kernel
    rng = np.random.default_rng(0)
    checked = 0
    for _ in range(30):
        best = kernel.best_unseen()[1].sum(axis=1)
        was_running = ~env.unwrapped._autoreset if hasattr(env, "unwrapped") else ~env._autoreset
        actions = (
            rng.choice(1682, (16, slate_size), replace=False) if slate_size > 1 else rng.integers(0, 40, 16)
        )
        _, _, _, _, info = env.step(actions)
        fresh = was_running & (info["repeats"] == 0)
        np.testing.assert_allclose(
            (info["regret"] * slate_size + info["expected_rating"] * slate_size)[fresh],
            best[fresh],
            rtol=1e-5,
        )
        checked += int(fresh.sum())
    assert checked > 100


def test_score_order_holds_each_members_scores_best_first():
    """The regret search's walk: each member's items by static score and those scores, which it reads in
    sequence instead of looking each item up in the score table."""
    world = gym.make("recworld/Engagement-v0").unwrapped.kernel.world
    blocked_order, blocked_scores = world.score_order()
    population, n = len(world.population), world.n_items

    def lists(blocked):  # (blocks * members, K) -> each member's list, (members, blocks * K)
        return blocked.reshape(-1, population, blocked.shape[1]).transpose(1, 0, 2).reshape(population, -1)

    order, ordered = lists(blocked_order), lists(blocked_scores)
    assert order.shape[1] - n < blocked_order.shape[1]  # padded to whole blocks only
    assert (ordered[:, n:] == -np.inf).all()
    members = np.arange(0, population, 37)
    scores = world.simulator.score(world.population[members])
    items = order[members, :n]
    np.testing.assert_array_equal(ordered[members, :n], np.take_along_axis(scores, items, axis=1))
    np.testing.assert_array_equal(np.sort(items, axis=1), np.tile(np.arange(n), (len(members), 1)))
    assert (np.diff(ordered[members, :n], axis=1) <= 0).all()
    assert blocked_order.dtype == np.int32 and blocked_scores.dtype == np.float32


class Delegating(Simulator):
    """A simulator of your own (rating probabilities from Python) that answers as a fitted one."""

    def __init__(self, inner):
        self.inner = inner
        self.n_users, self.n_items, self.rating_levels = inner.n_users, inner.n_items, inner.rating_levels

    def score(self, users, items=None):
        return self.inner.score(users, items)

    def rating_probabilities(self, users, scores):
        return self.inner.rating_probabilities(users, scores)

    def awareness(self, users, items=None):
        return self.inner.awareness(users, items)


class OwnLogit:
    """A choice model of your own (run in Python) that chooses as the built-in logit."""

    def __init__(self):
        self.inner = MultinomialLogit()

    def probabilities(self, expected_rating, like_probability):
        return self.inner.probabilities(expected_rating, like_probability)

    def clicks(self, expected_rating, like_probability, uniforms):
        return self.inner.clicks(expected_rating, like_probability, uniforms)


@pytest.mark.parametrize(
    ("env_id", "kwargs"),
    [
        ("recworld/ColdStart-v0", {"slate_size": 4}),
        ("recworld/Engagement-v0", {}),
        ("recworld/Engagement-v0", {"slate_size": 3}),
    ],
)
def test_python_pieces_give_what_the_compiled_step_gives(env_id, kwargs):
    """A simulator and a choice model of your own run in Python between the compiled parts, on the
    same draws: wrapping the built-in ones reproduces the compiled step (to float rounding of the
    probabilities, which can move a draw that falls on a level's boundary)."""
    fitted = gym.make(env_id, **kwargs).unwrapped.kernel.world.simulator
    # users="all": a simulator of your own has its own split, the same users in the same order here
    own = gym.make(env_id, simulator=Delegating(fitted), choice_model=OwnLogit(), users="all", **kwargs)
    built_in = gym.make(env_id, users="all", **kwargs)
    rng = np.random.default_rng(1)
    same = total = 0
    for episode in range(3):
        own.reset(seed=episode)
        built_in.reset(seed=episode)
        for _ in range(25):
            action = built_in.action_space.sample() if kwargs else int(rng.integers(0, 1682))
            a, b = own.step(action), built_in.step(action)
            np.testing.assert_allclose(a[4]["expected_rating"], b[4]["expected_rating"], rtol=1e-5)
            np.testing.assert_allclose(a[4]["regret"], b[4]["regret"], rtol=1e-4, atol=1e-5)
            same += a[1] == b[1] and a[4]["clicks"] == b[4]["clicks"]
            total += 1
            if b[2] or b[3] or a[2] or a[3]:
                break
    assert same >= 0.97 * total


def test_compiled_dynamics_read_genre_lists_as_the_numpy_definition_reads_profiles():
    """`compiled.update_dynamics` walks each item's genre list (`World.genre_lists`), where
    `EngagementDynamics.update` multiplies whole profile rows: the same states follow."""
    from recworld.envs.compiled import update_dynamics
    from recworld.envs.engagement import dynamics_parameters
    from recworld.simulators.dynamics import EngagementDynamics
    from tests.models.synthetic import synthetic_data

    env = gym.make_vec(
        "recworld/Engagement-v0",
        num_envs=2,
        vectorization_mode="vector_entry_point",
        dataset=synthetic_data(n_users=40, n_items=50, seed=1),
    )
    world = env.unwrapped.kernel.world
    starts, genre, weight = world.genre_lists()
    dense = np.zeros_like(world.genre_profiles)
    for item in range(len(dense)):
        dense[item, genre[starts[item] : starts[item + 1]]] = weight[starts[item] : starts[item + 1]]
    np.testing.assert_array_equal(dense, world.genre_profiles)
    assert all(np.all(np.diff(genre[starts[i] : starts[i + 1]]) > 0) for i in range(len(dense)))

    dynamics = EngagementDynamics.from_spec(None)
    rng = np.random.default_rng(0)
    batch, slots, n_genres = 200, 3, dense.shape[1]
    state = dynamics.initial_state(batch, n_genres)
    state.recent[:] = rng.uniform(0, 0.5, state.recent.shape)
    state.affinity[:] = rng.uniform(-0.3, 0.3, state.affinity.shape)
    state.boredom[:] = rng.uniform(0, 1, state.boredom.shape)
    state.satisfaction[:] = rng.uniform(-0.5, 0.5, batch)
    compiled_state = tuple(
        a.copy() for a in (state.affinity, state.boredom, state.recent, state.satisfaction, state.sessions)
    )
    actions = rng.integers(0, len(dense), (batch, slots))
    ratings = rng.integers(1, 6, (batch, slots)).astype(np.float64)
    taken = rng.random((batch, slots)) < 0.6
    params = dynamics_parameters(dynamics)
    left = np.zeros(batch, dtype=bool)
    step_keys = rng.integers(0, 2**63, batch).astype(np.uint64)  # each user's step key: random words
    update_dynamics(
        0, batch, params, actions, ratings, taken, world.genre_lists(), compiled_state, step_keys, 0, left
    )
    verdicts = dynamics.verdict(ratings).astype(np.float32)
    dynamics.update(state, dense[actions], verdicts, taken)
    same_session = compiled_state[4] == state.sessions  # a new session carries boredom over: not compared
    assert same_session.sum() > batch // 4
    for ours, theirs in zip(
        compiled_state[:4], (state.affinity, state.boredom, state.recent, state.satisfaction), strict=True
    ):
        np.testing.assert_allclose(ours[same_session], theirs[same_session], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "env_id, kwargs",
    [
        ("recworld/ColdStart-v0", {"horizon": 3}),
        ("recworld/Engagement-v0", {}),
        ("recworld/Engagement-v0", {"slate_size": 2, "horizon": 8}),
    ],
)
@pytest.mark.parametrize("num_envs", [40, 600])  # 600: two blocks on numba's threads, where it has two
def test_one_call_autoreset_gives_what_the_plain_path_gives(env_id, kwargs, num_envs):
    """`RecommendationKernel.step_autoreset` (the step, the restarts and the observation in one compiled
    call) gives what `Kernel.step_autoreset` gives (the step, `reset_users`, `autoreset_outputs` and
    `observe`, one after another)."""
    one_call, plain = (
        gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point", **kwargs)
        for _ in range(2)
    )
    kernel = plain.unwrapped.kernel
    kernel.step_autoreset = functools.partial(Kernel.step_autoreset, kernel)
    for env in (one_call, plain):
        env.reset(seed=7)
    rng = np.random.default_rng(0)
    restarted = 0
    for _ in range(12):
        actions = rng.integers(0, kernel.n_items, one_call.action_space.shape)
        a, b = one_call.step(actions), plain.step(actions)
        for key in a[0]:
            np.testing.assert_array_equal(a[0][key], b[0][key])
        for x, y in zip(a[1:4], b[1:4], strict=True):
            np.testing.assert_array_equal(x, y)
        assert a[4].keys() == b[4].keys()
        for key in a[4]:
            np.testing.assert_array_equal(a[4][key], b[4][key], err_msg=key)
        restarted += int((~a[4]["_rating"]).sum())
    assert restarted > 0  # the restarts were exercised


def test_vector_render_takes_the_plain_path_and_logs_each_episode_afresh():
    """With ``render_mode="ansi"`` the vector step takes the plain path (which logs): the same
    trajectory as without rendering, and each user's log starts again when their episode restarts."""
    options = {"num_envs": 3, "vectorization_mode": "vector_entry_point", "horizon": 2}
    rendered = gym.make_vec("recworld/ColdStart-v0", render_mode="ansi", **options)
    plain = gym.make_vec("recworld/ColdStart-v0", **options)
    rendered.reset(seed=0)
    plain.reset(seed=0)
    logged = []
    for actions in ([1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12]):  # the third step restarts everyone
        a, b = rendered.step(np.array(actions)), plain.step(np.array(actions))
        for key in a[0]:
            np.testing.assert_array_equal(a[0][key], b[0][key])
        np.testing.assert_array_equal(a[1], b[1])
        logged.append([text.count(" t=") for text in rendered.render()])
    assert logged == [[1, 1, 1], [2, 2, 2], [0, 0, 0], [1, 1, 1]]


def test_thread_counter_follows_set_num_threads():
    """The steps' thread count (read without numba's locks) is numba's own, after ``set_num_threads``."""
    before = numba.get_num_threads()
    try:
        for n in range(1, before + 1):
            numba.set_num_threads(n)
            assert thread_counter()() == numba.get_num_threads() == n
            assert blocks(64 * USERS_PER_THREAD) == n
    finally:
        numba.set_num_threads(before)


@pytest.mark.parametrize("slate_size", [1, 3])
def test_checked_actions_fast_path_matches_the_general_path(slate_size):
    """A batch as the action space samples it (C-ordered, writeable int64) is checked without a copy:
    the caller's own array, shaped ``(B, S)``, as the general path returns it; one out of the catalog
    still raises `InvalidAction` naming the value, and other layouts take the general path."""
    env = gym.make_vec(
        "recworld/ColdStart-v0", num_envs=8, vectorization_mode="vector_entry_point", slate_size=slate_size
    )
    kernel = env.unwrapped.kernel
    shape = (8,) if slate_size == 1 else (8, slate_size)
    actions = np.random.default_rng(0).integers(0, kernel.n_items, shape)
    checked = kernel.check_actions(actions)
    assert checked.shape == (8, slate_size) and np.shares_memory(checked, actions)
    for other in (actions.astype(np.int32), actions.astype(np.float64), actions.tolist()):
        np.testing.assert_array_equal(kernel.check_actions(other), checked)
    readonly = actions.copy()
    readonly.flags.writeable = False
    assert kernel.check_actions(readonly).flags.writeable
    bad = actions.copy()
    bad.flat[3] = kernel.n_items
    with pytest.raises(InvalidAction, match=f"action {kernel.n_items} is outside the catalog"):
        kernel.check_actions(bad)
