"""Benchmarks: the agent suites (`suite`, `cell`, `runner`, `stats`, `report`; ``recgym bench run``
and ``recgym bench report``) and the speed benchmark (`speed`, `meta_speed`; ``recgym bench speed``).

The benchmark holds no agent or environment logic: it builds environments and agents through their
public entry points, runs them, and measures.
"""
