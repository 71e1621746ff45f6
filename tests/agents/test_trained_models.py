"""A policy trained outside the benchmark goes through the benchmark's evaluation protocol."""

import numpy as np
import pytest

from recworld.agents import AgentError
from recworld.agents.sb3 import PolicyAgent, PPOAgent, as_agent
from recworld.benchmarks.cell import evaluate_agent

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A PPO model trained for a few steps on the training users, saved to a zip."""
    import gymnasium as gym
    from stable_baselines3 import PPO

    env = gym.make("recworld/ColdStart-v0", users="train", horizon=5)
    model = PPO("MultiInputPolicy", env, n_steps=64, batch_size=32, n_epochs=1, seed=0, device="cpu")
    model.learn(128)
    path = tmp_path_factory.mktemp("models") / "ppo.zip"
    model.save(path)
    return model, path


def test_a_trained_sb3_model_and_its_zip_evaluate_alike(trained):
    model, path = trained
    from_model = evaluate_agent(model, horizon=5)
    from_path = evaluate_agent(path, horizon=5)
    assert from_model["n_users"] == 94  # every held-out test user, once
    assert from_model["per_user"]["return"] == from_path["per_user"]["return"]
    assert isinstance(as_agent(model), PPOAgent)


class FirstAllowed:
    """A policy of any library: SB3's predict, with masks."""

    def predict(self, observation, state=None, episode_start=None, deterministic=True, action_masks=None):
        return np.argmax(action_masks, axis=1), state


def test_any_object_with_predict_is_evaluated():
    result = evaluate_agent(FirstAllowed(), horizon=3)
    assert isinstance(as_agent(FirstAllowed()), PolicyAgent)
    assert result["n_users"] == 94 and np.isfinite(result["metrics"]["return"])
    # It showed the first three allowed films to everybody: the masks reached it.
    assert result["metrics"]["coverage"] == pytest.approx(3 / 1682)


def test_what_is_not_a_policy_and_a_wrong_population_are_refused(trained):
    with pytest.raises(AgentError, match="no predict"):
        as_agent(object())
    with pytest.raises(AgentError, match="algorithm='sac'"):
        as_agent(trained[1], algorithm="sac")
    with pytest.raises(ValueError, match=r"users=.train.*held-out"):
        evaluate_agent(trained[0], users="train")
    with pytest.raises(AgentError, match="not a MaskablePPO model"):
        as_agent(trained[1], algorithm="maskable-ppo")
