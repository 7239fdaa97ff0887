"""Shared fixtures. The public template corpus lives in ../shared/templates beside the checkout."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS_DIR = ROOT.parent / "shared" / "templates"
SPEC_DIR = ROOT.parent / "shared" / "spec"
DATA_DIR = Path(__file__).resolve().parent / "data"


def corpus_files() -> list[Path]:
    return sorted(CORPUS_DIR.glob("*.json")) if CORPUS_DIR.is_dir() else []


@pytest.fixture
def corpus_dir() -> Path:
    if not CORPUS_DIR.is_dir():
        pytest.skip(f"the public template corpus is not at {CORPUS_DIR} (only beside a CI checkout)")
    return CORPUS_DIR


@pytest.fixture
def memory_backend():
    """The configured MemoryBackend, emptied before and after the test (zones: ``add_zone(...)``)."""
    from django_domainconnect.backends import get_backend

    backend = get_backend()
    backend.reset()
    yield backend
    backend.reset()
