"""recgym: recommendation as reinforcement learning and bandits, behind the Gymnasium API."""

__version__ = "0.1.0"
