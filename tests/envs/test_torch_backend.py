"""backend="torch": the same streams as the numpy backend, the same environment in distribution (on CPU)."""

import gymnasium as gym
import numpy as np
import pytest
import torch
from scipy import stats

import recworld  # noqa: F401 - registers the environments
from recworld.envs.torch_backend import counter_uniforms, stream_keys
from recworld.numerics import counter


def test_counter_streams_are_the_numpy_ones_bit_for_bit():
    seeds, streams = np.array([0, 1, 7, 2**62]), np.array([0, 5, 2**33, 1])
    keys = counter.stream_keys(counter.seed_words(seeds), streams.astype(np.uint64))
    ours = stream_keys(torch.tensor(seeds), torch.tensor(streams))
    np.testing.assert_array_equal(ours.numpy(), keys.view(np.int64))
    steps = np.array([0, 9, 99, counter.RESET_STEP])
    np.testing.assert_array_equal(
        counter_uniforms(ours, torch.tensor(steps), 5).numpy(), counter.uniforms(keys, steps, 5)
    )


def rollout(env_id, backend, kwargs, users=1024, steps=40):
    env = gym.make_vec(
        env_id, num_envs=users, vectorization_mode="vector_entry_point", backend=backend, **kwargs
    )
    obs, _ = env.reset(seed=3)
    rng = np.random.default_rng(0)
    shape = (users,) if "slate_size" not in kwargs else (users, kwargs["slate_size"])
    rewards, infos = [], []
    for _ in range(steps):
        obs, reward, _, _, info = env.step(rng.integers(0, 1682, shape))
        rewards.append(np.asarray(reward))
        infos.append({key: np.asarray(value) for key, value in info.items()})
    return env, obs, np.stack(rewards), infos


@pytest.mark.parametrize(
    ("env_id", "kwargs"),
    [
        ("recworld/ColdStart-v0", {}),
        ("recworld/ColdStart-v0", {"slate_size": 3, "choice_model": "cascade", "reward": "click"}),
        ("recworld/Engagement-v0", {}),
    ],
)
def test_the_torch_backend_agrees_with_numpy_in_distribution(env_id, kwargs):
    torch.set_num_threads(1)  # small tensors: threads only wait for each other on a busy machine
    numpy_env, numpy_obs, numpy_rewards, numpy_infos = rollout(env_id, "numpy", kwargs)
    torch_env, torch_obs, torch_rewards, torch_infos = rollout(env_id, "torch", kwargs)
    assert torch_env.single_observation_space == numpy_env.single_observation_space
    assert torch_env.single_action_space == numpy_env.single_action_space
    assert set(torch_infos[-1]) == set(numpy_infos[-1])
    assert set(torch_obs) == set(numpy_obs)
    for key in numpy_obs:
        assert tuple(torch_obs[key].shape) == numpy_obs[key].shape
        assert torch_obs[key].dtype == torch.float32
    # the same streams: the same users, and returns equal in distribution
    np.testing.assert_array_equal(torch_infos[0]["user"], numpy_infos[0]["user"])
    numpy_returns, torch_returns = numpy_rewards.sum(0), torch_rewards.sum(0)
    assert abs(numpy_returns.mean() - torch_returns.mean()) < 0.02 * max(1.0, abs(numpy_returns.mean()))
    assert stats.ks_2samp(numpy_returns, torch_returns).pvalue > 0.01
    for key in ("expected_rating", "regret"):
        a = np.concatenate([info[key] for info in numpy_infos])
        b = np.concatenate([info[key] for info in torch_infos])
        assert abs(a.mean() - b.mean()) < 0.01 * max(1.0, abs(a.mean())), key


def test_the_torch_backend_refuses_bad_members_before_anything_changes():
    """As the numpy backend: a bad ``members`` list raises, and the next reset is the one it would
    have been."""
    env, twin = (
        gym.make_vec(
            "recworld/ColdStart-v0", num_envs=3, vectorization_mode="vector_entry_point", backend="torch"
        )
        for _ in range(2)
    )
    env.reset(seed=2)
    twin.reset(seed=2)
    n = len(env.unwrapped.kernel.population)
    with pytest.raises(ValueError, match=f"members must be 3 positions in the population of {n} users"):
        env.reset(options={"members": [0, 1, n]})
    np.testing.assert_array_equal(env.unwrapped.kernel.user.numpy(), twin.unwrapped.kernel.user.numpy())
    np.testing.assert_array_equal(env.reset()[1]["user"].numpy(), twin.reset()[1]["user"].numpy())


