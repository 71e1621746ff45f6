"""recgym: recommendation as reinforcement learning and bandits, behind the Gymnasium API.

Importing recgym registers its environments: ``gymnasium.make("recgym:recgym/ColdStart-v0")``.
"""

__version__ = "0.1.0"

from recgym.envs.registration import register_envs

register_envs()
