"""Benchmarks: the speed benchmark today; the agent suites build on it."""
