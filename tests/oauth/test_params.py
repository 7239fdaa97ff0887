"""Merging parameters from the query string and the body (SECURITY.md 12; INTEROP.md token and apply)."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from django.test import RequestFactory
from hypothesis import given, settings
from hypothesis import strategies as st

from django_domainconnect.oauth.params import ParamError, request_params

rf = RequestFactory()
names = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-", min_size=1,
                max_size=12)
values = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(names, values, max_size=8), st.data())
def test_split_anywhere_gives_back_the_same_parameters(params, data):
    in_query = {k: v for k, v in params.items() if data.draw(st.booleans(), label=k)}
    in_body = {k: v for k, v in params.items() if k not in in_query or data.draw(st.booleans())}
    request = rf.post(f"/x?{urlencode(in_query)}", data=json.dumps(in_body), content_type="application/json")
    assert request_params(request).values == params


@settings(max_examples=100, deadline=None)
@given(names, values, values)
def test_two_different_values_are_refused(name, first, second):
    if first == second:
        return
    request = rf.post(f"/x?{urlencode({name: first})}", data=json.dumps({name: second}),
                      content_type="application/json")
    with pytest.raises(ParamError):
        request_params(request)
    with pytest.raises(ParamError):
        request_params(rf.post(f"/x?{urlencode([(name, first), (name, second)])}", data=b"",
                               content_type="application/x-www-form-urlencoded"))


def test_repeatable_names_are_joined():
    request = rf.post("/x?groupId=a&groupId=b&groupId=a", data=b"", content_type="application/x-www-form-urlencoded")
    assert request_params(request, repeatable=frozenset({"groupId"})).values == {"groupId": "a,b"}


@pytest.mark.parametrize("body, content_type", [
    (b"[1, 2]", "application/json"),
    (b'{"a": {"b": 1}}', "application/json"),
    (b'{"a": null}', "application/json"),
    (b'{"a": 1, "a": 2}', "application/json"),
    (b"not json", "application/json"),
    (b"\xff\xfe", "application/x-www-form-urlencoded"),
    (b"<xml/>", "text/xml"),
])
def test_unreadable_bodies(body, content_type):
    with pytest.raises(ParamError):
        request_params(rf.post("/x", data=body, content_type=content_type))


def test_json_scalars_become_text():
    request = rf.post("/x", data=json.dumps({"force": True, "n": 3, "s": "x"}), content_type="application/json")
    assert request_params(request).values == {"force": "true", "n": "3", "s": "x"}


def test_query_keys_are_remembered():
    request = rf.post("/x?client_secret=s", data=json.dumps({"client_id": "c"}), content_type="application/json")
    params = request_params(request)
    assert params.query_keys == {"client_secret"}
    assert "client_id" in params and params.get("client_id") == "c"


def test_plus_and_percent_encoding_in_the_query():
    request = rf.post("/x?scope=t1+t2&data=a%2Bb%20c", data=b"", content_type="application/x-www-form-urlencoded")
    assert request_params(request).values == {"scope": "t1 t2", "data": "a+b c"}
