"""Signed sync requests: canonical query, key-record parsing and RS256 verification (§6.4, §8.3.4)."""

from __future__ import annotations

import base64
import functools
import random
from urllib.parse import quote, quote_plus, urlencode

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from domainconnect.domainconnect import DomainConnect
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from django_domainconnect.engine.errors import KeyRecordError, SignatureError
from django_domainconnect.engine.signatures import (
    MAX_FRAGMENTS,
    PublicKeyInfo,
    check_key_label,
    key_lookup_name,
    parse_key_records,
    public_key_txt_records,
    sign_query,
    signed_query,
    split_signed_query,
    verify_signature,
    verify_signed_query,
)

# The key and signature printed in draft-02 §6.4 / §8.3.2.1. The printed signature was made over
# "a=1&b=2&ip=10.10.10.10&domain=example.net" (the earlier draft's unsorted example), not over the
# canonical input printed next to it — which is why verification must use the query as received.
SPEC_KEY = (
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA18SgvpmeasN4BHkkv0SBjAzIc"
    "4grYLjiAXRtNiBUiGUDMeTzQrKTsWvy9NuxU1dIHCZy9o1CrKNg5EzLIZLNyMfI6qiXnM"
    "+HMd4byp97zs/3D39Q8iR5poubQcRaGozWx8yQpG0OcVdmEVcTfyR/XSEWC5u16EBNvRn"
    "NAOAvZYUdWqVyQvXsjnxQot8KcK0QP8iHpoL/1dbdRy2opRPQ2FdZpovUgknybq/6FkeD"
    "tW7uCQ6Mvu4QxcUa3+WP9nYHKtgWip/eFxpeb+qLvcLHf1h0JXtxLVdyy6OLk3f2JRYUX"
    "2ZZVDvG3biTpeJz6iRzjGg6MfGxXZHjI8weDjXrJwIDAQAB"
)
SPEC_SIG = (
    "V2te9zWMU7G3plxBTsmYSJTvn2vzMvNwAjWQ%2BwTe91DxuJhdVf4cVc4vZBYfEYV"
    "7u5d7PzTO7se7OrkhyiB7TpoJJW1yB5qHR7HKM5SZldUsdtg5%2B1SzEtIX0Uq8b2mCmQ"
    "F%2FuJGXpqCyFrEajvpTM7fFKPk1kuctmtkjV7%2BATcvNPLWY7KyE4%2Bqc8jpfN61cP"
    "5l8iA4krAa3%2BfTro5cmWR8YUJ5yrnRs6KT4b5D71HFvOUk0sGEUddUUlsyRQKRHUFN6"
    "HjEya50YDHfZJlYHkHlK0xX6Yqeii9QZ2I35U9eJbSvZGQko5beqviWFXdsVDbvd3DYcb"
    "SHgJq9%2FXoMTTw%3D%3D"
)


@functools.cache
def _generate_pem(bits: int) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def private_pem(bits: int = 2048) -> str:
    return _generate_pem(bits)  # one key per size for the whole module (key generation is slow)


@functools.cache
def _key_info(bits: int) -> PublicKeyInfo:
    return parse_key_records(public_key_txt_records(private_pem(bits)))


def key_info(bits: int = 2048) -> PublicKeyInfo:
    return _key_info(bits)


def other_pem() -> str:
    return private_pem(2049)  # a second, unrelated key of a valid size


# -- the draft's example ------------------------------------------------------------------------------


def spec_info() -> PublicKeyInfo:
    return parse_key_records([f"p=2,a=RS256,d={SPEC_KEY[150:]}", f"p=1,a=RS256,d={SPEC_KEY[:150]}"])


def test_spec_example_key_and_signature_verify_over_the_query_as_sent():
    canonical, sig, key = split_signed_query(
        f"a=1&b=2&ip=10.10.10.10&domain=example.net&sig={SPEC_SIG}&key=_dcpubkeyv1")
    assert (canonical, key) == ("a=1&b=2&ip=10.10.10.10&domain=example.net", "_dcpubkeyv1")
    verify_signature(canonical, sig, spec_info())
    # Re-ordering (what a verifier that sorts would do) breaks it.
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature("a=1&b=2&domain=example.net&ip=10.10.10.10", sig, spec_info())


# -- interoperability with real clients -------------------------------------------------------------


def test_domain_connect_library_signature_verifies():
    params = {"domain": "example.com", "IP": "192.0.2.1", "RANDOMTEXT": "shm:1542108821:Hello World+%",
              "redirect_uri": "https://sp.example/done?x=1&y=2", "state": "a&b=c"}
    query = urlencode(sorted(params.items()))  # exactly what domain-connect 0.0.11 builds
    raw = query + DomainConnect._generate_sig_params(query, private_pem(), "_dck1")
    canonical, sig, key = split_signed_query(raw)
    assert canonical == query and key == "_dck1"
    verify_signature(canonical, sig, key_info())


