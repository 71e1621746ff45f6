"""Suite files: the shipped suites load; every kind of mistake raises one clear `SuiteError`."""

import pytest

from recworld.benchmarks.suite import SuiteError, load_suite, parse_suite, shipped_suites

MINIMAL = """
seeds = [0, 1]
[[envs]]
id = "recworld/ColdStart-v0"
agents = ["random", "popularity"]
"""


def test_shipped_suites_load_and_expand_to_cells():
    assert {"quick", "default", "full"} <= set(shipped_suites())
    quick = load_suite("quick")
    assert quick.name == "quick" and len(quick.seeds) >= 2
    labels = {env.label for env in quick.envs}
    assert labels == {"ColdStart", "Elicitation", "Engagement"}
    cells = quick.cells()
    assert len(cells) == sum(len(env.agents) for env in quick.envs) * len(quick.seeds)
    assert len({cell.key for cell in cells}) == len(cells)
    default = load_suite("default")
    assert len(default.seeds) >= 5
    families = {"oracle", "thompson", "meta-greedy", "log-pop-entropy", "ppo", "q-learning"}
    listed = {agent for env in default.envs for agent in env.agents}
    assert families <= listed


def test_minimal_suite_defaults_and_round_trip(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(MINIMAL)
    suite = load_suite(path)
    assert suite.name == "mine" and suite.seeds == (0, 1) and suite.metrics[0] == "return"
    cell = suite.cells()[0]
    assert cell.key == "ColdStart__random__0" and cell.agent_name == "random" and cell.budget == suite.budget
    assert type(suite).model_validate(suite.model_dump()).cells() == suite.cells()


def test_agent_labels_params_and_budget_precedence():
    suite = parse_suite(
        """
        seeds = [3]
        budget = 100
        [agents.eps]
        agent = "epsilon-greedy"
        params = { epsilon = 0.2 }
        budget = 7
        [[envs]]
        id = "recworld/Engagement-v0"
        label = "Eng-short"
        kwargs = { horizon = 10 }
        budget = 50
        agents = ["eps", "q-learning", "no-such-agent-yet"]
        """
    )
    by_agent = {cell.agent: cell for cell in suite.cells()}
    assert by_agent["eps"].agent_name == "epsilon-greedy" and by_agent["eps"].params == {"epsilon": 0.2}
    assert by_agent["eps"].budget == 7 and by_agent["q-learning"].budget == 50
    assert by_agent["no-such-agent-yet"].key == "Eng-short__no-such-agent-yet__3"  # left to the cell


ENV = '[[envs]]\nid = "recworld/ColdStart-v0"\nagents = ["random"]\n'
INVALID = [
    ("seeds = [0\n" + ENV, "not valid TOML"),
    (ENV, "seeds: missing"),
    ("seeds = []\n" + ENV, "non-empty list of integers"),
    ("seeds = [0, 0]\n" + ENV, "repeats a seed"),
    ("seeds = [-1]\n" + ENV, "seeds[0]: must be at least 0"),
    ("seeds = [1.5]\n" + ENV, "seeds[0]: expected an integer"),
    ("seeds = [0]\nbudgett = 5\n" + ENV, "unknown key 'budgett'"),
    ("seeds = [0]\nbudget = 0\n" + ENV, "budget: must be at least 1"),
    ("seeds = [0]\nbootstrap = 10\n" + ENV, "bootstrap: must be at least 100"),
    ("seeds = [0]\nmetrics = ['return', 'ctr']\n" + ENV, "unknown metric 'ctr'"),
    ("seeds = [0]\n", "envs: missing"),
    (
        'seeds = [0]\n[[envs]]\nid = "recworld/Nope-v0"\nagents = ["random"]\n',
        "unknown environment 'recworld/Nope-v0'",
    ),
    ('seeds = [0]\n[[envs]]\nagents = ["random"]\n', "envs[0].id: missing"),
    ('seeds = [0]\n[[envs]]\nid = "recworld/ColdStart-v0"\n', "envs[0].agents: missing"),
    ('seeds = [0]\n[[envs]]\nid = "recworld/ColdStart-v0"\nagents = []\n', "non-empty list"),
    ('seeds = [0]\n[[envs]]\nid = "recworld/ColdStart-v0"\nagents = ["a", "a"]\n', "listed twice"),
    ('seeds = [0]\n[[envs]]\nid = "recworld/ColdStart-v0"\nagents = ["a b"]\n', "cannot name a record file"),
    ('seeds = [0]\n[[envs]]\nid = "recworld/ColdStart-v0"\nagents = ["a__b"]\n', "no '__'"),
    (
        'seeds = [0]\n[[envs]]\nid = "recworld/ColdStart-v0"\nkwargs = { users = "all" }\n'
        'agents = ["random"]\n',
        "'users' cannot be set",
    ),
    (
        'seeds = [0]\n[[envs]]\nid = "recworld/ColdStart-v0"\nkwargs = 3\nagents = ["random"]\n',
        "expected a table",
    ),
    (
        'seeds = [0]\n[[envs]]\nid = "recworld/ColdStart-v0"\nscore = "coverage"\nagents = ["random"]\n',
        "per-user",
    ),
    (
        'seeds = [0]\n[[envs]]\nid = "recworld/ColdStart-v0"\nbatch = -1\nagents = ["random"]\n',
        "batch: must be",
    ),
    ("seeds = [0]\n" + ENV + ENV, "two environments are labelled 'ColdStart'"),
    (
        (
            'seeds = [0]\n[[envs]]\nid = "recworld/ColdStart-v0"\n'
            'kwargs = { when = 1979-05-27 }\nagents = ["a"]\n'
        ),
        "envs[0].kwargs.when: 1979-05-27 is a date",
    ),
    ("seeds = [0]\n[agents.x]\nagnet = 'random'\n" + ENV, "agents.x: unknown key 'agnet'"),
    ("seeds = [0]\n[agents.x]\nparams = { seed = 1 }\n" + ENV, "`seed` comes from the suite's seeds"),
    (
        "seeds = [0]\n" + ENV + "[[comparisons]]\nenv = 'Other'\ncandidates = ['a']\nbaselines = ['b']\n",
        "no environment",
    ),
    (
        "seeds = [0]\n" + ENV + "[[comparisons]]\nenv = 'ColdStart'\ncandidates = ['a']\nbaselines = ['a']\n",
        "both a candidate and a baseline",
    ),
]


@pytest.mark.parametrize(("text", "message"), INVALID, ids=[m for _, m in INVALID])
def test_invalid_suites_raise_one_clear_error(text, message):
    with pytest.raises(SuiteError) as caught:
        parse_suite(text, source="bad.toml")
    assert message in str(caught.value)
    assert str(caught.value).startswith("bad.toml")


def test_unknown_suite_name_and_missing_file(tmp_path):
    with pytest.raises(SuiteError, match=r"no suite named 'quik'; shipped suites: .*quick"):
        load_suite("quik")
    with pytest.raises(SuiteError, match="does not exist"):
        load_suite(tmp_path / "missing.toml")
