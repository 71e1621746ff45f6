"""The benchmark's protocol: every agent in a known family; default comparisons by family."""

from __future__ import annotations

from recworld.agents import AGENTS
from recworld.agents.base import FAMILIES
from recworld.benchmarks.protocol import DEFAULT_COMPARISONS, agents_named, with_families


def test_every_registered_agent_belongs_to_known_families() -> None:
    assert not set(FAMILIES) & set(AGENTS), "a family may not share its name with an agent"
    for name, cls in AGENTS.items():
        assert cls.families, f"{name} belongs to no family"
        assert cls.families <= set(FAMILIES), f"{name}: unknown family in {sorted(cls.families)}"


def test_default_comparisons_select_families_among_the_agents_of_the_kind() -> None:
    assert agents_named({"meta"}, "ColdStart") == ("meta-greedy", "meta-thompson", "meta-ucb")
    assert agents_named({"active"}, "Elicitation") == (
        "committee",
        "entropy",
        "expected-change",
        "log-pop-entropy",
        "meta-elicitation",
        "uncertainty",
    )
    rl = agents_named({"rl"}, "Engagement")
    assert set(rl) == {"q-learning", "sarsa", "linear-q", "slate-q", "ppo", "a2c", "dqn", "maskable-ppo"}
    bandits = agents_named({"bandit"}, "Engagement")
    assert "meta-ucb" in bandits and "linucb" in bandits and "oracle" not in bandits
    # a name selects that agent, a family its members; an agent that does not support the kind is left out
    assert agents_named({"random", "meta"}, "Elicitation") == ("meta-elicitation", "random")
    assert agents_named({"oracle-planner"}, "ColdStart") == ()


def test_every_default_comparison_has_both_sides_in_its_kind() -> None:
    for kind, comparisons in DEFAULT_COMPARISONS.items():
        for label, candidates, baselines in comparisons:
            assert agents_named(candidates, kind), f"{kind}: {label} has no candidate"
            if baselines is not None:
                assert agents_named(baselines, kind), f"{kind}: {label} has no baseline"


def test_a_suite_may_name_families_on_either_side() -> None:
    """As written first (labels stay), then the family's registered agents of the environment's kind."""
    assert with_families(("slate-q", "rl"), "Engagement")[:2] == ("slate-q", "rl")
    assert set(with_families(("rl",), "Engagement")) == {"rl", *agents_named({"rl"}, "Engagement")}
    assert with_families(("eps-0.2", "thompson"), "ColdStart") == ("eps-0.2", "thompson")
