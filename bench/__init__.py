"""Benchmarks, run from the repository root as modules: ``python -m bench.<name>``.

Run as modules, not as files, so that bench/queue.py (named as the issue asks) never
hides the standard library's ``queue`` from the libraries the benchmarks load."""
