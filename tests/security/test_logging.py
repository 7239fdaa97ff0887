"""Structured logging (SECURITY.md 47; issue 6 item 6): every apply/revert/refusal is one log record with
``dc_*`` fields, and none carries a secret, token, ``sig``, variable value or query string."""

from __future__ import annotations

import json
import logging
from urllib.parse import urlencode

import pytest

from django_domainconnect.auditlog import JsonFormatter, escape
from tests.oauth.conftest import PROVIDER, SECRET, apply_path, bearer, consent_url

SECRET_VALUE = "verify-TOKEN-value-7f3a"


def lines(caplog, logger: str) -> list[str]:
    formatter = JsonFormatter()
    return [formatter.format(r) for r in caplog.records if r.name == logger]


def test_escape_keeps_one_line():
    assert escape("a\r\nb\tc\x00d\u2028e\\") == "a\\r\\nb\\tc\\x00d\\u2028e\\\\"
    assert len(escape("x" * 1000, 10)) == 11  # cut, with an ellipsis


def test_api_apply_and_revert_are_logged_without_secrets(caplog, client, authorize,
                                                        django_capture_on_commit_callbacks):
    tokens = authorize(scope="web")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="django_domainconnect"), \
            django_capture_on_commit_callbacks(execute=True):
        applied = client.post(apply_path("web", domain="example.com", IP="192.0.2.10", token=SECRET_VALUE, force="1"),
                              **bearer(tokens.access_token))
        assert applied.status_code == 200
        reverted = client.delete(apply_path("web", domain="example.com"), **bearer(tokens.access_token))
        assert reverted.status_code == 200
    audit = [json.loads(line) for line in lines(caplog, "django_domainconnect.audit")]
    actions = [(a["dc_action"], a["dc_outcome"]) for a in audit]
    assert ("apply", "success") in actions and ("revert", "success") in actions
    apply_line = next(a for a in audit if a["dc_action"] == "apply")
    assert apply_line["dc_domain"] == "example.com" and apply_line["dc_provider_id"] == PROVIDER
    assert apply_line["dc_client_id"] == PROVIDER and apply_line["dc_flow"] == "async"
    assert apply_line["dc_variables"] == ["IP", "token"]  # names only
    assert apply_line["dc_records_added"] >= 2
    everything = "\n".join(lines(caplog, "django_domainconnect.audit") + lines(caplog, "django_domainconnect.requests"))
    for secret in (SECRET_VALUE, tokens.access_token, tokens.refresh_token, SECRET):
        assert secret not in everything


def test_refusals_are_logged_without_the_query(caplog, client, authorize):
    tokens = authorize(scope="web")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="django_domainconnect"):
        # Out of scope: another domain (403), then a forged token (401).
        assert client.post(apply_path("web", domain="bob.example", token=SECRET_VALUE),
                           **bearer(tokens.access_token)).status_code == 403
        assert client.post(apply_path("web", domain="example.com"),
                           HTTP_AUTHORIZATION="Bearer forged-token-abc").status_code == 401
    refused = [json.loads(line) for line in lines(caplog, "django_domainconnect.requests")]
    assert [(r["dc_status"], r["dc_reason"]) for r in refused] == [(403, "insufficient_scope"), (401, "invalid_token")]
    assert refused[0]["dc_provider_id"] == PROVIDER and refused[0]["dc_service_id"] == "web"
    assert refused[0]["dc_query_param_names"] == ["domain", "token"]
    text = "\n".join(lines(caplog, "django_domainconnect.requests"))
    assert SECRET_VALUE not in text and "forged-token-abc" not in text and tokens.access_token not in text


def test_signed_link_refusal_never_logs_sig(caplog, client, make_template):
    make_template("signed", syncPubKeyDomain="keys.exampleservice.example")
    query = urlencode({"domain": "example.com", "IP": "192.0.2.1", "token": "x", "sig": "SIGVALUE123",
                       "key": "_dck1"})
    with caplog.at_level(logging.INFO, logger="django_domainconnect"):
        client.get(f"/v2/domainTemplates/providers/{PROVIDER}/services/signed/apply?{query}")
    text = "\n".join(lines(caplog, "django_domainconnect.requests"))
    assert text, "the refusal was not logged"
    assert "SIGVALUE123" not in text and query not in text
    assert json.loads(text.splitlines()[0])["dc_has_signature"] is True


