"""Simulated users fitted to real ratings: the hidden "world" of every recworld environment."""

from recworld.simulators.base import Simulator, SimulatorError
from recworld.simulators.families import FAMILIES, fit_simulator
from recworld.simulators.population import UserDensity
from recworld.simulators.replay import ReplaySimulator
from recworld.simulators.tabular import TabularSimulator

__all__ = [
    "FAMILIES",
    "ReplaySimulator",
    "Simulator",
    "SimulatorError",
    "TabularSimulator",
    "UserDensity",
    "fit_simulator",
]
