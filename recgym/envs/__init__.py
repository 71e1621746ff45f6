"""Gymnasium environments on the fitted simulators, single and natively vectorised."""

from recgym.envs.base import InvalidAction
from recgym.envs.cold_start import ColdStartEnv, ColdStartVectorEnv
from recgym.envs.elicitation import ElicitationEnv, ElicitationVectorEnv
from recgym.envs.engagement import EngagementEnv, EngagementVectorEnv
from recgym.envs.registration import ENV_IDS, register_envs
from recgym.envs.world import World, build_world

__all__ = [
    "ENV_IDS",
    "ColdStartEnv",
    "ColdStartVectorEnv",
    "ElicitationEnv",
    "ElicitationVectorEnv",
    "EngagementEnv",
    "EngagementVectorEnv",
    "InvalidAction",
    "World",
    "build_world",
    "register_envs",
]
