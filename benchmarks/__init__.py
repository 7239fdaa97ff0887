"""Benchmarks (run as scripts: ``.venv/bin/python benchmarks/engine.py``; see benchmarks/README.md)."""
