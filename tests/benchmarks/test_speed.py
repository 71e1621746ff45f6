"""`recworld bench speed` measures the environments on the dataset it is given, beside a bare kernel."""

import re

import numpy as np
import pytest

from recworld.benchmarks.speed import (
    VECTOR_GOALS,
    bare_step_speed,
    env_memory,
    env_speed,
    format_speed,
    source_commit,
    startup_seconds,
    torch_speed,
)

pytestmark = pytest.mark.realdata


def small_env_speed(**options):
    """`env_speed` on MovieLens-100K with a few users and steps, one round, no start-up probes."""
    defaults = {"num_envs": 2, "single_steps": 5, "vector_steps": 1, "memory_users": (), "repeats": 1}
    return env_speed("movielens-100k", **{**defaults, **options}, startup=False)


def test_environment_speed_names_its_dataset_and_covers_every_environment():
    results = small_env_speed(num_envs=4, single_steps=20, vector_steps=2, memory_users=(8,))
    assert results["env_dataset"] == "movielens-100k" and results["num_envs"] == 4
    assert set(results["vector_user_steps_per_s"]) <= set(results["single_env_steps_per_s"])
    assert "recworld/OBD-Replay-v0" in results["single_env_steps_per_s"]  # every registered id
    assert all(rate > 0 for rate in results["single_env_steps_per_s"].values())
    bare = results["bare_kernel"]
    for label, rate in results["vector_user_steps_per_s"].items():
        ratio = results["ratio_to_bare"]["vector"][label]
        assert ratio == pytest.approx(rate / bare["vector_user_steps_per_s"])
    assert results["threads"] >= 1  # the vector environments' threads; timed on one as well
    assert set(results["vector_user_steps_per_s_one_thread"]) == set(results["vector_user_steps_per_s"])
    for label, rate in results["vector_user_steps_per_s_one_thread"].items():
        ratio = results["ratio_to_bare"]["vector_one_thread"][label]
        assert rate > 0 and ratio == pytest.approx(rate / bare["vector_user_steps_per_s"])
    assert set(results["peak_memory_mb"]) == set(VECTOR_GOALS)
    assert all(mb >= 0 for peaks in results["peak_memory_mb"].values() for mb in peaks.values())
    text = format_speed({"machine": "test", **results})
    assert "environments on movielens-100k (vector: 4 users; medians of 1 rounds); bare kernel" in text
    assert "goal 5,000,000" in text and "peak memory added: 8 users" in text
    assert "; one thread " in text


def test_peak_memory_counts_at_least_what_the_environment_holds():
    """A vector environment holds at least its users' shown flags (a byte per user and item): the
    measure sees them even where the process's heap held freed blocks it could have served them from."""
    n_users, n_items = 1024, 1682
    assert env_memory("recworld/ColdStart-v0", n_users) >= n_users * n_items / 2**20


def test_ratios_are_medians_of_each_rounds_own_ratio(monkeypatch):
    """Each round times the bare kernel and then every environment; a ratio is the median over the
    rounds of an environment's speed over its round's bare kernel (a slow spell of a shared machine
    falls on one round), not a ratio of medians."""
    from recworld.benchmarks import speed

    bare = iter([100.0, 1000.0, 50.0, 500.0, 200.0, 2000.0])  # single, vector per round
    calls: list[object] = []  # the environments timed, in order (a replay without its data is not)

    def single(env, steps):
        calls.append(env)
        return 10.0 * len(calls)

    monkeypatch.setattr(speed, "bare_step_speed", lambda n_users, steps: next(bare))
    monkeypatch.setattr(speed, "_single_speed", single)
    monkeypatch.setattr(speed, "_vector_speed", lambda env, steps: calls.append(env) or 1.0)
    results = small_env_speed(repeats=3)
    assert results["rounds"] == 3 and len(calls) % 3 == 0
    assert results["bare_kernel"]["single_steps_per_s"] == 100.0
    per_round = len(calls) // 3
    label = "recworld/ColdStart-v0"  # the first environment timed in each round
    rates = [10.0 * (1 + per_round * r) for r in range(3)]
    assert results["single_env_steps_per_s"][label] == np.median(rates)
    expected = np.median([rate / b for rate, b in zip(rates, [100.0, 50.0, 200.0], strict=True)])
    assert results["ratio_to_bare"]["single"][label] == pytest.approx(expected)
    assert expected != pytest.approx(np.median(rates) / 100.0)  # not the ratio of the medians


