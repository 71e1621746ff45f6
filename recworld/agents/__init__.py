"""Agents: baselines, bandits, active learners, feedback RL, SB3 adapters and meta-model agents."""

from recworld.agents.base import Agent, AgentError, Responses
from recworld.agents.registry import AGENTS, make_agent

__all__ = ["AGENTS", "Agent", "AgentError", "Responses", "make_agent"]
