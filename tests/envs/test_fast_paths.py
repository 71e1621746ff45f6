"""Fast paths of the environments give what the general paths give."""

import gymnasium as gym
import numpy as np
import pytest

import recworld  # noqa: F401 - registers the environments
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
