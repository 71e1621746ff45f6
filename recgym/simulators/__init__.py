"""Simulated users fitted to real ratings: the hidden "world" of every recgym environment."""

from recgym.simulators.base import Simulator, SimulatorError
from recgym.simulators.families import FAMILIES, fit_simulator
from recgym.simulators.population import UserDensity
from recgym.simulators.tabular import TabularSimulator

__all__ = ["FAMILIES", "Simulator", "SimulatorError", "TabularSimulator", "UserDensity", "fit_simulator"]