def test_unsorted_percent20_query_as_exampleservice_sends_it():
    query = "domain=example.com&RANDOMTEXT=hello%20world&IP=192.0.2.1"
    raw = signed_query(query, private_pem(), "_dck1")
    canonical, sig, key = split_signed_query(raw)
    verify_signature(canonical, sig, key_info())


def test_domainconnect_go_urlsafe_unpadded_signature_fails_cleanly():
    query = "domain=example.com&IP=192.0.2.1"
    std = sign_query(query, private_pem())
    urlsafe = base64.urlsafe_b64encode(base64.b64decode(std)).decode().rstrip("=")
    assume_has = "-" in urlsafe or "_" in urlsafe
    with pytest.raises(SignatureError, match="URL-safe" if assume_has else "padded"):
        verify_signature(query, urlsafe, key_info())
    with pytest.raises(SignatureError, match="padded"):
        verify_signature(query, std.rstrip("="), key_info())


# -- split_signed_query ------------------------------------------------------------------------------


def test_sig_and_key_removed_anywhere_rest_byte_exact():
    raw = "key=_k&z=1+2&sig=QUJD&a=%7e&&b=x%20y"
    assert split_signed_query(raw) == ("z=1+2&a=%7e&&b=x%20y", "QUJD", "_k")


def test_unsigned_query_unchanged():
    assert split_signed_query("b=2&a=1") == ("b=2&a=1", None, None)


def test_sig_value_percent_decoded_and_literal_plus_kept():
    assert split_signed_query("a=1&sig=ab%2Bc%2F%3D&key=k")[1] == "ab+c/="
    assert split_signed_query("a=1&sig=ab+c/=&key=k")[1] == "ab+c/="


def test_encoded_sig_name_is_still_sig():
    assert split_signed_query("a=1&%73ig=QUJD&key=k") == ("a=1", "QUJD", "k")


@pytest.mark.parametrize("raw", ["a=1&sig=QUJD&sig=QUJD&key=k", "a=1&sig=QUJD&key=k&key=k"])
def test_duplicate_sig_or_key_rejected(raw):
    with pytest.raises(SignatureError, match="more than once"):
        split_signed_query(raw)


def test_param_appended_after_key_is_covered():
    query = "domain=example.com&IP=192.0.2.1"
    raw = signed_query(query, private_pem(), "_dck1") + "&IP=6.6.6.6"
    canonical, sig, _key = split_signed_query(raw)
    assert canonical.endswith("&IP=6.6.6.6")
    with pytest.raises(SignatureError):
        verify_signature(canonical, sig, key_info())


# -- key label and lookup name -----------------------------------------------------------------------


@pytest.mark.parametrize("key", ["_dck1", "_dcpubkeyv1", "key1", "K-2", "xn--bcher-kva", "a" * 63])
def test_valid_key_labels(key):
    assert check_key_label(key) == key.lower()


@pytest.mark.parametrize("key", ["", "a.b", "x.evil.com.", "../x", "a" * 64, "-a", "a-", "_", "a_b", "_a_b",
                                 "a b", "ä", "_dck1.", "%2E"])
def test_invalid_key_labels(key):
    with pytest.raises(SignatureError) as exc:
        check_key_label(key)
    assert exc.value.field == "key"


def test_key_lookup_name():
    assert key_lookup_name("_DCK1", "Keys.Example.com.") == "_dck1.keys.example.com"
    assert key_lookup_name("k", "_domainconnect.bücher.example") == "k._domainconnect.xn--bcher-kva.example"
    with pytest.raises(SignatureError, match="syncPubKeyDomain"):
        key_lookup_name("k", "bad..example")
    with pytest.raises(SignatureError):
        key_lookup_name("a.b", "example.com")


# -- key records -------------------------------------------------------------------------------------


def key_b64(bits: int = 2048) -> str:
    return base64.b64encode(key_info(bits).der).decode() if bits >= 2048 else _small_key_b64()


@functools.cache
def _small_key_b64() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


