"""``domainconnect apply`` previews any DNS record type by default (CAA, TLSA, HTTPS, SPF, RFC 3597
``TYPEnnn``…); ``--supported-types`` narrows it to a backend's list; pseudo-types need declaring."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from django_domainconnect.engine.cli_apply import default_supported_types, parse_supported_types
from django_domainconnect.engine.errors import UnsupportedTypeError
from django_domainconnect.engine.render import render_records
from django_domainconnect.engine.template import parse_template
from django_domainconnect.engine.types import Policy
from tests.engine.test_cli_apply import A5_ZONE, SCRIPT, run, write_template

pytestmark = pytest.mark.skipif(not SCRIPT.exists(), reason=f"console script not installed at {SCRIPT}")

TLSA_DATA = "3 1 1 " + "0123456789abcdef" * 4
CAA_WIRE = bytes([0, 5]) + b"issue" + b"ca.example.net"  # 0 issue "ca.example.net"
RECORDS = [
    {"type": "CAA", "host": "@", "data": '0 issue "letsencrypt.org"', "ttl": 3600},
    {"type": "TLSA", "host": "_443._tcp.www", "data": TLSA_DATA, "ttl": 3600},
    {"type": "TYPE257", "host": "ca", "data": f"\\# {len(CAA_WIRE)} {CAA_WIRE.hex()}", "ttl": 3600},
    {"type": "HTTPS", "host": "www", "data": '1 . alpn="h2,h3"', "ttl": 3600},
    {"type": "SPF", "host": "mail", "data": '"v=spf1 -all"', "ttl": 3600},
    {"type": "TYPE65534", "host": "opaque", "data": "\\# 3 010203", "ttl": 3600},
]
EXPECTED = [
    {"name": "example.com.", "type": "CAA", "ttl": 3600, "data": '0 issue "letsencrypt.org"'},
    {"name": "_443._tcp.www.example.com.", "type": "TLSA", "ttl": 3600, "data": TLSA_DATA},
    {"name": "ca.example.com.", "type": "CAA", "ttl": 3600, "data": '0 issue "ca.example.net"'},
    {"name": "www.example.com.", "type": "HTTPS", "ttl": 3600, "data": '1 . alpn="h2,h3"'},
    {"name": "mail.example.com.", "type": "SPF", "ttl": 3600, "data": '"v=spf1 -all"'},
    {"name": "opaque.example.com.", "type": "TYPE65534", "ttl": 3600, "data": "\\# 3 010203"},
]


def test_cli_previews_other_record_types_by_default(tmp_path: Path) -> None:
    template = write_template(tmp_path, RECORDS)
    proc = run("--template", template, "--zone", A5_ZONE, "--domain", "example.com", "--json")
    assert proc.returncode == 0, proc.stderr
    added = json.loads(proc.stdout)["to_add"]
    for record in EXPECTED:
        assert record in added
    text = run("--template", template, "--zone", A5_ZONE, "--domain", "example.com")
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert "+ _443._tcp.www.example.com. 3600 IN TLSA " + TLSA_DATA in lines
    assert "+ ca.example.com. 3600 IN CAA 0 issue \"ca.example.net\"" in lines
    assert any(line.split()[:5] == ["www", "3600", "IN", "HTTPS", "1"] for line in lines)  # in the zone


@pytest.mark.parametrize(("types", "refused"), [("A,AAAA,CNAME,TXT,CAA", "TLSA"), ("+REDIR301", None),
                                                ("CAA,TLSA,HTTPS,SPF,TYPE65534", None)])
def test_supported_types_narrows_the_preview_to_a_backends_list(tmp_path: Path, types: str,
                                                                refused: str | None) -> None:
    template = write_template(tmp_path, RECORDS)
    proc = run("--template", template, "--zone", A5_ZONE, "--domain", "example.com", "--supported-types", types)
    if refused is None:  # CAA covers TYPE257 (and the reverse): one type, two spellings
        assert proc.returncode == 0, proc.stderr
    else:
        assert proc.returncode != 0 and proc.stdout == "" and len(proc.stderr.splitlines()) == 1
        assert "unsupported_type" in proc.stderr and refused in proc.stderr


def test_pseudo_types_and_soa_still_need_declaring(tmp_path: Path) -> None:
    redirect = write_template(tmp_path, [{"type": "REDIR302", "host": "@", "target": "https://x.example.net/"}])
    proc = run("--template", redirect, "--zone", A5_ZONE, "--domain", "example.com")
    assert proc.returncode != 0 and "REDIR302" in proc.stderr and "unsupported_type" in proc.stderr
    soa = write_template(tmp_path, [{"type": "SOA", "host": "sub",
                                     "data": "ns.example.net. h.example.net. 1 2 3 4 5"}])
    proc = run("--template", soa, "--zone", A5_ZONE, "--domain", "example.com")
    assert proc.returncode != 0 and "SOA" in proc.stderr and "unsupported_type" in proc.stderr


def test_default_and_explicit_type_sets() -> None:
    template_types = frozenset({"TLSA", "TYPE257", "HTTPS", "SPF", "SOA", "TYPE6", "ANY", "FOO", "REDIR301"})
    default = default_supported_types(template_types)
    assert {"TLSA", "TYPE257", "HTTPS", "SPF"} <= default and Policy().supported_types <= default
    assert not {"SOA", "TYPE6", "ANY", "FOO", "REDIR301"} & default
    assert parse_supported_types("caa") == {"CAA", "TYPE257"}
    assert parse_supported_types("+APEXCNAME", template_types) == default | {"APEXCNAME"}


def test_render_records_renders_other_types_with_a_permissive_policy() -> None:
    template = parse_template({"providerId": "example.net", "providerName": "E", "serviceId": "svc",
                               "serviceName": "S", "records": RECORDS})
    with pytest.raises(UnsupportedTypeError):  # the engine's own default stays what backends declare
        render_records(template, domain="example.com", params={})
    permissive = Policy(supported_types=default_supported_types(template.record_types))
    rendered = render_records(template, domain="example.com", params={}, policy=permissive)
    assert [r.record.to_dict() for r in rendered] == EXPECTED
