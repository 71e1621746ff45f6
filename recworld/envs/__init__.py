"""Gymnasium environments on the fitted simulators, single and natively vectorised."""

from recworld.envs.base import InvalidAction
from recworld.envs.cold_start import ColdStartEnv, ColdStartVectorEnv
from recworld.envs.context import EnvContext, env_context
from recworld.envs.elicitation import ElicitationEnv, ElicitationVectorEnv
from recworld.envs.engagement import EngagementEnv, EngagementVectorEnv
from recworld.envs.registration import ENV_IDS, REPLAY_IDS, register_envs
from recworld.envs.world import World, build_world

__all__ = [
    "ENV_IDS",
    "REPLAY_IDS",
    "ColdStartEnv",
    "ColdStartVectorEnv",
    "ElicitationEnv",
    "ElicitationVectorEnv",
    "EngagementEnv",
    "EngagementVectorEnv",
    "EnvContext",
    "InvalidAction",
    "World",
    "build_world",
    "env_context",
    "register_envs",
]
