"""Fuzzing the three parsers that take hostile input (SECURITY.md fuzz targets 5, 6 and 8).

Hypothesis drives them with raw bytes, with structured near-valid input and with mutations of valid input
(atheris-style: flip, insert and delete bytes). Each may only ever return its result or raise its
documented error — never anything else:

* ``engine.template.load_template`` never raises; ``parse_template`` raises only ``TemplateError``;
* ``engine.signatures.parse_key_records`` returns one exact key or raises ``KeyRecordError``, whatever
  the answer order;
* ``engine.query.parse_query`` returns ``{name: value}`` or raises ``EngineError("invalid_request")``,
  decodes exactly once, and refuses duplicates.
"""

from __future__ import annotations

import base64
import json
import os
import random
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from django_domainconnect.engine.errors import EngineError, KeyRecordError, TemplateError
from django_domainconnect.engine.query import parse_query
from django_domainconnect.engine.signatures import parse_key_records, public_key_txt_records
from django_domainconnect.engine.template import load_template, parse_template
from django_domainconnect.engine.types import Finding, Template
from tests.conftest import corpus_files

EXAMPLES = int(os.environ.get("DC_FUZZ_EXAMPLES", "200"))  # raise it for a longer hunt
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def mutated(draw, seed: bytes) -> bytes:
    """``seed`` after a few random byte flips, insertions, deletions and splices."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(0, 6))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "dup"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[pos] = draw(st.integers(0, 255))
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete" and data:
            del data[pos:pos + draw(st.integers(1, 16))]
        elif op == "dup" and data:
            end = min(len(data), pos + draw(st.integers(1, 32)))
            data[pos:pos] = data[pos:end]
    return bytes(data)


# -- templates -------------------------------------------------------------------------------------------

VALID_TEMPLATE = json.dumps({
    "providerId": "example.com", "providerName": "Example", "serviceId": "web", "serviceName": "Web",
    "version": 1, "syncRedirectDomain": "example.com", "logoUrl": "https://example.com/logo.png",
    "records": [
        {"type": "A", "host": "@", "pointsTo": "%IP%", "ttl": 3600},
        {"type": "CNAME", "host": "www", "pointsTo": "@", "ttl": 3600},
        {"type": "TXT", "host": "@", "data": "v=%token%", "ttl": 3600, "txtConflictMatchingMode": "Prefix",
         "txtConflictMatchingPrefix": "v="},
        {"type": "SPFM", "host": "@", "spfRules": "include:spf.example.com"},
        {"type": "MX", "host": "@", "pointsTo": "mx.example.com", "priority": 10, "ttl": 3600},
        {"type": "SRV", "name": "_sip", "target": "sip.example.com", "protocol": "_tcp", "service": "_sip",
         "priority": 1, "weight": 1, "port": 5060, "ttl": 3600},
    ],
}).encode()

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=20,
)
template_like = st.fixed_dictionaries({}, optional={
    "providerId": json_values | st.text(max_size=70), "serviceId": json_values | st.text(max_size=70),
    "providerName": json_values, "serviceName": json_values, "version": json_values,
    "syncBlock": json_values, "sharedProviderName": json_values, "syncPubKeyDomain": json_values,
    "syncRedirectDomain": json_values, "warnPhishing": json_values, "hostRequired": json_values,
    "logoUrl": json_values, "records": st.lists(
        st.dictionaries(st.sampled_from(["type", "host", "pointsTo", "data", "ttl", "priority", "weight", "port",
                                         "groupId", "essential", "txtConflictMatchingMode", "spfRules", "name",
                                         "target", "protocol", "service", "txtConflictMatchingPrefix"]),
                        json_values | st.sampled_from(["A", "CNAME", "TXT", "SPFM", "NS", "@", "%x%"])),
        max_size=5) | json_values,
})


def _check_load(source: bytes | str) -> None:
    template, findings = load_template(source)  # must not raise
    assert isinstance(findings, list) and all(isinstance(f, Finding) for f in findings)
    assert template is None or isinstance(template, Template)
    if template is None:
        assert any(f.level == "error" for f in findings)
    try:
        parsed = parse_template(source)
    except TemplateError as exc:
        assert exc.message
    else:
        assert isinstance(parsed, Template)


@FUZZ
@given(st.binary(max_size=400))
@example(b"")
@example(b"\xff\xfe{")
@example(b'{"records": [' * 50)
@example(b"[" * 5000)
@example(b'{"a": 1e999999}')
@example(b'{"providerId": "\\ud800"}')
def test_load_template_raw_bytes(data: bytes) -> None:
    _check_load(data)


@FUZZ
@given(mutated(VALID_TEMPLATE))
def test_load_template_mutated_valid_template(data: bytes) -> None:
    _check_load(data)


@FUZZ
@given(template_like)
def test_load_template_structured_garbage(body: dict) -> None:
    _check_load(json.dumps(body))
    _check_load(json.dumps(body).encode("utf-16"))  # not UTF-8: a finding, not a crash


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_load_template_mutated_corpus(data) -> None:
    files = corpus_files()
    if not files:
        pytest.skip("the public template corpus is absent (../shared/templates)")
    source = files[data.draw(st.integers(0, len(files) - 1))].read_bytes()
    _check_load(data.draw(mutated(source)))


def _dumps_with_duplicate(value, target, key, extra) -> str:
    """JSON text of ``value`` where the object ``target`` (by identity) repeats ``key`` first as ``extra``."""
    if isinstance(value, dict):
        pairs = [f"{json.dumps(k)}: {_dumps_with_duplicate(v, target, key, extra)}" for k, v in value.items()]
        if value is target:
            pairs.insert(0, f"{json.dumps(key)}: {json.dumps(extra)}")
        return "{" + ", ".join(pairs) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_dumps_with_duplicate(v, target, key, extra) for v in value) + "]"
    return json.dumps(value)


@FUZZ
@given(st.data(), json_values)
def test_duplicate_json_keys_are_always_rejected(data, extra) -> None:
    body = json.loads(VALID_TEMPLATE)
    target = data.draw(st.sampled_from([body, *body["records"]]))
    key = data.draw(st.sampled_from(sorted(target)))
    with pytest.raises(TemplateError):
        parse_template(_dumps_with_duplicate(body, target, key, extra))
    _, findings = load_template(_dumps_with_duplicate(body, target, key, target[key]))  # even the same value
    assert any(f.level == "error" for f in findings)


def test_the_seed_template_is_valid() -> None:
    assert parse_template(VALID_TEMPLATE).service_id == "web"


# -- key records -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def key_fragments() -> list[str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return public_key_txt_records(pem, max_len=120)


def _outcome(rrset) -> tuple[str, bytes | None]:
    try:
        info = parse_key_records(rrset)
    except KeyRecordError as exc:
        assert exc.message
        return "error", None
    assert info.bits >= 2048  # a short key is never accepted
    return "key", info.der


txt_string = st.binary(max_size=80) | st.text(max_size=80).map(lambda s: s.encode("utf-8", "surrogatepass"))
fragment_text = st.builds(
    lambda p, a, t, d, extra: ",".join(x for x in [f"p={p}", a, t, f"d={d}", extra] if x),
    st.one_of(st.integers(-2, 12).map(str), st.text(max_size=4)),
    st.sampled_from(["", "a=RS256", "a=HS256", "a=none", "a=", "a=RS256,a=RS256"]),
    st.sampled_from(["", "t=x509", "t=jwk", "t=x509,t=x509"]),
    st.binary(max_size=60).map(lambda b: base64.b64encode(b).decode()) | st.text(max_size=20),
    st.sampled_from(["", "x=1", " ", "p", "d="]),
)


@FUZZ
@given(st.lists(st.one_of(txt_string, st.lists(txt_string, max_size=4), fragment_text), max_size=8), st.randoms())
@example([], random.Random(0))
@example([b"p=1,a=RS256,d=" + b"A" * 300], random.Random(0))
def test_parse_key_records_arbitrary_rrsets(rrset, rnd) -> None:
    first = _outcome(rrset)
    shuffled = list(rrset)
    rnd.shuffle(shuffled)
    assert _outcome(shuffled) == first  # the answer order never matters


@FUZZ
@given(st.randoms(), st.integers(0, 3), st.data())
def test_parse_key_records_real_key_shuffled_split_and_mutated(key_fragments, rnd, how, data) -> None:
    expected = parse_key_records(key_fragments).der
    records: list = list(key_fragments)
    rnd.shuffle(records)
    if how == 1:  # each record as several character-strings (a TXT over 255 octets arrives split)
        records = [[r[i:i + 37].encode() for i in range(0, len(r), 37)] for r in records]
        assert _outcome(records) == ("key", expected)
    elif how == 2:  # one record mutated: a (possibly other, still >= 2048-bit) key or a defined error,
        # the same whatever the order. A flipped base64 digit of the modulus is just another public key:
        # the signature check, not the parser, rejects it.
        i = data.draw(st.integers(0, len(records) - 1))
        original = records[i]
        records[i] = data.draw(mutated(original.encode()))
        outcome = _outcome(records)
        if records[i] == original.encode():
            assert outcome == ("key", expected)
        rnd.shuffle(records)
        assert _outcome(records) == outcome
    elif how == 3:  # a fragment dropped or duplicated
        if data.draw(st.booleans()):
            records.pop(data.draw(st.integers(0, len(records) - 1)))
        else:
            records.append(records[data.draw(st.integers(0, len(records) - 1))])
        assert _outcome(records) == ("error", None)
    else:
        assert _outcome(records) == ("key", expected)


# -- query strings ---------------------------------------------------------------------------------------


def _check_query(raw: bytes) -> dict[str, str] | None:
    try:
        result = parse_query(raw)
    except EngineError as exc:
        assert exc.code == "invalid_request" and exc.message
        return None
    assert all(isinstance(k, str) and k and isinstance(v, str) for k, v in result.items())
    return result


@FUZZ
@given(st.binary(max_size=300))
@example(b"a=%")
@example(b"a=%zz")
@example(b"%ff=1")
@example(b"=1")
@example(b"a=1&a=1")
@example(b"&&&")
def test_parse_query_raw_bytes(raw: bytes) -> None:
    _check_query(raw)
    _check_query(raw.decode("latin-1"))


@FUZZ
@given(mutated(b"domain=example.com&host=www&IP=192.0.2.1&redirect_uri=https%3A%2F%2Fa.example%2F&state=x%26y"
               b"&sig=QUJD%2B%2F%3D&key=_dck1"))
def test_parse_query_mutated(raw: bytes) -> None:
    _check_query(raw)


params = st.dictionaries(st.text(min_size=1, max_size=12).filter(lambda s: "\x00" not in s),
                         st.text(max_size=30), max_size=6)


@FUZZ
@given(params, st.booleans())
@example({"v": "%41"}, False)  # stays "%41": decoded exactly once
@example({"a+b": "c d"}, True)
def test_parse_query_decodes_exactly_once(values: dict[str, str], plus: bool) -> None:
    assume(all(_encodable(k) and _encodable(v) for k, v in values.items()))
    raw = urlencode(values) if plus else "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in values.items())
    assert parse_query(raw.encode("ascii")) == values


@FUZZ
@given(params.filter(bool), st.data())
def test_parse_query_refuses_duplicates(values: dict[str, str], data) -> None:
    assume(all(_encodable(k) and _encodable(v) for k, v in values.items()))
    name = data.draw(st.sampled_from(sorted(values)))
    raw = urlencode(values) + "&" + urlencode({name: data.draw(st.text(max_size=5))})
    with pytest.raises(EngineError) as info:
        parse_query(raw)
    assert info.value.code == "invalid_request" and name in info.value.message


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates cannot travel in a URL
        return False
    return True
