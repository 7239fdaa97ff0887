"""The engine's memo caches, in one place: pure functions of their arguments, bounded in size.

``clear_caches()`` empties them all. Benchmarks call it before every timed plan so that each plan is
measured as the first of its kind in the process (nothing learned from an identical plan before it);
tests may call it to start from a known state.
"""

from __future__ import annotations

from . import render, spf


def clear_caches() -> None:
    for cached in (render._canonical_ipv6, spf._parse_short_term):
        cached.cache_clear()
