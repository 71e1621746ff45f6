"""Agents of your own in the benchmark: ``package.module:Class`` names, worker deaths explained."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from recworld.agents import AgentError, make_agent
from recworld.agents.registry import agent_class
from recworld.benchmarks.runner import run_local
from recworld.benchmarks.suite import Cell

ROOT = Path(__file__).resolve().parents[2]


def test_a_class_outside_the_package_is_an_agent_name():
    agent = make_agent("tests.benchmarks.agents_outside:DyingAgent", seed=3)
    assert type(agent).__name__ == "DyingAgent" and agent.seed == 3


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("no_such_module:Agent", "cannot import module 'no_such_module'.*PYTHONPATH"),
        ("tests.benchmarks.agents_outside:Missing", "has no attribute 'Missing'"),
        ("tests.benchmarks.agents_outside:NotAnAgent", "is not an agent class"),
        ("genre-greedy", "unknown agent 'genre-greedy'.*package.module:Class"),
    ],
)
def test_bad_agent_names_say_what_to_do(name, message):
    with pytest.raises(AgentError, match=message):
        agent_class(name)


@pytest.mark.realdata
def test_a_worker_that_dies_records_why():
    cell = Cell(
        env="ColdStart",
        env_id="recworld/ColdStart-v0",
        env_kwargs={"horizon": 2},
        agent="dying",
        agent_name="tests.benchmarks.agents_outside:DyingAgent",
        params={},
        seed=0,
        budget=1,
    )
    records = []
    run_local([cell], records.append, workers=1)
    (record,) = records
    assert record.status == "failed"
    message = record.error["message"]
    assert "died, twice" in message and "killed by signal 9" in message
    assert "the GPU driver is gone" in message  # the real cause, from the retry's stderr


@pytest.mark.realdata
@pytest.mark.expensive
def test_the_custom_agent_example_runs_in_the_benchmark(tmp_path):
    """The README's command, from the repository root, in spawned worker processes."""
    env = {**os.environ, "PYTHONPATH": "examples"}
    done = subprocess.run(
        [sys.executable, "-m", "recworld.cli", "bench", "run", "--suite", "examples/custom_agent.toml",
         "--out", str(tmp_path), "--workers", "2"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["failed"] == []
    assert set(summary["envs"]["ColdStart"]["agents"]) == {"random", "popularity", "genre-greedy"}
