"""Every agent by name: ``recworld agents list``, and ``make_agent(name, **params)`` for suites."""

from __future__ import annotations

import inspect
from typing import Any

from recworld.agents.active import (
    CommitteeAgent,
    EntropyAgent,
    ExpectedChangeAgent,
    LogPopEntropyAgent,
    UncertaintyAgent,
)
from recworld.agents.bandits import (
    EpsilonGreedyAgent,
    LinThompsonAgent,
    LinUCBAgent,
    ThompsonAgent,
    UCB1Agent,
)
from recworld.agents.base import Agent, AgentError
from recworld.agents.baselines import OracleAgent, PopularityAgent, RandomAgent
from recworld.agents.meta import MetaElicitationAgent, MetaGreedyAgent, MetaThompsonAgent, MetaUCBAgent
from recworld.agents.rl import LinearQAgent, QLearningAgent, SarsaAgent
from recworld.agents.sb3 import A2CAgent, DQNAgent, MaskablePPOAgent, PPOAgent

AGENTS: dict[str, type[Agent]] = {
    cls.name: cls
    for cls in (
        RandomAgent,
        PopularityAgent,
        OracleAgent,
        EpsilonGreedyAgent,
        UCB1Agent,
        ThompsonAgent,
        LinUCBAgent,
        LinThompsonAgent,
        MetaGreedyAgent,
        MetaUCBAgent,
        MetaThompsonAgent,
        MetaElicitationAgent,
        EntropyAgent,
        LogPopEntropyAgent,
        UncertaintyAgent,
        CommitteeAgent,
        ExpectedChangeAgent,
        QLearningAgent,
        SarsaAgent,
        LinearQAgent,
        PPOAgent,
        A2CAgent,
        DQNAgent,
        MaskablePPOAgent,
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
            f"agent {name!r} has no parameter {', '.join(unknown)}; "
            f"its parameters: {', '.join(sorted(accepted))}"
        )
    return cls(**params)
