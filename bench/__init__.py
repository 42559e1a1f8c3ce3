"""Benchmarks, run from the repository root as modules: ``python -m bench.<name>``.

Run as modules, not as files, so that a benchmark named like a standard library module
never hides it from the libraries the benchmarks load."""