def test_the_bare_kernel_scales_with_the_batch():
    """The yardstick itself: a batched numpy step serves many users for little more than one."""
    assert bare_step_speed(256, 20) > 10 * bare_step_speed(1, 20)


@pytest.mark.expensive
def test_start_up_is_measured_cold_then_warm_in_fresh_processes():
    """A cold compile (an empty compiled-code cache), then a process that finds the cache."""
    runs = startup_seconds("recworld/ColdStart-v0")
    assert set(runs) == {"cold", "warm"}
    for times in runs.values():
        assert set(times) == {"import", "make", "first_step"} and all(t > 0 for t in times.values())
    text = format_speed({"machine": "test", **_with_startup(runs)})
    assert "recworld/ColdStart-v0 start-up (cold: import" in text


def _with_startup(runs):
    return {**small_env_speed(), "startup_s": {"recworld/ColdStart-v0": runs}}


def test_the_torch_backend_is_timed_beside_an_eager_bare_kernel_on_its_device():
    import torch

    torch.set_num_threads(1)
    results = torch_speed(device="cpu", num_envs=(64,), steps=3, repeats=1)
    assert results["device"] == "cpu" and results["sizes"] == [64]
    assert set(results["user_steps_per_s"]) == {"recworld/ColdStart-v0", "recworld/Engagement-v0"}
    assert all(rate["64"] > 0 for rate in results["user_steps_per_s"].values())
    text = format_speed({"machine": "test", "torch_backend": results})
    assert "torch backend on cpu" in text and "goal" not in text  # the GPU goal is judged on a GPU only
    on_gpu = {**results, "device": "cuda:0", "device_name": "H200", "sizes": [1_000_000]}
    on_gpu["user_steps_per_s"] = {"recworld/ColdStart-v0": {"1000000": 3e8}}
    on_gpu["bare_user_steps_per_s"] = {"1000000": 7e8}
    assert "goal 250,000,000: met" in format_speed({"machine": "test", "torch_backend": on_gpu})


def test_a_size_the_device_cannot_hold_is_reported_and_the_others_still_measured(monkeypatch, capsys):
    import torch

    from recworld.benchmarks import speed

    def rate(env_id, n, *args):
        if env_id == "recworld/Engagement-v0" and n == 128:
            raise torch.OutOfMemoryError("CUDA out of memory")
        return 1000.0 * n

    monkeypatch.setattr(speed, "_torch_env_rate", rate)
    monkeypatch.setattr(speed, "bare_torch_step_speed", lambda n, steps, device: 5000.0 * n)
    results = torch_speed(device="cpu", num_envs=(64, 128), steps=1, repeats=1)
    assert results["user_steps_per_s"]["recworld/ColdStart-v0"] == {"64": 64_000.0, "128": 128_000.0}
    assert results["user_steps_per_s"]["recworld/Engagement-v0"] == {"64": 64_000.0}
    assert results["out_of_memory"] == {"recworld/Engagement-v0": [128]}
    assert "recworld/Engagement-v0 at 128 users: out of memory" in capsys.readouterr().err
    text = format_speed({"machine": "test", "torch_backend": results})
    assert "recworld/Engagement-v0: out of memory at 128 users" in text


def test_the_record_names_the_checkouts_commit():
    commit = source_commit()
    assert commit is None or re.fullmatch(r"[0-9a-f]{7,40}(\+changes)?", commit)
    assert format_speed({"machine": "test", "commit": "abc1234"}).startswith("machine: test; commit abc1234")