def test_the_torch_backend_says_what_it_does_not_do():
    with pytest.raises(ValueError, match="backend='numpy' only"):
        gym.make_vec(
            "recworld/Elicitation-v0", num_envs=2, vectorization_mode="vector_entry_point", backend="torch"
        )
    with pytest.raises(ValueError, match="needs backend='torch'"):
        gym.make_vec(
            "recworld/ColdStart-v0", num_envs=2, vectorization_mode="vector_entry_point", device="cpu"
        )
    with pytest.raises(ValueError, match="is not one of numpy, torch"):
        gym.make_vec(
            "recworld/ColdStart-v0", num_envs=2, vectorization_mode="vector_entry_point", backend="jax"
        )


def test_the_gpu_training_example_runs_on_the_cpu():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "examples" / "train_torch_ppo.py"
    spec = importlib.util.spec_from_file_location("train_torch_ppo", path)
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    summary = example.main(["--device", "cpu", "--num-envs", "64", "--iterations", "2", "--epochs", "1"])
    assert 0.0 <= summary["mean_reward_per_step"] <= 1.0  # reward="like"
    assert summary["env_user_steps_per_s"] > summary["end_to_end_user_steps_per_s"] > 0


def stepped_torch_kernel(env_id, users, steps, best_first=0, **options):
    """The kernel of a torch-backend vector env after ``steps`` random steps, the first ``best_first``
    of which show each user its member's best items by static score (the searches must look past
    them)."""
    env = gym.make_vec(
        env_id, num_envs=users, vectorization_mode="vector_entry_point", backend="torch", **options
    )
    env.reset(seed=5)
    kernel = env.unwrapped.kernel
    s = kernel.slate_size
    static = kernel.table[kernel.population].argsort(dim=1, descending=True)
    generator = torch.Generator().manual_seed(0)
    for t in range(steps):
        if t < best_first:
            actions = static[kernel.member, t * s : (t + 1) * s]
        else:
            actions = torch.randint(0, kernel.n_items, (users, s), generator=generator)
        env.step(actions)
    return kernel


@pytest.mark.parametrize(("width", "slate_size"), [(16, 1), (1, 1), (2, 3)])
def test_the_shifted_search_finds_the_catalogs_best_unseen_scores(monkeypatch, width, slate_size):
    """Engagement's search of a few items per user (`_best_shifted`) returns what a scan of every
    user's whole catalog returns: after the best items were shown (the pointer passes them), with a
    window as narrow as a slate, and where a strong genre liking sends users to the scan."""
    from recworld.envs.torch_backend import TorchRecommendationKernel

    monkeypatch.setattr(TorchRecommendationKernel, "search_width", width)
    torch.set_num_threads(1)
    kernel = stepped_torch_kernel(
        "recworld/Engagement-v0", users=300, steps=30, best_first=20 // slate_size, slate_size=slate_size
    )
    # a strong liking for one genre in half the users (drift at its limit): items far down their
    # static lists can then beat the window, which only the bound on the shift's rise catches
    liking = torch.arange(0, 300, 2)
    kernel.affinity[liking, torch.randint(0, kernel.affinity.shape[1], (150,))] = 1.0
    pref = kernel._preference()
    assert pref is not None and bool((pref.abs() > 0).any())
    catalog = kernel.table[kernel.user] + pref @ kernel.profiles.T
    expected = catalog.masked_fill(kernel.shown, -torch.inf).topk(kernel.slate_size, dim=1).values
    torch.testing.assert_close(kernel._best_shifted(pref), expected, rtol=1e-5, atol=1e-5)
    # the pointer moved past the best items shown, and the window held the answer for some users
    # and not for others (who needed the scan)
    shown_best = (20 // slate_size) * slate_size
    passed = kernel.shown.gather(1, kernel.static_order[kernel.member, :shown_best]).all(1)
    assert bool(passed.any()) and bool((kernel.pointer[passed] >= shown_best).all())
    best_item = catalog.masked_fill(kernel.shown, -torch.inf).argmax(1)
    position = (kernel.static_order[kernel.member] == best_item[:, None]).float().argmax(1)
    beyond = position >= kernel.pointer + kernel.window_width
    assert bool(beyond.any()) and not bool(beyond.all())


def test_the_listed_search_moves_past_what_was_shown():
    """ColdStart's pointer into each user's best items (`_best_listed`) lands on the first unseen
    item of the list, as the numpy kernel's `best_unseen` does, also after the best were shown."""
    torch.set_num_threads(1)
    kernel = stepped_torch_kernel("recworld/ColdStart-v0", users=200, steps=12, best_first=4)
    rows = torch.arange(200)[:, None]
    kernel.shown[rows[::2], kernel.top[kernel.member[::2], :8]] = True  # the pointer must pass all 8 at once
    found = kernel._best_listed()
    unseen = ~kernel.shown.gather(1, kernel.top[kernel.member])
    first = unseen.float().argmax(1)
    assert bool(unseen.any(1).all()) and bool((first >= 8).any())
    np.testing.assert_array_equal(kernel.pointer.numpy(), first.numpy())
    expected = kernel.top_expected[kernel.member].gather(1, first[:, None])[:, 0].double()
    torch.testing.assert_close(found, expected)
