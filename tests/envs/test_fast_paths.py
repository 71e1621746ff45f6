"""Fast paths of the environments give what the general paths give."""

import gymnasium as gym
import numpy as np

import recworld  # noqa: F401 - registers the environments


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


def test_engagement_regret_maximum_equals_best_unseen():
    """With one item per step regret takes the best score's expected rating, not a partition."""
    env = gym.make_vec("recworld/Engagement-v0", num_envs=16, vectorization_mode="vector_entry_point")
    env.reset(seed=0)
    kernel = env.unwrapped.kernel if hasattr(env, "unwrapped") else env.kernel
    rng = np.random.default_rng(0)
    for _ in range(30):
        np.testing.assert_array_equal(kernel.best_unseen_expected(), kernel.best_unseen()[1])
        env.step(rng.integers(0, 40, 16))
