"""The orderings the science expects, pinned on the `quick` suite (orderings, not numbers)."""

import dataclasses
import json

import pytest

from recworld.agents import AGENTS
from recworld.benchmarks.runner import run_suite
from recworld.benchmarks.suite import load_suite
from recworld.cli import main

pytestmark = pytest.mark.realdata


def test_cold_start_oracle_beats_popularity_beats_random(tmp_path):
    quick = load_suite("quick")
    (cold_start,) = [env for env in quick.envs if env.label == "ColdStart"]
    assert {"random", "popularity", "oracle"} <= set(cold_start.agents)
    env = dataclasses.replace(cold_start, agents=("random", "popularity", "oracle"))
    suite = dataclasses.replace(quick, envs=(env,), comparisons=None)
    result = run_suite(suite, tmp_path, workers=0, progress=False)
    assert result.ok and result.summary is not None
    table = result.summary["envs"]["ColdStart"]
    assert table["ranking"] == ["oracle", "popularity", "random"]
    returns = {agent: table["agents"][agent]["metrics"]["return"] for agent in table["ranking"]}
    # Not only the means: the 95% intervals do not overlap.
    assert returns["oracle"]["mean_low"] > returns["popularity"]["mean_high"]
    assert returns["popularity"]["mean_low"] > returns["random"]["mean_high"]
    assert table["agents"]["oracle"]["metrics"]["regret"]["mean"] == pytest.approx(0.0, abs=1e-4)


@pytest.mark.expensive
def test_the_whole_quick_suite(tmp_path):
    """The README's main job. Cells of agents not registered yet fail (and are reported); the
    orderings are checked among the agents that ran."""
    code = main(["bench", "run", "--suite", "quick", "--out", str(tmp_path)])
    summary = json.loads((tmp_path / "summary.json").read_text())
    listed = {agent for env in load_suite("quick").envs for agent in env.agents}
    assert code == (0 if listed <= set(AGENTS) else 1)
    assert {f["key"].split("__")[1] for f in summary["failed"]} <= listed - set(AGENTS)

    def mean(env, agent):
        return summary["envs"][env]["agents"][agent]["metrics"]["return"]["mean"]

    scored = {env: set(data["agents"]) for env, data in summary["envs"].items()}
    for env in ("ColdStart", "Engagement"):  # the oracle is the upper reference
        for agent in scored[env] - {"oracle"}:
            assert mean(env, "oracle") > mean(env, agent)
    for better, worse in [("popularity", "random"), ("thompson", "random"), ("linucb", "popularity")]:
        if {better, worse} <= scored["ColdStart"]:
            assert mean("ColdStart", better) > mean("ColdStart", worse)
    if {"meta-greedy", "popularity"} <= scored["ColdStart"]:
        assert mean("ColdStart", "meta-greedy") > mean("ColdStart", "popularity")
