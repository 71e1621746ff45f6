"""recworld: recommendation as reinforcement learning and bandits, behind the Gymnasium API.

Importing recworld registers its environments: ``gymnasium.make("recworld:recworld/ColdStart-v0")``.
"""

__version__ = "0.2.0"

from recworld import compiled_cache

compiled_cache.install()  # before any module compiles: see its docstring

from recworld.envs.registration import register_envs  # noqa: E402 - after the cache's locators

register_envs()
