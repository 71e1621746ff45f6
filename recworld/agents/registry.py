"""Every agent by name: ``recworld agents list``, and ``make_agent(name, **params)`` for suites."""

from __future__ import annotations

import importlib
import importlib.metadata
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
from recworld.agents.baselines import OracleAgent, OraclePlannerAgent, PopularityAgent, RandomAgent
from recworld.agents.meta import MetaElicitationAgent, MetaGreedyAgent, MetaThompsonAgent, MetaUCBAgent
from recworld.agents.rl import LinearQAgent, QLearningAgent, SarsaAgent, SlateQAgent
from recworld.agents.sb3 import A2CAgent, DQNAgent, MaskablePPOAgent, PPOAgent

AGENTS: dict[str, type[Agent]] = {
    cls.name: cls
    for cls in (
        RandomAgent,
        PopularityAgent,
        OracleAgent,
        OraclePlannerAgent,
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
        SlateQAgent,
        PPOAgent,
        A2CAgent,
        DQNAgent,
        MaskablePPOAgent,
    )
}


#: the entry-point group through which an installed package can offer agents by name
ENTRY_POINT_GROUP = "recworld.agents"


def agent_class(name: str) -> type[Agent]:
    """The class an agent name stands for: a registered name (``recworld agents list``), a name another
    installed package registers in the ``recworld.agents`` entry-point group, or ``package.module:Class``
    for a class of your own (importable here and in the benchmark's worker processes: on
    ``PYTHONPATH`` or installed)."""
    if name in AGENTS:
        return AGENTS[name]
    if ":" in name:
        module_name, _, attribute = name.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as err:
            raise AgentError(
                f"agent {name!r}: cannot import module {module_name!r} ({err}); put its directory on "
                "PYTHONPATH (for example PYTHONPATH=examples) or install it"
            ) from None
        found = getattr(module, attribute, None)
        if found is None:
            raise AgentError(f"agent {name!r}: module {module_name!r} has no attribute {attribute!r}")
    else:
        points = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP, name=name)
        if not points:
            raise AgentError(
                f"unknown agent {name!r}; known agents: {', '.join(AGENTS)} — or name a class of your own "
                "as 'package.module:Class'"
            )
        found = next(iter(points)).load()
    if not (isinstance(found, type) and callable(getattr(found, "act", None)) and hasattr(found, "bind")):
        raise AgentError(
            f"agent {name!r} is not an agent class: it needs bind(context, batch) and "
            "act(observation, mask, episode_start) (subclass recworld.agents.Agent)"
        )
    return found


def make_agent(name: str, **params: Any) -> Agent:
    """An agent by name (see `agent_class`); unknown names and parameters raise `AgentError` naming
    what exists."""
    cls = agent_class(name)
    accepted = set(inspect.signature(cls.__init__).parameters) - {"self"}
    unknown = sorted(set(params) - accepted)
    if unknown:
        raise AgentError(
            f"agent {name!r} has no parameter {', '.join(unknown)}; "
            f"its parameters: {', '.join(sorted(accepted))}"
        )
    return cls(**params)
