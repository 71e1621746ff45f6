"""The orderings the science expects, pinned on the `quick` suite (orderings, not numbers)."""

import json

import pytest

from recworld.benchmarks.runner import run_suite
from recworld.benchmarks.suite import load_suite
from recworld.cli import main

pytestmark = pytest.mark.realdata


def test_cold_start_oracle_beats_popularity_beats_random(tmp_path):
    quick = load_suite("quick")
    (cold_start,) = [env for env in quick.envs if env.label == "ColdStart"]
    assert {"random", "popularity", "oracle"} <= set(cold_start.agents)
    env = cold_start.model_copy(update={"agents": ("random", "popularity", "oracle")})
    suite = quick.model_copy(update={"envs": (env,), "comparisons": None})
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
    """The README's main job: every cell runs, and the orderings the calibrated world and its replay
    twin agree on hold (orderings, with 95% intervals that do not overlap where they are pinned)."""
    code = main(["bench", "run", "--suite", "quick", "--out", str(tmp_path)])
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert code == 0 and summary["failed"] == []
    listed = {env.label: set(env.agents) for env in load_suite("quick").envs}
    assert {env: set(data["agents"]) for env, data in summary["envs"].items()} == listed

    def stats(env, agent):
        return summary["envs"][env]["agents"][agent]["metrics"]["return"]

    def clearly_better(env, better, worse):
        assert stats(env, better)["mean_low"] > stats(env, worse)["mean_high"], (env, better, worse)

    references = {"oracle", "oracle-planner"}  # privileged upper references
    for env in ("ColdStart", "Engagement"):
        for agent in listed[env] - references:
            clearly_better(env, "oracle", agent)
    # Engagement's delayed effects: planning on the true state beats the myopic oracle (paired), and
    # the learner that prices repetition's later cost beats every bandit and the genre-level learner.
    gaps = {c["label"]: c for c in summary["envs"]["Engagement"]["comparisons"]}
    planning = gaps["planning gap: planner vs myopic oracle"]["difference"]
    assert planning["low"] > 0, planning
    for worse in ("thompson", "q-learning", "popularity"):
        clearly_better("Engagement", "slate-q", worse)
    for better, worse in [("popularity", "random"), ("thompson", "popularity"), ("linucb", "popularity")]:
        clearly_better("ColdStart", better, worse)
    assert stats("ColdStart", "meta-greedy")["mean"] > stats("ColdStart", "popularity")["mean"]
    for learner in ("log-pop-entropy", "uncertainty"):  # answers teach the Bayes-consistent recommender
        clearly_better("Elicitation", learner, "random")
