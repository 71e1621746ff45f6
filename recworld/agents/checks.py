"""Checks of agents' parameters: one `AgentError` per bad value, naming the value and its range."""

from __future__ import annotations

import math
from typing import Any

from recworld.agents.base import AgentError


def check_int(name: str, value: Any, low: int, high: int | None = None) -> int:
    """``value`` as an int in ``[low, high]`` (``high=None``: no upper bound)."""
    upper = "∞" if high is None else str(high)
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise AgentError(f"{name} must be an integer in [{low}, {upper}], got {value!r}")
    if value < low or (high is not None and value > high):
        raise AgentError(f"{name} must be an integer in [{low}, {upper}], got {value!r}")
    return int(value)


def check_float(
    name: str,
    value: Any,
    low: float,
    high: float = math.inf,
    *,
    open_low: bool = False,
    open_high: bool = False,
) -> float:
    """``value`` as a finite float in the interval from ``low`` to ``high`` (ends open or closed)."""
    interval = f"{'(' if open_low else '['}{low:g}, {high:g}{')' if open_high or math.isinf(high) else ']'}"
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise AgentError(f"{name} must be a number in {interval}, got {value!r}")
    below = value <= low if open_low else value < low
    above = value >= high if open_high else value > high
    if below or above or math.isinf(value):
        raise AgentError(f"{name} must be a number in {interval}, got {value!r}")
    return float(value)
