"""`recworld bench speed` measures the environments on the dataset it is given."""

import pytest

from recworld.benchmarks.speed import env_speed, format_speed

pytestmark = pytest.mark.realdata


def test_environment_speed_names_its_dataset_and_covers_every_environment():
    results = env_speed("movielens-100k", num_envs=4, single_steps=20, vector_steps=2)
    assert results["env_dataset"] == "movielens-100k" and results["num_envs"] == 4
    assert set(results["single_env_steps_per_s"]) == set(results["vector_user_steps_per_s"])
    assert all(rate > 0 for rate in results["single_env_steps_per_s"].values())
    text = format_speed({"machine": "test", **results})
    assert "environments on movielens-100k (vector: 4 users)" in text
