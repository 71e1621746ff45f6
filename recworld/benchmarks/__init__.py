"""Benchmarks: the agent suites (`suite`, `cell`, `runner`, `stats`, `report`; ``recworld bench run``
and ``recworld bench report``) and the speed benchmark (`speed`, `meta_speed`; ``recworld bench speed``).

The benchmark holds no agent or environment logic: it builds environments and agents through their
public entry points, runs them, and measures.
"""
