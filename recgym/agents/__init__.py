"""Agents: baselines, bandits, active learners, feedback RL, SB3 adapters and meta-model agents."""

from recgym.agents.base import Agent, AgentError, Responses
from recgym.agents.registry import AGENTS, make_agent

__all__ = ["AGENTS", "Agent", "AgentError", "Responses", "make_agent"]
