"""What the benchmark measures and compares by default: its metrics (the environment kinds each
applies to, its direction, per user or per cell) and the default comparisons, between families of
agents (`recworld.agents.base.FAMILIES`) rather than lists of names, so an agent added to a family
joins its comparison."""

from __future__ import annotations

from collections.abc import Iterable

#: metric -> (environment kinds it applies to, True if higher is better, short description)
METRICS: dict[str, tuple[frozenset[str], bool, str]] = {
    "return": (
        frozenset({"ColdStart", "Elicitation", "Engagement", "Replay"}),
        True,
        "sum of rewards per episode (Replay: the click of each matched round, so the mean is the click rate)",
    ),
    "regret": (frozenset({"ColdStart", "Engagement"}), False, "sum of per-step regret against the oracle"),
    "like_rate": (
        frozenset({"ColdStart", "Elicitation", "Engagement"}),
        True,
        "share of rated items rated >= 4",
    ),
    "ndcg": (frozenset({"Elicitation"}), True, "nDCG@k of the recommender's list after elicitation"),
    "mae": (frozenset({"Elicitation"}), False, "the recommender's MAE against the truth after elicitation"),
    "answer_rate": (frozenset({"Elicitation"}), True, "share of questions the user could answer"),
    "coverage": (
        frozenset({"ColdStart", "Elicitation", "Engagement", "Replay"}),
        True,
        "distinct items shown over all users / catalog size",
    ),
    "diversity": (
        frozenset({"ColdStart", "Elicitation", "Engagement"}),
        True,
        "intra-list diversity: mean pairwise genre cosine distance of a user's items",
    ),
    "session_length": (frozenset({"Engagement"}), True, "steps before the user left or the session ended"),
    "leave_rate": (frozenset({"Engagement"}), False, "share of users who left before the horizon"),
    "matched": (
        frozenset({"Replay"}),
        True,
        "logged rounds where the agent's pick matched the log (they count)",
    ),
}
#: metrics measured once per cell (all users together) rather than per user
CELL_METRICS = frozenset({"coverage", "matched"})

#: kind -> [(label, candidates, baselines)]: P(best candidate > best baseline) with the paired
#: difference of their means. Each side names agent families or registry names; ``baselines=None``
#: means every agent that is neither a candidate nor privileged.
DEFAULT_COMPARISONS: dict[str, list[tuple[str, frozenset[str], frozenset[str] | None]]] = {
    "ColdStart": [("meta vs best non-meta", frozenset({"meta"}), None)],
    "Elicitation": [
        ("best active learner vs random questions", frozenset({"active"}), frozenset({"random"}))
    ],
    "Engagement": [
        ("planning gap: planner vs myopic oracle", frozenset({"oracle-planner"}), frozenset({"oracle"})),
        ("best feedback-RL agent vs best bandit", frozenset({"rl"}), frozenset({"bandit"})),
    ],
}


def agents_named(selectors: Iterable[str], kind: str) -> tuple[str, ...]:
    """The registered agents that support ``kind`` and belong to one of the families in ``selectors``
    or are named there, sorted."""
    from recworld.agents.registry import AGENTS  # (the registry imports every agent, torch included)

    wanted = set(selectors)
    return tuple(
        sorted(
            name
            for name, cls in AGENTS.items()
            if kind in cls.supports and (name in wanted or cls.families & wanted)
        )
    )


def with_families(names: tuple[str, ...], kind: str) -> tuple[str, ...]:
    """A suite's comparison side as written, then the registered agents of ``kind`` in the families it
    names (`recworld.agents.base.FAMILIES`), so ``candidates = ["rl"]`` means every RL agent."""
    from recworld.agents.base import FAMILIES  # (importing the agents imports torch: only when needed)

    families = set(names) & set(FAMILIES)
    return (*names, *(agent for agent in agents_named(families, kind) if agent not in names))