def frags(data: str, n: int, fmt: str = "p={p},a=RS256,d={d}") -> list[str]:
    size = -(-len(data) // n)
    return [fmt.format(p=i + 1, d=data[i * size:(i + 1) * size]) for i in range(n)]


def test_defaults_and_single_record():
    info = parse_key_records([f"p=1,d={key_b64()}"])
    assert (info.algorithm, info.key_type, info.fragments, info.bits) == ("RS256", "x509", 1, 2048)


def test_fragments_reassembled_by_integer_p_not_text():
    data = key_b64()
    parts = frags(data, 12)
    # p=10 sorts before p=2 as text; the order must be numeric.
    assert parse_key_records(list(reversed(parts))).der == key_info().der


def test_multi_string_records_are_joined():
    data = key_b64()
    record = f"p=1,a=RS256,t=x509,d={data}".encode()
    strings = [record[i:i + 255] for i in range(0, len(record), 255)]
    assert len(strings) > 1
    assert parse_key_records([strings]).der == key_info().der


def test_explicit_and_default_algorithm_agree():
    a, b = frags(key_b64(), 2, "p={p},d={d}")
    assert parse_key_records([a.replace("p=1,", "p=1,a=RS256,t=x509,"), b]).bits == 2048


@pytest.mark.parametrize("records, message", [
    ([], "no key TXT records"),
    (["p=1,a=none,d=QUJD"], "not supported"),
    (["p=1,a=HS256,d=QUJD"], "'a=HS256' is not supported"),
    (["p=1,t=pem,d=QUJD"], "'t=pem' is not supported"),
    (["p=1,a=RS256,d=QUJD", "p=2,a=RS512,d=QUJD"], "disagree on the algorithm"),
    (["p=1,t=x509,d=QUJD", "p=2,t=jwk,d=QUJD"], "disagree on the key type"),
    (["p=1,d=QUJD", "p=1,d=QUJD"], "p=1 is used by more than one"),
    (["a=RS256,d=QUJD"], "'p' is missing"),
    (["p=x,d=QUJD"], "not a positive decimal"),
    (["p=0,d=QUJD"], "not a positive decimal"),
    (["p=-1,d=QUJD"], "not a positive decimal"),
    (["p=١,d=QUJD"], "non-ASCII"),
    (["p=1,d=QUJD", "p=3,d=QUJD"], "p=2 is missing"),
    (["p=1"], "'d' is missing"),
    (["p=1,d="], "'d' is missing"),
    (["p=1,d=QU JD"], "not standard base64"),
    (["p=1,d=QU-_"], "not standard base64"),
    (["p=1,p=2,d=QUJD"], "appears twice"),
    (["p=1,x=1,d=QUJD"], "unknown field 'x'"),
    (["p=1;d=QUJD"], "not a positive decimal"),
    (["v=spf1 -all"], "unknown field 'v'"),
    (["garbage"], "not a name=value pair"),
    (["p=1,d=QUJD"], "not a DER SubjectPublicKeyInfo"),
    (["p=1,d=QUJ"], "not valid base64"),
    ([f"p={i + 1},d=QUJD" for i in range(MAX_FRAGMENTS + 1)], "fragments accepted"),
])
def test_bad_key_record_sets_rejected(records, message):
    with pytest.raises(KeyRecordError, match=message):
        parse_key_records(records)


def test_rsa_key_under_2048_bits_rejected():
    with pytest.raises(KeyRecordError, match="1024 bits; at least 2048"):
        parse_key_records([f"p=1,d={_small_key_b64()}"])


def test_non_rsa_key_rejected():
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(KeyRecordError, match="not an RSA key"):
        parse_key_records([f"p=1,d={base64.b64encode(der).decode()}"])


def test_key_records_round_trip_for_several_lengths():
    for max_len in (64, 100, 255, 2000):
        records = public_key_txt_records(private_pem(), max_len=max_len)
        assert all(len(r) <= max_len for r in records)
        assert parse_key_records(records).der == key_info().der
    public = serialization.load_pem_private_key(private_pem().encode(), None).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert public_key_txt_records(public) == public_key_txt_records(private_pem())


@given(st.lists(st.one_of(st.text(max_size=80), st.binary(max_size=80),
                          st.lists(st.binary(max_size=40), max_size=3)), max_size=6))
def test_fragment_parser_never_crashes(records):
    try:
        parse_key_records(records)
    except KeyRecordError:
        pass


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(min_value=1, max_value=12), st.randoms(use_true_random=False), st.booleans())
def test_fragment_order_and_string_splits_do_not_matter(n, rnd, split_strings):
    records: list = frags(key_b64(), n)
    rnd.shuffle(records)
    if split_strings:
        records = [[r[i:i + 50].encode() for i in range(0, len(r), 50)] for r in records]
    assert parse_key_records(records).der == key_info().der


# -- verification ------------------------------------------------------------------------------------


def test_signature_from_another_key_rejected():
    query = "domain=example.com"
    with pytest.raises(SignatureError):
        verify_signature(query, sign_query(query, other_pem()), key_info())


@pytest.mark.parametrize("sig, message", [
    ("", "empty"),
    ("QU JD", "space"),
    ("QUJD!!!!", "outside standard base64"),
    ("QUJ", "not padded"),
    ("Q=JD", "'=' padding only at the end"),
    ("QUJD", "signed with another key"),
    ("A" * 5000, "longer than"),
])
def test_malformed_sig_rejected_clearly(sig, message):
    with pytest.raises(SignatureError, match=message):
        verify_signature("a=1", sig, key_info())


