"""parse_query: form decoding exactly once, duplicates and broken encodings are invalid_request."""

from __future__ import annotations

from urllib.parse import quote, urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from django_domainconnect.engine.errors import EngineError
from django_domainconnect.engine.query import parse_query


def test_plus_is_space_and_percent_decoded_once():
    assert parse_query("a=x+y&b=x%20y&c=%2B&d=%252B") == {"a": "x y", "b": "x y", "c": "+", "d": "%2B"}


def test_non_ascii_utf8_and_bytes_input():
    assert parse_query("name=%C3%A9t%C3%A9") == {"name": "été"}
    assert parse_query(b"name=\xc3\xa9") == {"name": "é"}


def test_blank_values_and_empty_segments():
    assert parse_query("host=&flag&&x=1") == {"host": "", "flag": "", "x": "1"}
    assert parse_query("") == {}


def test_value_may_contain_equals():
    assert parse_query("v=a=b") == {"v": "a=b"}


@pytest.mark.parametrize("raw, name", [
    ("IP=1.1.1.1&IP=6.6.6.6", "IP"),
    ("domain=a.com&x=1&domain=a.com", "domain"),
    ("ip=1&%69p=2", "ip"),  # same name once decoded
    ("a+b=1&a%20b=2", "a b"),
])
def test_duplicates_rejected_naming_the_parameter(raw, name):
    with pytest.raises(EngineError) as exc:
        parse_query(raw)
    assert exc.value.code == "invalid_request"
    assert exc.value.field == name
    assert f"'{name}'" in str(exc.value)


def test_names_are_case_sensitive():
    assert parse_query("ip=1&IP=2") == {"ip": "1", "IP": "2"}


@pytest.mark.parametrize("raw", ["a=%zz", "a=%4", "a=100%", "%g1=1", "a=%C3", "a=%FF%FE", b"a=\xff"])
def test_bad_encoding_rejected(raw):
    with pytest.raises(EngineError) as exc:
        parse_query(raw)
    assert exc.value.code == "invalid_request"


def test_empty_name_rejected():
    with pytest.raises(EngineError, match="empty name"):
        parse_query("=1")


@given(st.dictionaries(st.text(min_size=1), st.text(), max_size=6))
def test_round_trip_with_urlencode(params):
    raw = urlencode(params)  # '+' for spaces
    assert parse_query(raw) == params
    raw20 = urlencode(params, quote_via=quote)  # '%20' for spaces
    assert parse_query(raw20) == params
