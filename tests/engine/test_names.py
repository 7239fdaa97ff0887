"""Name normalisation: IDNA 2008 + UTS 46, whole labels, and no silent clean-up of malformed input."""

import pytest

from django_domainconnect.engine.errors import HostError
from django_domainconnect.engine.names import is_subdomain, normalize_domain, normalize_host, to_unicode_name


@pytest.mark.parametrize(("given", "expected"), [
    ("example.com", "example.com"),
    ("EXAMPLE.com.", "example.com"),
    ("faß.de", "xn--fa-hia.de"),
    ("xn--fa-hia.de", "xn--fa-hia.de"),
])
def test_domains_normalise_to_lower_case_a_labels(given, expected):
    assert normalize_domain(given) == expected


@pytest.mark.parametrize("bad", [
    "example.com\n", " example.com", "example.com ", "exa mple.com", "example.com\r\n", "ex\tample.com",
    "example..com", "-example.com", "com", "ex\u200dample.com", "a" * 64 + ".com",
])
def test_malformed_domains_are_refused_not_cleaned(bad):
    with pytest.raises(HostError):
        normalize_domain(bad)


@pytest.mark.parametrize("bad", ["off\r\n", " www", "www ", "w w", "www.", "\tx"])
def test_malformed_hosts_are_refused(bad):
    with pytest.raises(HostError):
        normalize_host(bad)


def test_apex_host_forms():
    assert normalize_host(None) == normalize_host("") == normalize_host("@") == ""
    assert normalize_host("_dmarc.Mail") == "_dmarc.mail"


def test_subdomain_is_by_whole_labels():
    assert is_subdomain("www.example.com.", "example.com")
    assert is_subdomain("example.com", "example.com.")
    assert not is_subdomain("evilexample.com", "example.com")


def test_unicode_display():
    assert to_unicode_name("xn--fa-hia.de") == "faß.de"
