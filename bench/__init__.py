"""Benchmarks (run with `python -m bench.bench_analysis`); not part of the app."""
