"""The agents' meta model: trained on the environment's training users only, cached on disk, memoised."""

import gymnasium as gym
import numpy as np
import pytest

from recworld.agents import AgentError
from recworld.agents import meta_model as mm
from recworld.data import cache_root
from recworld.envs.context import env_context, kernel_of
from recworld.models import EmbeddingModel

pytestmark = pytest.mark.realdata


def test_the_split_holds_training_users_with_13_to_100_ratings_only():
    env = gym.make("recworld/Elicitation-v0", users="test")
    context, world = env_context(env), kernel_of(env).world
    split = mm.meta_split(context.train_data, seed=0)
    users = np.concatenate([split.train, split.validation])
    counts = context.train_data.counts_per_user()[users]
    assert counts.min() >= 13 and counts.max() <= 100
    assert np.isin(users, world.split.train).all()
    assert not np.isin(users, world.split.test).any() and not np.isin(users, world.population).any()
    assert len(split.test) == 0 and not np.isin(split.train, split.validation).any()


def test_trained_once_then_memoised_and_cached_on_disk():
    context = env_context(gym.make("recworld/ColdStart-v0"))
    model = mm.trained_meta_model(context, seed=0)
    assert mm.trained_meta_model(context, seed=0) is model
    split = mm.meta_split(context.train_data, 0)
    config = mm.DEFAULT_CONFIG.__class__(**{**mm.DEFAULT_CONFIG.to_dict(), "seed": 0})
    directory = cache_root() / "models" / mm.cache_key(context.train_data, split, config)
    reloaded = EmbeddingModel.load(directory)
    for name, tensor in model.net.state_dict().items():
        np.testing.assert_array_equal(tensor.numpy(), reloaded.net.state_dict()[name].numpy())


def test_too_few_training_users_is_a_clear_error():
    context = env_context(gym.make("recworld/ColdStart-v0"))
    few = context.train_data.select(np.zeros(context.train_data.n_ratings, dtype=bool))
    with pytest.raises(AgentError, match="only 0 users with 13 to 100 ratings"):
        mm.meta_split(few, seed=0)
