"""HTTP surface (SECURITY.md fuzz target 13, item 42): schemathesis fuzzes the live test server against
``django_domainconnect.openapi``. No 5xx, every answer a documented status code and content type, JSON
bodies match their schema; the API answers 401 to every call without a valid Bearer token.

Bounded: a few examples per operation and mode (``MAX_EXAMPLES``), so the run takes seconds.
"""

from __future__ import annotations

import os

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is in the 'test' extra")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import (  # noqa: E402
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from django_domainconnect.openapi import build_schema  # noqa: E402

MAX_EXAMPLES = int(os.environ.get("DC_FUZZ_EXAMPLES", "15"))  # raise it for a longer hunt
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
API_OPERATIONS = {"asyncApply", "asyncRevertDelete", "asyncRevert"}


def operations(base_url: str):
    schema = schemathesis.openapi.from_dict(build_schema(base_url))
    return [result.ok() for result in schema.get_all_operations()]


def fuzz(operation, base_url: str, *, headers: dict[str, str] | None = None,
         mode: GenerationMode = GenerationMode.POSITIVE, extra=None) -> None:
    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case) -> None:
        response = case.call(base_url=base_url, headers=headers, allow_redirects=False, timeout=30)
        assert response.status_code < 500, (case.as_curl_command(), response.status_code, response.text[:500])
        case.validate_response(response, checks=CHECKS)
        if extra is not None:
            extra(case, response)

    try:
        run()
    except Unsatisfiable:
        # Negative mode cannot always build an invalid request (a lone string path parameter has no
        # invalid value on the wire); positive mode still covers the operation.
        if mode is not GenerationMode.NEGATIVE:
            raise


@pytest.fixture
def no_rate_limits(monkeypatch):
    """Hundreds of requests from one address: the limits would answer 429 (documented, but not the point)."""
    from django.core.cache import cache

    from django_domainconnect.conf import DEFAULTS

    for bucket in list(DEFAULTS["RATE_LIMITS"]):
        monkeypatch.setitem(DEFAULTS["RATE_LIMITS"], bucket, None)
    cache.clear()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["positive", "negative"])
def test_no_5xx_and_answers_match_the_schema(live_server, authorize, no_rate_limits, mode):
    tokens = authorize(scope="web ddns")
    for operation in operations(live_server.url):
        fuzz(operation, live_server.url, headers={"Authorization": f"Bearer {tokens.access_token}"}, mode=mode)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_api_needs_a_bearer_token(live_server, zones, templates, no_rate_limits):
    from django_domainconnect.models import AuditEvent

    def unauthorized(case, response) -> None:
        assert response.status_code in (401, 405), (case.as_curl_command(), response.status_code)

    for operation in operations(live_server.url):
        if operation.definition.raw.get("operationId") in API_OPERATIONS:
            fuzz(operation, live_server.url, headers={"Authorization": "Bearer not-a-token"}, extra=unauthorized)
            fuzz(operation, live_server.url, extra=unauthorized)
    assert not AuditEvent.objects.filter(outcome="success").exists()
