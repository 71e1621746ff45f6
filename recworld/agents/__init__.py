"""Agents: baselines, bandits, active learners, feedback RL, SB3 adapters and meta-model agents.

Every agent class is importable from here (to subclass or compose); `make_agent` builds one by name,
`as_agent` turns a trained model or policy into one.
"""

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
from recworld.agents.base import Agent, AgentError, Responses
from recworld.agents.baselines import OracleAgent, OraclePlannerAgent, PopularityAgent, RandomAgent
from recworld.agents.meta import MetaElicitationAgent, MetaGreedyAgent, MetaThompsonAgent, MetaUCBAgent
from recworld.agents.registry import AGENTS, agent_class, make_agent
from recworld.agents.rl import LinearQAgent, QLearningAgent, SarsaAgent, SlateQAgent
from recworld.agents.sb3 import A2CAgent, DQNAgent, MaskablePPOAgent, PolicyAgent, PPOAgent, as_agent

__all__ = [
    "AGENTS",
    "A2CAgent",
    "Agent",
    "AgentError",
    "CommitteeAgent",
    "DQNAgent",
    "EntropyAgent",
    "EpsilonGreedyAgent",
    "ExpectedChangeAgent",
    "LinThompsonAgent",
    "LinUCBAgent",
    "LinearQAgent",
    "LogPopEntropyAgent",
    "MaskablePPOAgent",
    "MetaElicitationAgent",
    "MetaGreedyAgent",
    "MetaThompsonAgent",
    "MetaUCBAgent",
    "OracleAgent",
    "OraclePlannerAgent",
    "PPOAgent",
    "PolicyAgent",
    "PopularityAgent",
    "QLearningAgent",
    "RandomAgent",
    "Responses",
    "SarsaAgent",
    "SlateQAgent",
    "ThompsonAgent",
    "UCB1Agent",
    "UncertaintyAgent",
    "agent_class",
    "as_agent",
    "make_agent",
]
