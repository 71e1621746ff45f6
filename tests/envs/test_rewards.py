import numpy as np
import pytest

from recworld.envs.rewards import REWARDS, level_rewards, reward_signal

RATINGS = np.array([[5.0, 3.0, 4.0]])
TAKEN = np.array([[True, True, False]])
CLICKED = np.array([[True, False, True]])
BASELINE = np.array([[4.2, 3.5, 4.0]])


def signal(kind):
    return reward_signal(kind, RATINGS, TAKEN, CLICKED, BASELINE, (1.0, 5.0), 4.0)


def test_each_reward_counts_what_the_user_took():
    assert signal("rating").tolist() == [[5.0, 3.0, 0.0]]
    assert signal("centred").tolist() == [[2.0, 0.0, 0.0]]
    assert signal("like").tolist() == [[1.0, 0.0, 0.0]]
    assert signal("click").tolist() == [[1.0, 0.0, 1.0]]
    assert signal("surprise")[0].tolist() == pytest.approx([0.8, 0.0, 0.0])


def test_level_rewards_match_the_signal_and_unknown_rewards_are_named():
    levels = np.arange(1.0, 6.0)
    assert level_rewards("centred", levels, 4.0).tolist() == [-2.0, -1.0, 0.0, 1.0, 2.0]
    assert level_rewards("like", levels, 4.0).tolist() == [0.0, 0.0, 0.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="click"):
        level_rewards("click", levels, 4.0)
    with pytest.raises(ValueError, match="'stars' is not one of"):
        signal("stars")
    assert set(REWARDS) == {"rating", "centred", "like", "click", "surprise"}
