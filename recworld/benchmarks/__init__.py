"""Benchmarks: the agent suites (`suite`, `cell`, `runner`, `summary`, `report`; ``recworld bench run``
and ``recworld bench report``), the speed benchmark (`speed`, `meta_speed`; ``recworld bench speed``)
and the meta-learned model's cold-start experiment (`meta_suite` trains and evaluates it and its
baselines over seeds, `meta_evaluate` holds the protocol, metrics and tables, `meta_plots` the
curves; ``recworld meta train`` and ``recworld meta eval``).

The benchmark holds no agent or environment logic: it builds environments and agents through their
public entry points, runs them, and measures.
"""
