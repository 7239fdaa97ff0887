"""Template loading: JSON structure, duplicate keys, unknown fields, JSON types (engine/template.py)."""

from __future__ import annotations

import json

import pytest

from django_domainconnect.engine.errors import TemplateError
from django_domainconnect.engine.template import load_template, parse_template
from django_domainconnect.engine.types import Template
from tests.conftest import DATA_DIR


def base(**overrides) -> dict:
    tpl = {
        "providerId": "example.com",
        "providerName": "Example",
        "serviceId": "web",
        "serviceName": "Website",
        "version": 1,
        "records": [{"type": "A", "host": "@", "pointsTo": "192.0.2.1", "ttl": 3600}],
    }
    tpl.update(overrides)
    return tpl


def codes(findings) -> list[str]:
    return [f.code for f in findings]


def test_valid_template_fills_every_field():
    src = json.dumps(base(
        logoUrl="https://example.com/l.png", description="d", variableDescription="v", syncBlock=True,
        shared=True, sharedProviderName=True, sharedServiceName=True, syncRedirectDomain="a.example, b.example",
        syncPubKeyDomain="_dck.example.com", multiInstance=True, warnPhishing=True, hostRequired=True,
        records=[
            {"type": "SRV", "name": "", "target": "sip.example.com", "ttl": "600", "priority": "%prio%",
             "weight": 5, "port": 5060, "protocol": "_tcp", "service": "_sip", "essential": "OnApply",
             "groupId": "voice"},
            {"type": "TXT", "host": "@", "data": "x", "ttl": "%ttl%", "txtConflictMatchingMode": "Prefix",
             "txtConflictMatchingPrefix": "x"},
            {"type": "SPFM", "host": "@", "spfRules": "include:example.com"},
        ],
    ))
    template, findings = load_template(src, path="example.com.web.json")
    assert findings == []
    assert isinstance(template, Template)
    assert (template.provider_id, template.service_id, template.version) == ("example.com", "web", 1)
    assert template.sync_block and template.shared and template.shared_provider_name
    assert template.shared_service_name and template.multi_instance and template.warn_phishing
    assert template.host_required
    assert template.redirect_domains == ("a.example", "b.example")
    assert template.sync_pub_key_domain == "_dck.example.com"
    srv, txt, spfm = template.records
    # TTL, priority, weight and port keep the JSON value as written (int, numeric string or variable).
    assert (srv.ttl, srv.priority, srv.weight, srv.port) == ("600", "%prio%", 5, 5060)
    assert (srv.name, srv.target, srv.protocol, srv.service) == ("", "sip.example.com", "_tcp", "_sip")
    assert srv.essential_mode == "OnApply" and srv.group_id == "voice"
    assert (txt.ttl, txt.txt_conflict_matching_mode, txt.txt_conflict_matching_prefix) == ("%ttl%", "Prefix", "x")
    assert spfm.spf_rules == "include:example.com" and spfm.ttl is None
    assert [r.index for r in template.records] == [0, 1, 2]
    assert template.raw["providerId"] == "example.com"
    assert srv.raw["service"] == "_sip"


def test_bytes_with_bom_and_mapping_sources():
    raw = base()
    t1, f1 = load_template(b"\xef\xbb\xbf" + json.dumps(raw).encode())
    t2, f2 = load_template(raw)
    assert f1 == f2 == []
    assert t1 == t2


def test_not_utf8():
    template, findings = load_template(b'{"providerId": "\xff"}', path="x.json")
    assert template is None
    assert codes(findings) == ["DC1001"]
    assert findings[0].path == "x.json"


@pytest.mark.parametrize("text", ['{"providerId": ', "{'a': 1}", '{"a": NaN}', "", '{"a": 1} trailing'])
def test_bad_json_gives_none_and_dc1002(text):
    template, findings = load_template(text)
    assert template is None
    assert codes(findings) == ["DC1002"]
    assert findings[0].level == "error"


def test_bad_json_message_has_position():
    _, findings = load_template('{\n  "providerId": "x",\n  oops\n}')
    assert "line 3" in findings[0].message


@pytest.mark.parametrize("text", ["[]", '"template"', "42", "null"])
def test_top_level_must_be_object(text):
    template, findings = load_template(text)
    assert template is None
    assert codes(findings) == ["DC1003"]


