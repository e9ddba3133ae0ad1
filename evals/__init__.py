"""Offline evaluations and benchmarks."""
