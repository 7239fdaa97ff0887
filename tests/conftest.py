"""Shared fixtures. The public template corpus lives in ../shared/templates beside the checkout."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS_DIR = ROOT.parent / "shared" / "templates"
SPEC_DIR = ROOT.parent / "shared" / "spec"
DATA_DIR = Path(__file__).resolve().parent / "data"


def corpus_files() -> list[Path]:
    return sorted(CORPUS_DIR.glob("*.json")) if CORPUS_DIR.is_dir() else []


@pytest.fixture(autouse=True)
def _fresh_default_cache() -> None:
    """Every test starts with an empty default cache (tests/settings.py: LocMemCache): discovery answers,
    rate-limit counters and keys cached by one test must not decide another's outcome."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _fresh_parsed_templates() -> None:
    """Every test parses its templates afresh: a test that spies on or breaks parsing sees every parse."""
    from django_domainconnect import parsed_templates

    parsed_templates.clear()


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


def store_template_row(body: dict) -> Any:
    """A template row as the importer stores it (enabled), without the lint gate: flow tests use ids under
    reserved test TLDs that lint refuses as sync domains (DC1021)."""
    import hashlib
    import json

    from django_domainconnect import models

    return models.Template.objects.create(
        provider_id=body["providerId"], service_id=body["serviceId"], provider_name=body["providerName"],
        service_name=body["serviceName"], version=body.get("version", 1), body=body,
        record_types=sorted({r["type"].upper() for r in body["records"]}),
        content_hash=hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest(),
    )