def test_duplicate_key_at_template_level():
    text = json.dumps(base()).replace('"providerId": "example.com"',
                                      '"providerId": "evil.example", "providerId": "example.com"')
    template, findings = load_template(text)
    assert codes(findings) == ["DC1004"]
    assert findings[0].field == "providerId" and findings[0].record_index is None
    with pytest.raises(TemplateError) as exc:
        parse_template(text)
    assert [f.code for f in exc.value.findings] == ["DC1004"]


def test_duplicate_key_in_a_record_names_the_record():
    text = json.dumps(base(records=[
        {"type": "A", "host": "@", "pointsTo": "192.0.2.1", "ttl": 3600},
        {"type": "A", "host": "www", "pointsTo": "192.0.2.1", "ttl": 3600},
    ])).replace('"host": "www"', '"host": "www", "host": "mail"')
    _, findings = load_template(text)
    assert [(f.code, f.record_index, f.field) for f in findings] == [("DC1004", 1, "host")]


def test_unknown_fields_at_both_levels():
    template, findings = load_template(base(providerID="x", records=[
        {"type": "A", "host": "@", "pointsTo": "192.0.2.1", "ttl": 3600, "points_to": "x"}]))
    assert [(f.code, f.record_index, f.field) for f in findings] == [
        ("DC1005", None, "providerID"), ("DC1006", 0, "points_to")]
    assert "did you mean 'providerId'" in findings[0].message
    assert template is not None


def test_empty_key():
    _, findings = load_template(base(**{"": 1}))
    assert codes(findings) == ["DC1009"]


@pytest.mark.parametrize(("field", "value"), [
    ("version", "1"), ("version", 1.5), ("version", True), ("syncBlock", "true"), ("hostRequired", 1),
    ("providerName", None), ("logoUrl", 5), ("records", {}), ("syncRedirectDomain", ["a.example"]),
])
def test_wrong_type_at_template_level(field, value):
    template, findings = load_template(base(**{field: value}))
    assert [(f.code, f.field) for f in findings] == [("DC1007", field)]
    with pytest.raises(TemplateError):
        parse_template(base(**{field: value}))


@pytest.mark.parametrize(("field", "value"), [
    ("ttl", True), ("ttl", 3600.0), ("ttl", None), ("priority", [10]), ("host", 5), ("type", 1),
    ("essential", False), ("groupId", 1),
])
def test_wrong_type_in_record(field, value):
    record = {"type": "MX", "host": "@", "pointsTo": "mx.example.com", "priority": 10, "ttl": 3600}
    record[field] = value
    _, findings = load_template(base(records=[record]))
    assert [(f.code, f.record_index, f.field) for f in findings] == [("DC1007", 0, field)]


def test_missing_required_fields():
    _, findings = load_template({"records": [{"host": "@"}]})
    assert sorted((f.code, f.field) for f in findings) == [
        ("DC1008", "providerId"), ("DC1008", "providerName"), ("DC1008", "serviceId"), ("DC1008", "serviceName"),
        ("DC1008", "type"),
    ]


def test_record_not_an_object():
    template, findings = load_template(base(records=["A", {"type": "A", "host": "@", "pointsTo": "192.0.2.1",
                                                            "ttl": 1}]))
    assert [(f.code, f.record_index) for f in findings] == [("DC1003", 0)]
    assert [r.index for r in template.records] == [1]


def test_parse_template_returns_template_and_raises_with_all_findings():
    assert parse_template(base()).service_id == "web"
    with pytest.raises(TemplateError) as exc:
        parse_template(base(bogus=1, records=[{"type": "A", "ttl": True}]))
    assert exc.value.code == "invalid_template"
    assert sorted(f.code for f in exc.value.findings) == ["DC1005", "DC1007"]
    assert "and 1 more" in str(exc.value)
    with pytest.raises(TemplateError):
        parse_template("not json")


def test_parse_ignores_lint_level_problems():
    # Semantic rules are lint's job: a structurally sound template parses even with an http logo.
    assert parse_template(base(logoUrl="http://example.com/logo.png")).logo_url == "http://example.com/logo.png"


def test_data_files_load():
    template, findings = load_template((DATA_DIR / "templates" / "example.com.web.json").read_bytes())
    assert findings == [] and len(template.records) == 7
