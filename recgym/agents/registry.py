"""Every agent by name: ``recgym agents list``, and ``make_agent(name, **params)`` for suites."""

from __future__ import annotations

import inspect
from typing import Any

from recgym.agents.base import Agent, AgentError
from recgym.agents.baselines import OracleAgent, PopularityAgent, RandomAgent

AGENTS: dict[str, type[Agent]] = {
    cls.name: cls
    for cls in (
        RandomAgent,
        PopularityAgent,
        OracleAgent,
    )
}


def make_agent(name: str, **params: Any) -> Agent:
    """An agent by name; unknown names and parameters raise `AgentError` naming what exists."""
    if name not in AGENTS:
        raise AgentError(f"unknown agent {name!r}; known agents: {', '.join(AGENTS)}")
    cls = AGENTS[name]
    accepted = set(inspect.signature(cls.__init__).parameters) - {"self"}
    unknown = sorted(set(params) - accepted)
    if unknown:
        raise AgentError(
            f"agent {name!r} has no parameter {', '.join(unknown)}; its parameters: {', '.join(sorted(accepted))}"
        )
    return cls(**params)
