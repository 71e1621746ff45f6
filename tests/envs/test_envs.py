"""What needs MovieLens-100K itself (the environments' default dataset): the titles in a rendering, the
custom simulator example over its genres, its cached worlds, a make by id in a fresh interpreter and a
thousand users in one vector env. The contracts that hold on any data run on a synthetic world in
test_synthetic_world.py."""

import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest

import recworld
from recworld.envs import ENV_IDS

pytestmark = pytest.mark.realdata  # the environments default to MovieLens-100K


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


def test_a_custom_simulator_plugs_in():
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


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_vector_env_outputs_are_the_callers_to_keep(env_id):
    """What a vector step returns (rewards, flags, info) is not overwritten by the next step, in both
    autoreset modes: the kernel hands out copies (`Kernel.step(fresh=True)`), not its own buffers."""
    for mode in ("next-step", "same-step"):
        env = gym.make_vec(env_id, num_envs=8, vectorization_mode="vector_entry_point", autoreset_mode=mode)
        env.reset(seed=0)
        rng = np.random.default_rng(0)
        kept = []
        for _ in range(12):
            _, reward, terminated, truncated, info = env.step(rng.integers(0, 1682, 8))
            arrays = {"reward": reward, "terminated": terminated, "truncated": truncated}
            arrays.update({key: value for key, value in info.items() if isinstance(value, np.ndarray)})
            kept.append((arrays, {key: value.copy() for key, value in arrays.items()}))
        for arrays, values in kept:
            for key, array in arrays.items():
                np.testing.assert_array_equal(array, values[key], err_msg=f"{mode}: {key}")
        first, last = kept[0][0], kept[-1][0]
        assert not np.shares_memory(first["reward"], last["reward"])
        assert not np.shares_memory(first["rating"], last["rating"])