def test_crlf_in_values_cannot_forge_log_lines(caplog, client, db):
    evil = "example.com\r\nINFO forged line"
    with caplog.at_level(logging.INFO, logger="django_domainconnect"):
        client.get(f"/v2/domainTemplates/providers/{PROVIDER}/services/nope/apply?" + urlencode({"domain": evil}))
    records = [r for r in caplog.records if r.name == "django_domainconnect.requests"]
    assert records
    for record in records:
        assert "\n" not in record.getMessage() and "\r" not in record.getMessage()
        assert all("\n" not in str(v) and "\r" not in str(v) for k, v in vars(record).items() if k.startswith("dc_"))
    assert records[0].dc_domain == "example.com\\r\\nINFO forged line"
    formatted = JsonFormatter().format(records[0])
    assert "\n" not in formatted


def test_failed_service_call_is_logged_as_failure(caplog, client, authorize, zones,
                                                  django_capture_on_commit_callbacks):
    from django_domainconnect.models import AuditEvent

    tokens = authorize(scope="web")
    zones.set_owners("example.com", ["bob"])  # alice lost the domain after consenting (SECURITY.md 37)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="django_domainconnect"), \
            django_capture_on_commit_callbacks(execute=True):
        answer = client.post(apply_path("web", domain="example.com", IP="192.0.2.1", token="t"),
                             **bearer(tokens.access_token))
    assert answer.status_code in (403, 404)
    audit = [r for r in caplog.records if r.name == "django_domainconnect.audit"]
    assert AuditEvent.objects.filter(outcome="failure").exists()
    assert any(r.dc_outcome == "failure" and r.levelno == logging.WARNING for r in audit)
    assert any(r.name == "django_domainconnect.requests" and r.dc_status == answer.status_code
               for r in caplog.records)


def test_json_formatter_is_one_json_object_per_line():
    record = logging.LogRecord("django_domainconnect.audit", logging.INFO, __file__, 1, "hello\nworld", (), None)
    record.dc_domain = "example.com"
    record.other = "not ours"
    line = JsonFormatter().format(record)
    data = json.loads(line)
    assert "\n" not in line
    assert data["message"] == "hello\\nworld" and data["dc_domain"] == "example.com" and "other" not in data


@pytest.mark.django_db(transaction=True)
def test_rolled_back_success_is_not_logged(caplog):
    from django.db import transaction

    from django_domainconnect import auditlog
    from django_domainconnect.models import AuditEvent

    auditlog.connect()
    with caplog.at_level(logging.INFO, logger="django_domainconnect.audit"):
        try:
            with transaction.atomic():
                AuditEvent.objects.create(action="apply", outcome="success", domain="rolled.example")
                raise RuntimeError("backend failed after the audit row")
        except RuntimeError:
            pass
        AuditEvent.objects.create(action="apply", outcome="failure", domain="rolled.example", detail="x\ny")
    audit = [r for r in caplog.records if r.name == "django_domainconnect.audit"]
    assert [(r.dc_outcome, r.dc_detail) for r in audit] == [("failure", "x\\ny")]


def test_error_redirect_to_the_service_provider_is_logged_as_a_refusal(caplog, client, alice, zones, sp_client):

    client.force_login(alice)
    with caplog.at_level(logging.INFO, logger="django_domainconnect"):
        answer = client.get(consent_url(scope="no-such-service", state="STATE-SECRET-ish"))
    assert answer.status_code == 302 and "error=" in answer["Location"]
    refused = [r for r in caplog.records if r.name == "django_domainconnect.requests"]
    assert [(r.dc_status, r.dc_reason) for r in refused] == [(302, "invalid_scope")]
    assert "STATE-SECRET-ish" not in JsonFormatter().format(refused[0])


def test_successful_redirects_are_not_refusals(caplog, client, alice, zones, templates, sp_client):
    from tests.oauth.conftest import approve

    client.force_login(alice)
    with caplog.at_level(logging.INFO, logger="django_domainconnect"):
        answer = approve(client, consent_url(scope="web"))
    assert answer.status_code == 302 and "code=" in answer["Location"]
    assert not [r for r in caplog.records if r.name == "django_domainconnect.requests"]


def test_failed_token_requests_are_logged_without_secrets(caplog, client, sp_client):
    with caplog.at_level(logging.DEBUG):
        answer = client.post("/v2/oauth/access_token?client_secret=QUERY-SECRET-1&code=CODE-1",
                             {"grant_type": "authorization_code", "client_id": PROVIDER,
                              "client_secret": "BODY-SECRET-2", "redirect_uri": "https://x.example/cb"})
    assert answer.status_code == 400
    refused = [r for r in caplog.records if r.name == "django_domainconnect.requests"]
    assert refused and refused[0].dc_query_param_names == ["client_secret", "code"]
    everything = "\n".join(JsonFormatter().format(r) for r in caplog.records)  # every logger, DEBUG included
    for secret in ("QUERY-SECRET-1", "CODE-1", "BODY-SECRET-2", SECRET):
        assert secret not in everything
