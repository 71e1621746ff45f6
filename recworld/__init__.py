"""recworld: recommendation as reinforcement learning and bandits, behind the Gymnasium API.

Importing recworld registers its environments: ``gymnasium.make("recworld:recworld/ColdStart-v0")``.
"""

__version__ = "0.2.0"

from recworld.envs.registration import register_envs

register_envs()
