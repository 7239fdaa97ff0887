"""Refusals tell the Service Provider's developer what was wrong and how to fix it (docs/troubleshooting.md)."""

from __future__ import annotations

from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest

from django_domainconnect.views import messages as msg
from tests.sync.helpers import apply_url, default_query

pytestmark = pytest.mark.django_db

GROUPED = [
    {"type": "A", "host": "@", "pointsTo": "%IP%", "ttl": 3600, "groupId": "IPv4"},
    {"type": "TXT", "host": "@", "data": "v=%token%", "ttl": 3600, "groupId": "verify"},
]


def page_text(response) -> str:
    return unescape(response.content.decode())


def error_description(response) -> str:
    assert response.status_code == 302, response.content[-600:]
    return parse_qs(urlsplit(response["Location"]).query)["error_description"][0]


def test_unknown_group_lists_the_templates_groups(client, make_template, zones):
    make_template(records=GROUPED)
    text = error_description(client.get(apply_url(query=default_query(groupId="ipv4"))))
    assert text == msg.fill(msg.GROUP_ID_UNKNOWN, group="ipv4", groups="IPv4, verify")


def test_shared_name_refusal_names_the_template_flag(client, make_template, zones):
    make_template()
    text = error_description(client.get(apply_url(query=default_query(serviceName="Shop"))))
    assert text.startswith("'serviceName' is only allowed for templates with sharedServiceName.")
    assert "set sharedServiceName in the template" in text


def test_host_required_says_how_to_fix(client, make_template, zones):
    make_template(hostRequired=True)
    assert error_description(client.get(apply_url(query=default_query()))) == msg.HOST_REQUIRED


def test_duplicate_parameter_page_says_what_and_how(client, make_template, zones):
    make_template()
    response = client.get(apply_url(query="domain=example.com&IP=1.1.1.1&IP=6.6.6.6"))
    assert response.status_code == 400
    text = page_text(response)
    assert "parameter 'IP' is given more than once. Send each parameter once" in text  # no ".." either


def test_bad_variable_value_names_the_problem_and_the_fix(client, make_template, zones, alice):
    make_template(syncRedirectDomain=None)
    client.force_login(alice)
    query = default_query(token="a\tb")
    del query["redirect_uri"]
    response = client.get(apply_url(query=query))
    assert response.status_code == 400
    text = page_text(response)
    assert "The template cannot be applied with these values:" in text and "token" in text
    assert "Check the variables sent in the link." in text


def test_not_found_page_gives_a_fix_without_echoing_ids(client, db):
    response = client.get(apply_url("nosuch", provider_id="nobody.example", query=default_query()))
    assert response.status_code == 404
    text = page_text(response)
    assert msg.NOT_SUPPORTED in text
    assert "nosuch" not in text and "nobody.example" not in text


@pytest.mark.parametrize(("template", "redirect_uri", "note"), [
    ({"syncRedirectDomain": None}, "https://app.exampleservice.example/done", msg.REDIRECT_NO_DOMAIN),
    ({}, "https://evil.example/done", msg.REDIRECT_NOT_USED),
    ({}, "http://app.exampleservice.example/done", msg.REDIRECT_NOT_USED),
])
def test_error_page_says_why_the_redirect_uri_was_not_used(client, make_template, zones, template, redirect_uri,
                                                           note):
    make_template(**template)
    response = client.get(apply_url(query=default_query(redirect_uri=redirect_uri, groupId="nope")))
    assert response.status_code == 400
    text = page_text(response)
    assert note in text
    assert redirect_uri not in text  # never echoed: a page showing the attacker's URL would help phishing


def test_no_redirect_note_without_a_redirect_uri(client, make_template, zones):
    make_template()
    query = default_query(groupId="nope")
    del query["redirect_uri"]
    response = client.get(apply_url(query=query))
    assert response.status_code == 400
    assert "redirect_uri was not used" not in page_text(response)


def test_completion_page_says_why_the_redirect_uri_was_not_used(client, make_template, zones, alice):
    make_template()
    client.force_login(alice)
    consent = client.get(apply_url(query=default_query(redirect_uri="https://evil.example/done")))
    done = client.post("/domainconnect/consent", {"nonce": consent.context["nonce"], "action": "approve"})
    assert done.status_code == 200
    text = page_text(done)
    assert "Connected" in text and msg.REDIRECT_NOT_USED in text and "evil.example" not in text
