"""Redirect policy (SECURITY.md A.7–A.10) and parameter appending (§8.3.5, §8.3.6)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from django_domainconnect.engine.redirects import append_params, parse_redirect_host, redirect_allowed
from django_domainconnect.engine.types import Template


@dataclass
class T:
    """Stands in for a Template: only ``redirect_domains`` is read."""

    sync_redirect_domain: str | None

    @property
    def redirect_domains(self) -> tuple[str, ...]:
        if not self.sync_redirect_domain:
            return ()
        return tuple(d.strip().lower().rstrip(".") for d in self.sync_redirect_domain.split(",") if d.strip())


GOOD = T("good.com")


@pytest.mark.parametrize("uri", [
    "https://good.com",
    "https://good.com/",
    "https://good.com/done?x=1",
    "https://GOOD.com/path",
    "https://good.com./",
    "https://good.com:8443/cb",
    "https://www.good.com/cb",
    "https://a.b.good.com/cb",
    "https://good.com/path?q=https://evil.com",
])
def test_listed_https_hosts_allowed(uri):
    assert redirect_allowed(uri, GOOD, signed=False)


@pytest.mark.parametrize("uri", [
    # SECURITY.md A.7
    "https://evil.com",
    "https://evilgood.com",
    "https://good.com.evil.com",
    "https://good.com@evil.com",
    "https://evil.com\\@good.com/",
    "https://evil.com#.good.com",
    "//evil.com",
    "//good.com",
    # A.8: unsafe schemes
    "javascript:alert(1)",
    "javascript://good.com/%0aalert(1)",
    "data:text/html,<script>alert(1)</script>",
    "http://good.com/",
    "ftp://good.com/",
    # more parser differentials
    "https://evil.com%5C@good.com/",
    "https://evil.com%5c.good.com/",
    "https://good.com/%5Cevil",
    "https:\\\\evil.com",
    "https:/good.com",
    "https:good.com",
    "https:///good.com",
    "https://good.com#",
    "https://good.com/#frag",
    " https://good.com/",
    "https://good.com/ ",
    "https://go\tod.com/",
    "https://good.com/\n",
    "https://good.com\x00.evil.com/",
    "https://good.com\u200b/",
    "https://\u202egood.com/",
    "https://user:pw@good.com/",
    "https://@good.com/",
    "https://good.com:99999/",
    "https://good.com:/",
    "https://good.com:80:80/",
    "https://good%2ecom/",
    "https://evil.com%2F.good.com/",
    "https://[::1]/",
    "https://127.0.0.1/",
    "https://2130706433/",
    "https://0x7f.1/",
    "https://good..com/",
    "https://-good.com/",
    "",
    "https://good.com/" + "a" * 3000,
])
def test_hostile_uris_refused(uri):
    assert not redirect_allowed(uri, GOOD, signed=False)


WELL_FORMED_UNLISTED = {"https://evil.com", "https://evilgood.com", "https://good.com.evil.com"}


@pytest.mark.parametrize("uri", [
    "https://good.com@evil.com",
    "https://evil.com\\@good.com/",
    "//evil.com",
    "javascript:alert(1)",
    "http://good.com/cb",
    "https://[::1]/",
    "https://127.0.0.1/",
])
def test_signature_never_admits_malformed_non_https_or_ip_uris(uri):
    assert not redirect_allowed(uri, GOOD, signed=True)


def test_signature_lifts_only_the_host_allow_list():
    # ARCHITECTURE.md: a verified signature vouches for redirect_uri (draft §8.3.5), so any https host goes.
    for uri in WELL_FORMED_UNLISTED:
        assert redirect_allowed(uri, GOOD, signed=True)
    assert redirect_allowed("https://sp.example/cb", T(None), signed=True)
    assert not redirect_allowed("https://sp.example/cb", T(None), signed=False)
    assert not redirect_allowed("https://sp.example/cb", T("other.example"), signed=False)


def test_no_sync_redirect_domain_never_redirects():
    for template in (T(None), T(""), T(" , ")):
        assert not redirect_allowed("https://good.com/", template, signed=False)


def test_comma_separated_list_and_whitespace():
    t = T("one.example, two.example ,three.example.")
    for host in ("one.example", "two.example", "x.three.example"):
        assert redirect_allowed(f"https://{host}/cb", t, signed=False)
    assert not redirect_allowed("https://four.example/cb", t, signed=False)


def test_idna_normalised_matching_both_ways():
    assert redirect_allowed("https://bücher.example/cb", T("xn--bcher-kva.example"), signed=False)
    assert redirect_allowed("https://xn--bcher-kva.example/cb", T("bücher.example"), signed=False)
    assert redirect_allowed("https://shop.BÜCHER.example/cb", T("bücher.example"), signed=False)
    # A look-alike (Cyrillic 'а') is a different name.
    assert not redirect_allowed("https://gооd.com/", GOOD, signed=False)


def test_invalid_entries_are_ignored_not_matched():
    assert not redirect_allowed("https://good.com/", T("bad..entry"), signed=False)
    assert redirect_allowed("https://good.com/", T("bad..entry,good.com"), signed=False)


def test_debug_allows_http_only_on_listed_loopback():
    local = T("localhost,127.0.0.1,::1")
    assert redirect_allowed("http://localhost:8001/cb", local, signed=False, debug=True)
    assert redirect_allowed("http://127.0.0.1:8001/cb", local, signed=False, debug=True)
    assert redirect_allowed("http://[::1]:8001/cb", local, signed=False, debug=True)
    assert not redirect_allowed("http://localhost:8001/cb", local, signed=False, debug=False)
    assert not redirect_allowed("http://good.com/cb", GOOD, signed=False, debug=True)
    # debug relaxes the scheme only: the host must still be listed
    assert not redirect_allowed("http://localhost:8001/cb", GOOD, signed=False, debug=True)
    # IP entries match only exactly
    assert not redirect_allowed("http://127.0.0.2/cb", local, signed=False, debug=True)


def test_works_with_the_engine_template_type():
    template = Template(provider_id="p", provider_name="P", service_id="s", service_name="S", records=(),
                        sync_redirect_domain="good.com")
    assert redirect_allowed("https://www.good.com/cb", template, signed=False)
    assert not redirect_allowed("https://evil.com/cb", template, signed=False)


def test_parse_redirect_host():
    assert parse_redirect_host("https://Good.COM:443/x") == ("https", "good.com", 443)
    assert parse_redirect_host("https://[::1]/") == ("https", "::1", None)
    assert parse_redirect_host("https://evil.com\\@good.com/") is None


# -- append_params -------------------------------------------------------------------------------------


def test_state_is_percent_encoded_and_echoed_exactly():
    out = append_params("https://good.com/cb", {"state": "a&code=x", "error": "access_denied"})
    assert out == "https://good.com/cb?state=a%26code%3Dx&error=access_denied"


def test_existing_query_is_kept():
    assert append_params("https://good.com/cb?x=1", {"state": "s"}) == "https://good.com/cb?x=1&state=s"
    assert append_params("https://good.com/cb?", {"state": "s"}) == "https://good.com/cb?state=s"
    assert append_params("https://good.com/cb?x=1&", {"state": "s"}) == "https://good.com/cb?x=1&state=s"


def test_fragment_stays_last_and_none_skipped():
    assert append_params("https://a.example/cb#f", {"state": "s", "code": None}) == "https://a.example/cb?state=s#f"
    assert append_params("https://a.example/cb", {"state": None}) == "https://a.example/cb"


def test_spaces_plus_and_unicode():
    out = append_params("https://a.example/", [("error_description", "user_cancel: a+b é")])
    assert out == "https://a.example/?error_description=user_cancel%3A%20a%2Bb%20%C3%A9"


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"])))
def test_any_state_round_trips(state):
    out = append_params("https://good.com/cb?keep=1", {"state": state, "error": "access_denied"})
    query = dict(parse_qsl(urlsplit(out).query, keep_blank_values=True))
    assert query == {"keep": "1", "state": state, "error": "access_denied"}


LABEL = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=10).filter(
    lambda s: not s.startswith("-") and not s.endswith("-") and not s.isdigit())


@given(st.lists(LABEL, min_size=1, max_size=3), st.sampled_from(["", ".good.com", "good.com", ".com", "good"]))
def test_allowed_exactly_at_label_boundaries(labels, suffix):
    host = ".".join(labels) + suffix
    expected = host == "good.com" or host.endswith(".good.com")
    assert redirect_allowed(f"https://{host}/cb", GOOD, signed=False) is expected


@given(st.text(max_size=60))
def test_arbitrary_text_never_crashes(text):
    assert redirect_allowed(text, GOOD, signed=False) in (True, False)
    assert redirect_allowed("https://" + text, GOOD, signed=False) in (True, False)


def test_our_parameters_replace_same_named_ones_in_the_redirect_uri():
    uri = "https://good.com/cb?a=1&state=evil&error=x&b=2"
    result = append_params(uri, {"state": "s1 &x=1"})
    query = parse_qsl(urlsplit(result).query, keep_blank_values=True)
    assert query == [("a", "1"), ("b", "2"), ("state", "s1 &x=1")]
    # Without a state to echo (e.g. an invalid one), the URI's own state= is still never passed on.
    assert append_params("https://good.com/cb?state=evil&a=1", {"error": "invalid_request"}) == (
        "https://good.com/cb?a=1&error=invalid_request")
    only_ours = append_params("https://good.com/cb?state=evil", {"state": "s", "error": "access_denied"})
    assert only_ours == "https://good.com/cb?state=s&error=access_denied"
    assert append_params("https://good.com/cb?%73tate=evil#f", {"state": "s"}) == "https://good.com/cb?state=s#f"