def test_verify_signed_query_requires_both_parameters():
    calls = []

    def fetch(key, domain):
        calls.append((key, domain))
        return key_info()

    raw = signed_query("domain=example.com&IP=192.0.2.1", private_pem(), "_dck1")
    assert verify_signed_query(raw, "keys.example", fetch) == key_info()
    assert calls == [("_dck1", "keys.example")]
    with pytest.raises(SignatureError, match="neither 'sig' nor 'key'"):
        verify_signed_query("domain=example.com", "keys.example", fetch)
    with pytest.raises(SignatureError, match="no 'key'"):
        verify_signed_query(raw.rsplit("&key=", 1)[0], "keys.example", fetch)
    with pytest.raises(SignatureError, match="no 'sig'"):
        verify_signed_query("domain=example.com&key=_dck1", "keys.example", fetch)
    with pytest.raises(SignatureError, match="single DNS label"):
        verify_signed_query(raw.replace("key=_dck1", "key=x.evil.com"), "keys.example", fetch)
    assert len(calls) == 1  # a bad key label never reaches DNS


# -- property: every genuine signature verifies, every mutation fails ---------------------------------

VALUE = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12) | st.sampled_from(
    ["", "+", "%", "=", "&", "a b", "%2B", "&sig=x", "ü", "\u200b"])
NAME = st.text(alphabet="abcdefghijklmnopqrstuvwxyzIP_-", min_size=1, max_size=8).filter(
    lambda n: n not in ("sig", "key"))
PARAMS = st.dictionaries(NAME, VALUE, min_size=1, max_size=6)


def encode(params: dict[str, str], plus: bool, order: list[str]) -> str:
    q = quote_plus if plus else (lambda s: quote(s, safe=""))
    return "&".join(f"{q(k)}={q(params[k])}" for k in order)


@settings(max_examples=60, deadline=None)
@given(PARAMS, st.booleans(), st.randoms(use_true_random=False))
def test_genuine_signatures_verify(params, plus, rnd):
    order = sorted(params)
    rnd.shuffle(order)
    query = encode(params, plus, order)
    raw = signed_query(query, private_pem(), "_dck1")
    canonical, sig, key = split_signed_query(raw)
    assert canonical == query and key == "_dck1"
    verify_signature(canonical, sig, key_info())


def mutations(query: str, rnd: random.Random) -> list[str]:
    pairs = query.split("&")
    out = []
    pos = rnd.randrange(len(query))
    out.append(query[:pos] + chr((ord(query[pos]) + 1) % 128 or 1) + query[pos + 1:])  # byte change
    if len(pairs) > 1 and pairs[0] != pairs[1]:
        out.append("&".join([pairs[1], pairs[0], *pairs[2:]]))  # re-order
        out.append("&".join(pairs[1:]))  # removal
    out.append(query + "&IP=6.6.6.6")  # append
    out.append(query + "&" + pairs[0])  # duplicate
    return [m for m in out if m != query]


@settings(max_examples=60, deadline=None)
@given(PARAMS, st.booleans(), st.randoms(use_true_random=False))
def test_every_mutation_fails(params, plus, rnd):
    query = encode(params, plus, sorted(params))
    sig = quote(sign_query(query, private_pem()), safe="")
    for mutated in mutations(query, rnd):
        # The mutation goes where a real attacker can put it: in the URL, before or after sig/key.
        for raw in (f"{mutated}&sig={sig}&key=_dck1", f"{query}&sig={sig}&key=_dck1{mutated[len(query):]}"):
            canonical, got_sig, _key = split_signed_query(raw)
            if canonical == query:
                continue  # that placement does not apply to this mutation
            with pytest.raises(SignatureError):
                verify_signature(canonical, got_sig, key_info())


def test_der_certificate_is_accepted_as_x509():
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    private = serialization.load_pem_private_key(private_pem().encode(), None)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sp.example")])
    now = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(private.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(private, hashes.SHA256()))
    der = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
    info = parse_key_records(frags(der, 4))
    query = "domain=example.com"
    verify_signature(query, sign_query(query, private_pem()), info)


def test_raw_non_ascii_bytes_verify_byte_exact():
    # A client that sends raw (not percent-encoded) bytes: the view passes the query as bytes.
    for query in (b"note=\xc3\xa9&domain=example.com", b"note=\xff&domain=example.com"):
        sig = quote(sign_query(query, private_pem()), safe="")
        canonical, got_sig, _key = split_signed_query(query + f"&sig={sig}&key=_dck1".encode())
        verify_signature(canonical, got_sig, key_info())
