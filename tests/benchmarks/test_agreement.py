"""`recworld bench validate`: the same agents in the world and on its replay twin, Kendall's tau."""

import json

import pytest

from recworld.benchmarks.agreement import twin_suite
from recworld.benchmarks.suite import SuiteError, parse_suite
from recworld.cli import main

SUITE = """
name = "twins"
seeds = [0]
[[envs]]
id = "recworld/ColdStart-v0"
kwargs = { horizon = 6 }
agents = ["random", "popularity", "oracle"]
[[envs]]
id = "recworld/Elicitation-v0"
kwargs = { budget = 3 }
agents = ["random", "popularity"]
[[envs]]
id = "recworld/Engagement-v0"
kwargs = { horizon = 5 }
agents = ["random"]
"""


def test_twin_suite_pairs_each_environment_that_has_a_replay_twin():
    twins = twin_suite(parse_suite(SUITE))
    assert [env.label for env in twins.envs] == [
        "ColdStart-world",
        "ColdStart-real",
        "Elicitation-world",
        "Elicitation-real",
    ]
    assert twins.envs[0].kwargs == {"horizon": 6, "candidates": "rated"}
    assert twins.envs[1].kwargs == {"horizon": 6, "simulator": "replay"}


def test_a_suite_without_twins_is_refused():
    only_engagement = 'seeds = [0]\n[[envs]]\nid = "recworld/Engagement-v0"\nagents = ["random"]\n'
    with pytest.raises(SuiteError, match="no environment with a replay twin"):
        twin_suite(parse_suite(only_engagement))


@pytest.mark.realdata
def test_bench_validate_reports_tau_scores_and_answer_rates(tmp_path, capsys):
    suite = tmp_path / "twins.toml"
    suite.write_text(SUITE)
    out = tmp_path / "out"
    code = main(["bench", "validate", "--suite", str(suite), "--out", str(out), "--workers", "0", "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report) == {"recworld/ColdStart-v0", "recworld/Elicitation-v0"}
    cold = report["recworld/ColdStart-v0"]
    assert set(cold["agents"]) == {"random", "popularity", "oracle"}
    assert -1 <= cold["tau_ci_low"] <= cold["kendall_tau"] <= cold["tau_ci_high"] <= 1
    # The oracle reads each side's own truth, so it tops both rankings; random is last in both.
    for side in ("world", "real"):
        ranked = sorted(cold["agents"], key=lambda a: -cold["agents"][a][side])
        assert ranked[0] == "oracle" and ranked[-1] == "random"
    elicitation = report["recworld/Elicitation-v0"]["agents"]
    for row in elicitation.values():
        assert 0 <= row["answer_rate_world"] <= 1 and 0 <= row["answer_rate_real"] <= 1
    # Popular films are known by more real users than random ones, in the data and in the world.
    assert elicitation["popularity"]["answer_rate_real"] > elicitation["random"]["answer_rate_real"]
    assert elicitation["popularity"]["answer_rate_world"] > elicitation["random"]["answer_rate_world"]
    assert (out / "agreement.md").read_text().startswith("# Simulated vs real")
    assert (out / "agreement_ColdStart.png").read_bytes()[:4] == b"\x89PNG"
