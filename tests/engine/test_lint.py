"""Every lint code: one case that must raise it (fails if the rule is removed) and clean templates that must not."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from django_domainconnect.engine.lint import CODES, lint_paths, lint_template
from django_domainconnect.engine.template import RECORD_FIELDS, TEMPLATE_FIELDS, load_template
from tests.conftest import DATA_DIR

A = {"type": "A", "host": "@", "pointsTo": "192.0.2.1", "ttl": 3600}
CNAME = {"type": "CNAME", "host": "www", "pointsTo": "sites.example.com", "ttl": 3600}
TXT = {"type": "TXT", "host": "@", "data": "verify=1", "ttl": 3600}
SPFM = {"type": "SPFM", "host": "@", "spfRules": "include:_spf.example.com"}
SRV = {"type": "SRV", "name": "@", "service": "_sip", "protocol": "_tcp", "priority": 10, "weight": 5,
       "port": 5060, "target": "sip.example.com", "ttl": 3600}
MX = {"type": "MX", "host": "@", "pointsTo": "mx.example.com", "priority": 10, "ttl": 3600}

BASE = {
    "providerId": "example.com",
    "providerName": "Example",
    "serviceId": "web",
    "serviceName": "Website",
    "version": 1,
    "logoUrl": "https://example.com/logo.png",
    "syncPubKeyDomain": "example.com",
    "syncRedirectDomain": "example.com,www.example.com",
    "records": [A, CNAME],
}
PATH = "templates/example.com.web.json"


def tpl(*records: dict, drop: tuple[str, ...] = (), **fields) -> dict:
    out = copy.deepcopy(BASE)
    if records:
        out["records"] = copy.deepcopy(list(records))
    out.update(fields)
    for key in drop:
        out.pop(key)
    return out


def rec(base: dict, *, drop: tuple[str, ...] = (), **fields) -> dict:
    out = dict(base, **fields)
    for key in drop:
        out.pop(key)
    return out


# (code, source, path)
CASES = [
    ("DC1001", b'{"providerId": "\xff"}', PATH),
    ("DC1002", '{"providerId": ', PATH),
    ("DC1003", "[]", PATH),
    ("DC1004", json.dumps(BASE).replace('"version": 1', '"version": 1, "version": 2'), PATH),
    ("DC1005", tpl(syncblock=True), PATH),
    ("DC1006", tpl(rec(A, pointsto="x")), PATH),
    ("DC1007", tpl(multiInstance="yes"), PATH),
    ("DC1008", tpl(drop=("serviceName",)), PATH),
    ("DC1009", tpl(**{"": "x"}), PATH),
    ("DC1010", tpl(serviceId="web site"), "templates/example.com.web site.json"),
    ("DC1011", tpl(providerName=""), PATH),
    ("DC1012", tpl(rec(CNAME, pointsTo="")), PATH),
    ("DC1013", tpl(), "templates/example.com.website.json"),
    ("DC1015", tpl(version=0), PATH),
    ("DC1016", tpl(shared=True), PATH),
    ("DC1017", tpl(serviceName="%name% site"), PATH),
    ("DC1018", tpl(logoUrl="javascript:alert(1)"), PATH),
    ("DC1019", tpl(providerName="Exam\u202eelpmaxe"), PATH),
    ("DC1020", tpl(description="x" * 2049), PATH),
    ("DC1021", tpl(syncPubKeyDomain="com"), PATH),
    ("DC1022", tpl(warnPhishing=True), PATH),
    ("DC1023", tpl(records=[]), PATH),
    ("DC1024", tpl(rec(A, type="A RECORD")), PATH),
    ("DC1025", tpl(rec(A, essential="onApply")), PATH),
    ("DC1026", tpl(rec(TXT, txtConflictMatchingMode="Exact")), PATH),
    ("DC1028", tpl(rec(CNAME, host="www"), rec(TXT, host="www")), PATH),
    ("DC1029", tpl(rec(CNAME, host="@")), PATH),
    ("DC1030", tpl(rec(A, ttl="3600s")), PATH),
    ("DC1031", tpl(rec(SRV, service="sip")), PATH),
    ("DC1033", tpl(rec(SPFM, spfRules="v=spf1 include:_spf.example.com")), PATH),
    ("DC1034", tpl(rec(SPFM, spfRules="include:_spf.example.com -all")), PATH),
    ("DC1035", tpl(rec(SPFM, spfRules="include:_spf.example.com spf2.0/pra")), PATH),
    ("DC1036", tpl(rec(SPFM, spfRules="exp=a.example.com exp=b.example.com")), PATH),
    ("DC1037", tpl(rec(CNAME, pointsTo="%target.example.com")), PATH),
    ("DC1038", tpl(rec(A, host="www!")), PATH),
    ("DC1039", tpl(rec(MX, pointsTo="mail server.example.com")), PATH),
    ("DC1040", tpl(rec(A, pointsTo="example.com")), PATH),
    ("DC1041", tpl(rec(A, pointsTo="2001:db8::1")), PATH),
    ("DC1042", tpl(rec(TXT, data='"' + "k" * 256 + '"')), PATH),
    ("DC1044", tpl(rec(A, groupId="group one"), rec(CNAME, groupId="group one")), PATH),
    ("DC2001", tpl(serviceId="Web"), PATH),
    ("DC2002", tpl(syncRedirectDomain="example.com, www.example.com"), PATH),
    ("DC2003", tpl(rec(CNAME, host="@"), hostRequired=True, multiInstance=True), PATH),
    ("DC2004", tpl(rec(CNAME, pointsTo="%target%.example.net"), drop=("syncPubKeyDomain",)), PATH),
    ("DC2005", tpl(rec(TXT, txtConflictMatchingMode="Prefix")), PATH),
    ("DC2006", tpl(rec(SPFM, spfRules="redirect=_spf.example.com")), PATH),
    ("DC2007", tpl(rec(TXT, data="a%b c%d")), PATH),
    ("DC2008", tpl(rec(MX, pointsTo="mail.@")), PATH),
    ("DC2009", tpl(rec(TXT, data="k" * 300)), PATH),
    ("DC2010", tpl(A, dict(A)), PATH),
    ("DC2011", tpl(rec(SRV, protocol="_tls")), PATH),
    ("DC2012", tpl(rec(CNAME, host="%name%", pointsTo="%target%")), PATH),
    ("DC2013", tpl(logoUrl=""), PATH),
    ("DC3001", tpl(drop=("version",)), PATH),
    ("DC3002", tpl(sharedProviderName=True), PATH),
    ("DC3003", tpl(drop=("syncPubKeyDomain",)), PATH),
    ("DC3004", tpl(rec(A, groupId="g"), rec(CNAME, groupId="g")), PATH),
    ("DC3005", tpl(hostRequired=True), PATH),
    ("DC3006", tpl(rec(CNAME, data="x")), PATH),
    ("DC3007", tpl(rec(A, ttl="3600")), PATH),
    ("DC3008", tpl(rec(A, pointsTo="%ip%")), PATH),
    ("DC3009", tpl(rec(TXT, data="v=spf1 include:_spf.example.com ~all")), PATH),
    ("DC3010", tpl(rec(TXT, type="CAA", data='0 issue "letsencrypt.org"')), PATH),
    ("DC3011", tpl(rec(TXT, host="_example-verify")), PATH),
    ("DC3012", tpl(rec(CNAME, host="www.%host%")), PATH),
    ("DC3013", tpl(rec(CNAME, type="REDIR301", target="https://example.com/", drop=("pointsTo",))), PATH),
    ("DC3014", tpl(rec(A, groupId="g"), CNAME), PATH),
]


def test_every_code_has_a_case():
    # DC1014 needs several files: test_duplicate_ids_across_files covers it.
    assert {c for c, _, _ in CASES} | {"DC1014"} == set(CODES)


def test_code_levels_match_their_prefix():
    prefix = {"error": "DC1", "warning": "DC2", "info": "DC3"}
    for code, (level, title) in CODES.items():
        assert code.startswith(prefix[level]) and title


@pytest.mark.parametrize(("code", "source", "path"), CASES, ids=[c for c, _, _ in CASES])
def test_rule_fires(code, source, path):
    findings = lint_template(source, path=path)
    hits = [f for f in findings if f.code == code]
    assert hits, f"{code} not reported; got {[(f.code, f.message) for f in findings]}"
    for f in hits:
        assert f.level == CODES[code][0]
        assert f.path == path
        assert len(f.message) > 20  # an actionable sentence, not a bare code


def test_clean_template_has_no_findings():
    assert lint_template(tpl(), path=PATH) == []


def test_clean_data_file_has_no_findings():
    path = DATA_DIR / "templates" / "example.com.web.json"
    assert lint_template(path.read_bytes(), path=str(path)) == []


@pytest.mark.parametrize("record", [
    rec(A, host="*"),
    rec(A, host="shop.%domain%."),
    rec(CNAME, host="www", pointsTo="@"),
    rec(CNAME, host="www", pointsTo="%fqdn%."),
    rec(CNAME, host="xn--bcher-kva", pointsTo="bücher.example.com"),
    rec(TXT, host="_dmarc", data="v=DMARC1; p=none", txtConflictMatchingMode="Prefix",
        txtConflictMatchingPrefix="v=DMARC1"),
    rec(TXT, host="@", data='"' + "k" * 255 + '" "' + "k" * 100 + '"'),
    rec(TXT, host="@", data="%value%"),
    rec(MX, ttl="%ttl%", priority="%prio%"),
    rec(SRV, name=""),
    rec(SRV, target="."),
    rec(SPFM, spfRules="include:_spf.example.com ip4:192.0.2.0/24 a mx ?exists:%{i}.x.example.com"),
    rec(SPFM, spfRules="include:%domain% ip6:2001:db8::/32 -ip4:198.51.100.1"),
    rec(TXT, data="v=spf1 exists:%{i}._spf.%{d} ~all"),
    rec(A, pointsTo="198.51.100.7", essential="OnApply", groupId="web-1"),
])
def test_valid_records_raise_no_error_or_warning(record):
    findings = lint_template(tpl(record), path=PATH)
    assert [f for f in findings if f.level != "info"] == []


def test_cname_apex_allowed_with_host_required():
    findings = lint_template(tpl(rec(CNAME, host="@"), hostRequired=True), path=PATH)
    assert findings == []


def test_cname_in_another_group_is_no_conflict():
    findings = lint_template(tpl(rec(CNAME, host="www", groupId="a"), rec(A, host="www", groupId="b")), path=PATH)
    assert "DC1028" not in {f.code for f in findings}


@pytest.mark.parametrize("domain", [
    "github.io", "myapp.github.io.", "herokuapp.com", "co.uk", "192.0.2.1", "[2001:db8::1]", "dev0.be.lan",
    "printer.local", "corp.internal", "ex ample.com", "%domain%",
])
def test_sync_domains_rejected(domain):
    for field in ("syncPubKeyDomain", "syncRedirectDomain"):
        findings = lint_template(tpl(**{field: domain}), path=PATH)
        codes = {f.code for f in findings if f.field == field}
        if domain == "myapp.github.io.":
            assert "DC1021" not in codes  # a name below a public suffix is someone's own domain
        else:
            assert "DC1021" in codes, (field, domain)


def test_sync_domain_underscore_prefix_only_for_pub_key():
    assert lint_template(tpl(syncPubKeyDomain="_dck.example.com"), path=PATH) == []
    findings = lint_template(tpl(syncRedirectDomain="_dck.example.com"), path=PATH)
    assert "DC1021" in {f.code for f in findings}


@pytest.mark.parametrize(("url", "bad"), [
    ("https://cdn.example.com/logo.svg", False),
    ("http://cdn.example.com/logo.png", True),
    ("data:image/png;base64,AAAA", True),
    ("/static/logo.png", True),
    ("//cdn.example.com/logo.png", True),
    ("https://user:pw@cdn.example.com/logo.png", True),
    ("https://cdn.example.com/a b.png", True),
])
def test_logo_url(url, bad):
    codes = {f.code for f in lint_template(tpl(logoUrl=url), path=PATH)}
    assert ("DC1018" in codes) is bad


@pytest.mark.parametrize("name", ["A" * 256, "Zero\u200bwidth", "Line\nbreak", "Right\u200fmark"])
def test_display_names(name):
    findings = lint_template(tpl(serviceName=name), path=PATH)
    assert [f.field for f in findings if f.code == "DC1019"] == ["serviceName"]


def test_display_name_unicode_is_fine():
    assert lint_template(tpl(providerName="Bücher & Söhne 株式会社"), path=PATH) == []


@pytest.mark.parametrize(("field", "value", "bad"), [
    ("ttl", -1, True), ("ttl", 2**31, True), ("ttl", 0, False), ("ttl", "%ttl%", False), ("ttl", "", True),
    ("ttl", "%ttl", True), ("ttl", " 60", True),
    ("priority", 65536, True), ("priority", "65535", False), ("port", -5, True), ("weight", "%w%", False),
])
def test_number_ranges(field, value, bad):
    findings = lint_template(tpl(rec(SRV, **{field: value})), path=PATH)
    assert any(f.level == "error" and f.field == field for f in findings) is bad


def test_essential_no_is_error_with_hint():
    findings = lint_template(tpl(rec(A, essential="onApply")), path=PATH)
    (hit,) = [f for f in findings if f.code == "DC1025"]
    assert "'OnApply'" in hit.message and hit.record_index == 0


def test_variable_type_is_reported_as_variable():
    findings = lint_template(tpl(rec(A, type="%type%")), path=PATH)
    assert [(f.code, f.field) for f in findings if f.level == "error"] == [("DC1017", "type")]


def test_phishing_rule_quiet_with_sync_block():
    findings = lint_template(tpl(rec(CNAME, pointsTo="%target%.example.net"), drop=("syncPubKeyDomain",),
                                 syncBlock=True), path=PATH)
    assert "DC2004" not in {f.code for f in findings}


def test_lint_accepts_a_template_object():
    template, _ = load_template(tpl(logoUrl="http://x.example/l.png"))
    assert [f.code for f in lint_template(template)] == ["DC1018"]


def test_unparseable_source_gives_only_structural_findings():
    assert [f.code for f in lint_template("{", path=PATH)] == ["DC1002"]


def write(tmp_path: Path, name: str, data: dict) -> Path:
    p = tmp_path / name
    p.write_text(json.dumps(data))
    return p


def test_duplicate_ids_across_files(tmp_path):
    write(tmp_path, "example.com.web.json", tpl())
    other = tmp_path / "more"
    other.mkdir()
    write(other, "example.com.web.json", tpl(serviceId="WEB"))
    results = lint_paths([tmp_path, other])
    first, second = results
    assert [f.code for f in results[first]] == []
    dup = [f for f in results[second] if f.code == "DC1014"]
    assert dup and first in dup[0].message and dup[0].level == "error"


def test_lint_paths_directory_and_missing(tmp_path):
    write(tmp_path, "example.com.web.json", tpl())
    (tmp_path / "notes.txt").write_text("not a template")
    assert list(lint_paths([tmp_path])) == [str(tmp_path / "example.com.web.json")]
    with pytest.raises(FileNotFoundError):
        lint_paths([tmp_path / "nope.json"])


@pytest.mark.parametrize(("code", "source", "path"), [c for c in CASES if isinstance(c[1], dict)],
                         ids=[c[0] for c in CASES if isinstance(c[1], dict)])
def test_template_built_in_code_lints_like_its_json(code, source, path):
    # The admin and the importer may hold Template objects without ``raw``: the attributes decide.
    template, structural = load_template(source)
    if template is None or structural:
        pytest.skip("structural findings exist only for JSON input")
    bare = dataclasses.replace(template, raw={},
                               records=tuple(dataclasses.replace(r, raw={}) for r in template.records))
    assert [f.code for f in lint_template(bare, path=path)] == [f.code for f in lint_template(source, path=path)]


def test_host_variable_in_points_to_is_reported():
    findings = lint_template(tpl(rec(CNAME, pointsTo="%host%.sites.example.com")), path=PATH)
    assert [(f.code, f.field) for f in findings] == [("DC3012", "pointsTo")]


# ---- robustness: whatever the JSON, lint reports findings and never raises -------------------------

_text = st.text(alphabet=st.sampled_from(list("aZ09.-_%@* :/\"\\=~+?{}\u202e\u00e9\u5b57")), max_size=30)
_scalar = st.one_of(st.none(), st.booleans(), st.integers(-(2**40), 2**40),
                    st.floats(allow_nan=False, allow_infinity=False), _text,
                    st.sampled_from(["A", "CNAME", "TXT", "SRV", "SPFM", "MX", "NS", "@", "%v%", "_tcp", "3600"]))
_value = st.recursive(_scalar, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner,
                                                                                             max_size=3),
                      max_leaves=6)
_record = st.dictionaries(st.sampled_from(sorted(RECORD_FIELDS)), _value, max_size=10)
_template = st.fixed_dictionaries(
    {"records": st.lists(st.one_of(_record, _value), max_size=4)},
    optional={key: _value for key in TEMPLATE_FIELDS if key != "records"},
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_template)
def test_lint_never_raises(data):
    findings = lint_template(data, path=PATH)
    for f in findings:
        assert f.code in CODES and f.level == CODES[f.code][0]
    text = json.dumps(data)
    assert lint_template(text, path=PATH) == findings


def test_host_message_quotes_what_the_author_wrote():
    findings = lint_template(tpl(rec(MX, pointsTo="mail server.%domain%")), path=PATH)
    (hit,) = [f for f in findings if f.code == "DC1039"]
    assert hit.message.startswith("pointsTo 'mail server.%domain%' is not a valid host name (")
    assert "whitespace" in hit.message


def test_missing_or_mistyped_ids_are_reported_once():
    findings = lint_template(tpl(drop=("serviceName",), providerId=5), path=PATH)
    assert sorted((f.code, f.field) for f in findings if f.level == "error") == [
        ("DC1007", "providerId"), ("DC1008", "serviceName")]


def test_structural_record_problems_are_not_repeated():
    findings = lint_template(tpl(rec(A, ttl=True), rec(CNAME, drop=("type",))), path=PATH)
    assert sorted((f.code, f.record_index, f.field) for f in findings if f.level == "error") == [
        ("DC1007", 0, "ttl"), ("DC1008", 1, "type")]
