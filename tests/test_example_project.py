"""The example registrar (example_project/): its backend adapter, seed command, link builder and demo DNS.

The in-process tests use the suite's settings (``registrar`` is installed there) with the example's URLs;
the ``rundemo`` and ``check --deploy`` tests run ``example_project/manage.py`` in a subprocess with the
example's own settings on a throwaway SQLite file.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import dns.resolver
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command, get_commands
from django.test import override_settings

from django_domainconnect.engine.errors import SignatureError
from django_domainconnect.engine.signatures import parse_key_records, split_signed_query, verify_signed_query
from django_domainconnect.engine.template import parse_template
from django_domainconnect.engine.types import NameScope
from django_domainconnect.engine.types import Record as DCRecord
from django_domainconnect.exceptions import BackendError
from django_domainconnect.testing.backend_contract import BackendContract
from registrar.builder import build_apply_link, template_variables
from registrar.dc_backend import RegistrarBackend, bump_soa_serial
from registrar.demo_dns import demo_dns_records, sync_pub_key_domains
from registrar.demo_keys import DEMO_KEY_LABEL, private_key_pem, public_key_records
from registrar.models import Domain, Record, reverse_labels
from registrar.seed import DEMO_TEMPLATES_DIR, zone_records

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "example_project"
DEMO_TEMPLATE_FILES = sorted(DEMO_TEMPLATES_DIR.glob("*.json"))


@pytest.fixture(scope="session")
def demo_key_dir(tmp_path_factory) -> Path:
    # One key pair for the session: RSA generation is the slow part.
    return tmp_path_factory.mktemp("demo")


@pytest.fixture
def demo_settings(demo_key_dir):
    with override_settings(DEMO_DIR=demo_key_dir, ROOT_URLCONF="registrar_site.urls", REGISTRAR_LINK_BUILDER=True):
        yield


def make_zone(name: str, owner, records=(), *, verified=True, active=True) -> Domain:
    domain = Domain.objects.create(name=name, owner=owner, verified=verified, active=active)
    for r in records:
        Record.objects.create(domain=domain, name=r.name, type=r.type, ttl=r.ttl, data=r.data)
    return domain


def store_demo_templates() -> None:
    """Demo templates as rows of the app's Template model (what the import command stores)."""
    from django_domainconnect.models import Template

    for path in DEMO_TEMPLATE_FILES:
        body = json.loads(path.read_text())
        Template.objects.update_or_create(
            provider_id=body["providerId"], service_id=body["serviceId"],
            defaults={"provider_name": body["providerName"], "service_name": body["serviceName"],
                      "version": body.get("version", 1), "body": body,
                      "record_types": sorted({r["type"] for r in body["records"]})},
        )


# -- the backend adapter ------------------------------------------------------------------------------------


class TestRegistrarBackendContract(BackendContract):
    def make_backend(self):
        return RegistrarBackend()

    def create_zone(self, backend, domain, records, owner):
        make_zone(domain, owner, records)
        return backend.get_zone(domain)


@pytest.mark.django_db
class TestRegistrarBackend:
    @pytest.fixture
    def owner(self):
        return get_user_model().objects.create_user("owner", password="x")

    @pytest.fixture
    def seeded(self, owner):
        domain = make_zone("example.com", owner, [DCRecord(*r) for r in zone_records("example.com")])
        return RegistrarBackend(), domain

    def test_soa_is_hidden_and_bumped(self, seeded):
        backend, domain = seeded
        zone = backend.get_zone("example.com")
        assert all(r.type != "SOA" for r in backend.list_records(zone))
        before = domain.records.get(type="SOA").data.split()[2]
        backend.apply_changes(zone, [], [DCRecord("new.example.com.", "A", 300, "192.0.2.7")])
        after = domain.records.get(type="SOA").data.split()[2]
        assert int(after) > int(before)

    def test_soa_cannot_be_written_and_nothing_changes(self, seeded):
        backend, domain = seeded
        zone = backend.get_zone("example.com")
        before = sorted(domain.records.values_list("name", "type", "data"))
        soa = DCRecord("example.com.", "SOA", 3600, "a. b. 1 2 3 4 5")
        with pytest.raises(BackendError):
            backend.apply_changes(zone, [], [DCRecord("x.example.com.", "A", 300, "192.0.2.1"), soa])
        with pytest.raises(BackendError, match="outside the zone"):
            backend.apply_changes(zone, [], [DCRecord("example.net.", "A", 300, "192.0.2.1")])
        assert sorted(domain.records.values_list("name", "type", "data")) == before

    def test_scoped_read_is_one_query_whatever_the_zone_size(self, seeded, django_assert_num_queries):
        backend, domain = seeded
        zone = backend.get_zone("example.com")
        Record.objects.bulk_create(
            Record(domain=domain, name=f"h{i}.example.com.", rname=reverse_labels(f"h{i}.example.com."),
                   type="A", ttl=300, data="192.0.2.1")
            for i in range(200)
        )
        scope = NameScope(names=frozenset({"www.example.com.", "example.com."}),
                          subtrees=frozenset({"mail.example.com."}))
        with django_assert_num_queries(1):
            listed = backend.list_records(zone, scope)
        assert {r.name for r in listed} == {"www.example.com.", "example.com.", "mail.example.com."}

    def test_subtree_does_not_match_sibling_suffix(self, seeded):
        backend, domain = seeded
        Record.objects.create(domain=domain, name="xmail.example.com.", type="A", ttl=300, data="192.0.2.2")
        Record.objects.create(domain=domain, name="a.mail.example.com.", type="A", ttl=300, data="192.0.2.3")
        zone = backend.get_zone("example.com")
        listed = backend.list_records(zone, NameScope(subtrees=frozenset({"mail.example.com."})))
        assert {r.name for r in listed} == {"mail.example.com.", "a.mail.example.com."}

    def test_user_can_manage_needs_owner_active_and_verified(self, owner):
        backend = RegistrarBackend()
        stranger = get_user_model().objects.create_user("stranger", password="x")
        make_zone("ok.example", owner)
        make_zone("unverified.example", owner, verified=False)
        make_zone("inactive.example", owner, active=False)
        assert backend.user_can_manage(owner, backend.get_zone("ok.example"))
        assert not backend.user_can_manage(stranger, backend.get_zone("ok.example"))
        assert not backend.user_can_manage(AnonymousUser(), backend.get_zone("ok.example"))
        assert not backend.user_can_manage(owner, backend.get_zone("unverified.example"))
        assert not backend.user_can_manage(owner, backend.get_zone("inactive.example"))
        assert [z.domain for z in backend.list_zones()] == ["ok.example", "unverified.example"]

    def test_nameservers_from_apex_ns(self, seeded):
        backend, _ = seeded
        assert backend.nameservers(backend.get_zone("example.com")) == ["ns1.registrar.example",
                                                                         "ns2.registrar.example"]


@pytest.mark.django_db
def test_domain_names_are_stored_as_alabels_and_records_must_be_inside():
    from django.core.exceptions import ValidationError

    owner = get_user_model().objects.create_user("idn", password="x")
    domain = Domain.objects.create(name="Bücher.Example", owner=owner, verified=True)
    assert domain.name == "xn--bcher-kva.example"
    assert RegistrarBackend().get_zone("xn--bcher-kva.example").key == domain.pk
    with pytest.raises(ValidationError):
        Domain(name="bad_label..example", owner=owner).full_clean()
    with pytest.raises(ValidationError):
        Record(domain=domain, name="www.example.com.", type="A", ttl=300, data="192.0.2.1").full_clean()
    record = Record(domain=domain, name="WWW.xn--bcher-kva.example", type="A", ttl=300, data="192.0.2.1")
    record.full_clean()
    assert record.name == "www.xn--bcher-kva.example."


def test_bump_soa_serial():
    import datetime

    day = datetime.date(2026, 11, 26)
    assert bump_soa_serial("ns. host. 2026010100 1 2 3 4", day).split()[2] == "2026112600"
    assert bump_soa_serial("ns. host. 2026112600 1 2 3 4", day).split()[2] == "2026112601"
    with pytest.raises(BackendError):
        bump_soa_serial("garbage", day)


# -- seed_demo ----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_seed_demo_is_idempotent(demo_settings):
    call_command("seed_demo", stdout=open(os.devnull, "w"), stderr=open(os.devnull, "w"))
    first = sorted(Record.objects.values_list("domain__name", "name", "type", "ttl", "data"))
    users = get_user_model().objects.count()
    call_command("seed_demo", stdout=open(os.devnull, "w"), stderr=open(os.devnull, "w"))
    assert sorted(Record.objects.values_list("domain__name", "name", "type", "ttl", "data")) == first
    assert get_user_model().objects.count() == users == 3

    demo = get_user_model().objects.get(username="demo")
    assert demo.check_password("demo")
    assert get_user_model().objects.get(username="admin").is_superuser
    assert sorted(Domain.objects.filter(owner=demo, verified=True).values_list("name", flat=True)) == [
        "example.com", "example.net"]
    assert Domain.objects.get(name="other.example").owner.username == "other"
    types = sorted(Record.objects.filter(domain__name="example.com").values_list("type", flat=True))
    assert types == ["A", "A", "CNAME", "MX", "MX", "NS", "NS", "SOA", "TXT", "TXT"]
    if "domainconnect_import_templates" in get_commands():
        from django_domainconnect.models import Template

        assert Template.objects.filter(provider_id="demoservice.example").count() == len(DEMO_TEMPLATE_FILES)


@pytest.mark.django_db
def test_seed_demo_keeps_changed_records_unless_reset(demo_settings):
    call_command("seed_demo", stdout=open(os.devnull, "w"), stderr=open(os.devnull, "w"))
    domain = Domain.objects.get(name="example.com")
    Record.objects.create(domain=domain, name="added.example.com.", type="A", ttl=300, data="192.0.2.9")
    call_command("seed_demo", stdout=open(os.devnull, "w"), stderr=open(os.devnull, "w"))
    assert domain.records.filter(name="added.example.com.").exists()
    call_command("seed_demo", "--reset-records", stdout=open(os.devnull, "w"), stderr=open(os.devnull, "w"))
    assert not domain.records.filter(name="added.example.com.").exists()


# -- demo templates -----------------------------------------------------------------------------------------


def test_demo_templates_cover_the_features_and_lint_clean():
    from django_domainconnect.engine.lint import lint_template

    templates = {p.name: parse_template(p.read_text(), path=str(p)) for p in DEMO_TEMPLATE_FILES}
    for name, template in templates.items():
        errors = [f for f in lint_template(template, path=name) if f.level == "error"]
        assert errors == [], name
    by_service = {t.service_id: t for t in templates.values()}
    assert {"A", "AAAA", "CNAME"} <= by_service["hosting"].record_types
    assert {"MX", "SPFM"} <= by_service["mail"].record_types
    assert by_service["verify"].records[0].txt_conflict_matching_mode == "Prefix"
    assert by_service["site"].multi_instance
    assert by_service["suite"].group_ids == {"web", "mail", "verify"}
    assert by_service["signed"].sync_pub_key_domain == "demoservice.example.org"


def test_template_variables_are_detected_in_order_without_builtins():
    template = parse_template((DEMO_TEMPLATES_DIR / "demoservice.example.hosting.json").read_text())
    assert template_variables(template) == ("ip4", "ip6")
    signed = parse_template((DEMO_TEMPLATES_DIR / "demoservice.example.signed.json").read_text())
    assert template_variables(signed) == ("cdnid", "token")


# -- the link builder ---------------------------------------------------------------------------------------


def test_apply_link_is_sorted_and_rfc3986_encoded():
    template = parse_template((DEMO_TEMPLATES_DIR / "demoservice.example.verify.json").read_text())
    link = build_apply_link(template, {"token": "a b+c/~", "domain": "example.com", "state": "x&y=z"},
                            sync_ux_url="https://dns.example.net/")
    assert link == ("https://dns.example.net/v2/domainTemplates/providers/demoservice.example/services/verify/apply"
                    "?domain=example.com&state=x%26y%3Dz&token=a%20b%2Bc%2F~")


def test_signed_link_verifies_with_the_demo_key_and_tampering_fails(demo_settings):
    template = parse_template((DEMO_TEMPLATES_DIR / "demoservice.example.signed.json").read_text())
    with pytest.raises(ValueError, match="signed"):
        build_apply_link(template, {"domain": "example.com"}, sync_ux_url="https://dns.example.net")
    link = build_apply_link(template, {"domain": "example.com", "host": "cdn", "cdnid": "s1", "token": "t+1"},
                            sync_ux_url="https://dns.example.net", private_key=private_key_pem())
    query = urlsplit(link).query
    assert dict(parse_qsl(query))["key"] == DEMO_KEY_LABEL
    key = parse_key_records(public_key_records())

    def fetch(label, domain):
        assert (label, domain) == (DEMO_KEY_LABEL, "demoservice.example.org")
        return key

    verify_signed_query(query, template.sync_pub_key_domain, fetch)
    with pytest.raises(SignatureError):
        verify_signed_query(query.replace("cdnid=s1", "cdnid=s2"), template.sync_pub_key_domain, fetch)
    with pytest.raises(SignatureError):
        verify_signed_query(query + "&host=evil", template.sync_pub_key_domain, fetch)
    assert split_signed_query(query)[0] == "cdnid=s1&domain=example.com&host=cdn&token=t%2B1"


@pytest.mark.django_db
def test_builder_page_builds_a_signed_link(client, demo_settings):
    store_demo_templates()
    page = client.get("/builder/", {"template": "demoservice.example/signed"})
    assert page.status_code == 200
    assert b"%cdnid%" in page.content and b"%token%" in page.content
    page = client.get("/builder/", {"template": "demoservice.example/signed", "build": "1", "domain": "example.com",
                                    "host": "cdn", "var_cdnid": "s1", "var_token": "tok", "state": "st"})
    assert page.status_code == 200
    link = page.context["link"]
    assert link.startswith("http")
    assert "/v2/domainTemplates/providers/demoservice.example/services/signed/apply?" in link
    query = urlsplit(link).query
    verify_signed_query(query, "demoservice.example.org", lambda *a: parse_key_records(public_key_records()))
    assert f'href="{link}"'.replace("&", "&amp;").encode() in page.content


@pytest.mark.django_db
def test_builder_rejects_bad_input_and_can_be_switched_off(client, demo_settings):
    store_demo_templates()
    page = client.get("/builder/", {"template": "demoservice.example/verify", "build": "1", "domain": "",
                                    "redirect_uri": "javascript:alert(1)"})
    assert page.status_code == 200
    assert page.context["link"] is None
    assert set(page.context["form"].errors) == {"domain", "redirect_uri"}
    with override_settings(REGISTRAR_LINK_BUILDER=False):
        assert client.get("/builder/").status_code == 404


def test_builder_return_page_escapes_what_it_shows(client, demo_settings):
    page = client.get("/builder/return/", {"state": "<script>x</script>", "error": "access_denied"})
    assert page.status_code == 200
    assert b"<script>x</script>" not in page.content
    assert b"&lt;script&gt;x&lt;/script&gt;" in page.content
    with override_settings(REGISTRAR_LINK_BUILDER=False):
        assert client.get("/builder/return/").status_code == 404


def test_default_redirect_is_this_sites_return_page_for_signed_templates_only():
    from registrar.builder import default_redirect_uri

    signed = parse_template((DEMO_TEMPLATES_DIR / "demoservice.example.signed.json").read_text())
    unsigned = parse_template((DEMO_TEMPLATES_DIR / "demoservice.example.mail.json").read_text())
    with override_settings(DOMAINCONNECT={"PROVIDER_ID": "r.example", "BASE_URL": "http://127.0.0.1:8765/"}):
        # A signed link may not redirect to an IP literal: the loopback address is spelled localhost.
        assert default_redirect_uri(signed) == "http://localhost:8765/builder/return/"
        assert default_redirect_uri(unsigned) == ""
    with override_settings(DOMAINCONNECT={"PROVIDER_ID": "r.example", "BASE_URL": "https://dns.registrar.example"}):
        assert default_redirect_uri(signed) == "https://dns.registrar.example/builder/return/"


# -- the panel ----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_panel_shows_only_the_users_zones(client, demo_settings):
    call_command("seed_demo", stdout=open(os.devnull, "w"), stderr=open(os.devnull, "w"))
    assert client.get("/domains/").status_code == 302  # login first
    assert client.login(username="demo", password="demo")
    page = client.get("/domains/")
    assert b"example.com" in page.content and b"other.example" not in page.content
    zone = client.get("/domains/example.com/")
    assert zone.status_code == 200
    assert b"mail.example.com." in zone.content
    assert client.get("/domains/other.example/").status_code == 404
    assert client.get("/domains/nonexistent.example/").status_code == 404
    assert b'href="/domainconnect/connected/example.com/"' in zone.content


def test_consent_pages_carry_the_registrars_brand():
    from django.template.loader import render_to_string

    templates = [{"BACKEND": "django.template.backends.django.DjangoTemplates",
                  "DIRS": [EXAMPLE / "registrar" / "templates"], "APP_DIRS": True}]
    with override_settings(TEMPLATES=templates):
        html = render_to_string("django_domainconnect/base.html", {"registrar_name": "Acme Domains"})
    assert 'class="rg-brand"' in html and "Acme Domains" in html
    assert "dc-main" in html  # still the app's page structure around the brand


INLINE_STYLE = re.compile(rb"<style|\sstyle\s*=|<script(?![^>]*\ssrc=)", re.IGNORECASE)
EXAMPLE_TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates",
                      "DIRS": [EXAMPLE / "registrar" / "templates"], "APP_DIRS": True,
                      "OPTIONS": {"context_processors": ["django.template.context_processors.request",
                                                         "django.contrib.auth.context_processors.auth",
                                                         "django.contrib.messages.context_processors.messages",
                                                         "registrar.context_processors.registrar"]}}]


@pytest.mark.django_db
def test_branded_consent_page_has_no_inline_styles_and_links_the_registrar_css(client, demo_settings):
    """The app's CSP (style-src 'self', no 'unsafe-inline') would drop an inline <style>: branding is a file."""
    from django.conf import settings
    from django.contrib.staticfiles import finders

    call_command("seed_demo", stdout=open(os.devnull, "w"), stderr=open(os.devnull, "w"))
    client.login(username="demo", password="demo")
    with override_settings(TEMPLATES=EXAMPLE_TEMPLATES, DOMAINCONNECT={
            **settings.DOMAINCONNECT, "BACKEND": "registrar.dc_backend.RegistrarBackend"}):
        page = client.get("/v2/domainTemplates/providers/demoservice.example/services/hosting/apply"
                          "?domain=example.com&ip4=192.0.2.7&ip6=2001:db8::7")
    assert page.status_code == 200, page.content.decode()[-1500:]
    assert b'class="rg-brand"' in page.content and b'name="nonce"' in page.content  # branded consent page
    assert "style-src 'self'" in page["Content-Security-Policy"]
    assert not INLINE_STYLE.search(page.content), INLINE_STYLE.search(page.content)
    assert b'<link rel="stylesheet" href="/static/registrar/consent.css">' in page.content
    css = Path(finders.find("registrar/consent.css")).read_text()
    assert ".rg-brand" in css and ".dc-header" in css


@pytest.mark.django_db
def test_panel_pages_have_no_inline_styles(client, demo_settings):
    # The registrar's own CSP (registrar.middleware) has no 'unsafe-inline' either.
    call_command("seed_demo", stdout=open(os.devnull, "w"), stderr=open(os.devnull, "w"))
    with override_settings(TEMPLATES=EXAMPLE_TEMPLATES):
        login = client.get("/accounts/login/")
        client.login(username="demo", password="demo")
        pages = [login, client.get("/domains/"), client.get("/domains/example.com/"), client.get("/builder/")]
    for page in pages:
        assert page.status_code == 200
        assert not INLINE_STYLE.search(page.content), INLINE_STYLE.search(page.content)
        assert b'<link rel="stylesheet" href="/static/registrar/panel.css">' in page.content


@pytest.mark.django_db
def test_site_csp_forbids_framing_the_login_page_and_leaves_the_apps_policy_alone(client, demo_settings):
    from django.conf import settings

    from django_domainconnect.views.security import CONTENT_SECURITY_POLICY as APP_CSP
    from registrar.middleware import CONTENT_SECURITY_POLICY
    from registrar_site import settings as site_settings

    assert "registrar.middleware.ContentSecurityPolicyMiddleware" in site_settings.MIDDLEWARE
    call_command("seed_demo", stdout=open(os.devnull, "w"), stderr=open(os.devnull, "w"))
    with override_settings(MIDDLEWARE=site_settings.MIDDLEWARE, TEMPLATES=EXAMPLE_TEMPLATES, DOMAINCONNECT={
            **settings.DOMAINCONNECT, "BACKEND": "registrar.dc_backend.RegistrarBackend"}):
        login = client.get("/accounts/login/")
        missing = client.get("/domains/")  # a redirect to the login page gets it too
        client.login(username="demo", password="demo")
        consent = client.get("/v2/domainTemplates/providers/demoservice.example/services/hosting/apply"
                             "?domain=example.com&ip4=192.0.2.7&ip6=2001:db8::7")
    assert login.status_code == 200 and missing.status_code == 302
    for response in (login, missing):
        csp = response["Content-Security-Policy"]
        assert csp == CONTENT_SECURITY_POLICY
        assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp and "unsafe-inline" not in csp
    assert login["X-Frame-Options"] == "DENY"
    assert consent.status_code == 200 and consent["Content-Security-Policy"] == APP_CSP  # not overwritten


# -- the whole sync flow on the registrar's own zones -------------------------------------------------------


@pytest.mark.django_db
def test_signed_demo_link_applies_to_the_registrars_zone(client, demo_key_dir):
    """Builder link → key from a loopback DNS server → consent → approve → rows in registrar.models."""
    from django.conf import settings

    from django_domainconnect.testing.dnsserver import LoopbackDNSServer

    with override_settings(DEMO_DIR=demo_key_dir, ROOT_URLCONF="registrar_site.urls"):
        call_command("seed_demo", stdout=open(os.devnull, "w"), stderr=open(os.devnull, "w"))
        assert Domain.objects.filter(name="example.com").exists()
        with LoopbackDNSServer(demo_dns_records()) as ns, override_settings(DOMAINCONNECT={
            **settings.DOMAINCONNECT, "BACKEND": "registrar.dc_backend.RegistrarBackend",
            "DNS_NAMESERVERS": [ns.nameserver], "KEY_CACHE_TIMEOUT": 0,
        }):
            template = parse_template((DEMO_TEMPLATES_DIR / "demoservice.example.signed.json").read_text())
            back = "https://dns.example.net/builder/return/"
            link = build_apply_link(template, {"domain": "example.com", "host": "cdn", "cdnid": "s9", "token": "t9",
                                               "redirect_uri": back, "state": "s&t"},
                                    sync_ux_url="", private_key=private_key_pem())
            client.login(username="demo", password="demo")
            consent = client.get(link)
            assert consent.status_code == 200, consent.content.decode()[-1500:]
            assert any(q[0] == f"{DEMO_KEY_LABEL}.demoservice.example.org." for q in ns.queries)
            nonce = re.search(rb'name="nonce" value="([^"]+)"', consent.content).group(1).decode()
            done = client.post("/domainconnect/consent", {"nonce": nonce, "action": "approve"})
            # Signed: back to the Service Provider's page (any https host), state echoed, no error.
            assert done.status_code in (302, 303)
            assert done["Location"].startswith(back + "?")
            assert dict(parse_qsl(urlsplit(done["Location"]).query)) == {"state": "s&t"}
    written = set(Record.objects.filter(domain__name="example.com").values_list("name", "type", "data"))
    assert ("cdn.example.com.", "CNAME", "s9.cdn.demoservice.example.org.") in written
    assert ("_cdn-verify.cdn.example.com.", "TXT", '"t9"') in written
    soa = Record.objects.get(domain__name="example.com", type="SOA").data.split()[2]
    assert int(soa) > 2026010100


# -- demo DNS -----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_demo_dns_records_publish_key_and_discovery(demo_settings):
    owner = get_user_model().objects.create_user("o", password="x")
    make_zone("example.com", owner)
    make_zone("gone.example", owner, active=False)
    records = demo_dns_records()
    assert sync_pub_key_domains() == ["demoservice.example.org"]
    assert records[f"{DEMO_KEY_LABEL}.demoservice.example.org"]["TXT"] == public_key_records()
    assert records["_domainconnect.example.com"]["TXT"] == ["dns.example.net"]
    assert "_domainconnect.gone.example" not in records


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _manage(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=EXAMPLE, env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture
def example_env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DOMAINCONNECT_", "DATABASE_"))}
    env.update(DJANGO_SETTINGS_MODULE="registrar_site.settings", DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
               REGISTRAR_DEMO_DIR=str(tmp_path / "demo"), PYTHONUNBUFFERED="1")
    return env


@pytest.mark.slow
def test_rundemo_serves_the_demo_key_over_dns_and_the_site(example_env, tmp_path):
    port = _free_port()
    env = {**example_env, "PORT": str(port)}
    for args in (["migrate", "--noinput"], ["seed_demo"]):
        done = _manage(*args, env=env)
        assert done.returncode == 0, done.stderr
    proc = subprocess.Popen([sys.executable, "manage.py", "rundemo", f"127.0.0.1:{port}", "--noreload"], cwd=EXAMPLE,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output = ""
        nameserver = None
        deadline = time.monotonic() + 60
        while nameserver is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            output += line
            match = re.search(r"DNS server:\s+127\.0\.0\.1:(\d+)", line)
            if match:
                nameserver = int(match.group(1))
        assert nameserver, output

        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = ["127.0.0.1"]
        resolver.port = nameserver
        resolver.lifetime = 5
        answer = resolver.resolve(f"{DEMO_KEY_LABEL}.demoservice.example.org", "TXT")
        published = sorted(b"".join(r.strings).decode() for r in answer)
        key_pem = (tmp_path / "demo" / "demo-signing-key.pem").read_bytes()
        from django_domainconnect.engine.signatures import public_key_txt_records

        assert published == sorted(public_key_txt_records(key_pem))
        discovery = resolver.resolve("_domainconnect.example.com", "TXT")
        assert [b"".join(r.strings).decode() for r in discovery] == [f"127.0.0.1:{port}"]

        base = f"http://127.0.0.1:{port}"
        for _ in range(50):
            try:
                with urllib.request.urlopen(f"{base}/accounts/login/", timeout=5) as resp:  # noqa: S310
                    assert resp.status == 200
                    assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
                    break
            except OSError:
                time.sleep(0.1)
        with urllib.request.urlopen(f"{base}/builder/", timeout=5) as resp:  # noqa: S310
            assert b"demoservice.example" in resp.read() or "domainconnect_import_templates" not in get_commands()
        # The branding is a static file now (the CSP forbids inline styles): the demo must serve it.
        for css, marker in (("registrar/consent.css", b".rg-brand"), ("registrar/panel.css", b".rg-header"),
                            ("django_domainconnect/consent.css", b".dc-main")):
            with urllib.request.urlopen(f"{base}/static/{css}", timeout=5) as resp:  # noqa: S310
                assert resp.headers["Content-Type"].startswith("text/css") and marker in resp.read()
    finally:
        proc.terminate()
        proc.wait(10)


def test_production_settings_pass_check_deploy(example_env):
    env = {**example_env, "DJANGO_SETTINGS_MODULE": "registrar_site.settings_production",
           "DJANGO_SECRET_KEY": "x7#kP2!vQ9@mZ4$wL8^rT1&nB6*yC3(hD5)jF0-gS2+aE7=uV9~oI4",
           "DJANGO_ALLOWED_HOSTS": "dns.registrar.example", "DOMAINCONNECT_BASE_URL": "https://dns.registrar.example"}
    done = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout


CONCURRENT_APPLIES = """
import json, threading
from django.contrib.auth import get_user_model
from django.db import connection
from django_domainconnect import services
from django_domainconnect.models import AppliedTemplate

user = get_user_model().objects.get(username="demo")
template = services.find_template("demoservice.example", "hosting")
start, done, results = threading.Barrier(THREADS), threading.Lock(), []

def worker(t):
    start.wait()
    try:
        for i in range(APPLIES):
            try:
                services.apply(user=user, domain="example.com", host=f"t{t}-{i}", template=template,
                               params={"ip4": f"192.0.2.{t}", "ip6": "2001:db8::1"}, flow="async")
                outcome = "ok"
            except Exception as exc:
                outcome = f"{type(exc).__name__}: {exc} ({exc.__cause__!r})"
            with done:
                results.append(outcome)
    finally:
        connection.close()

threads = [threading.Thread(target=worker, args=(t,)) for t in range(THREADS)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(json.dumps({"results": results, "instances": AppliedTemplate.objects.filter(service_id="hosting").count()}))
"""


@pytest.mark.slow
def test_concurrent_applies_on_the_demo_sqlite_file_all_succeed(example_env):
    # SQLite allows one writer: with deferred transactions, two applies that both read first and then
    # write fail at once with "database is locked" (503). IMMEDIATE transactions plus a timeout queue them.
    threads, applies = 4, 5
    for args in (["migrate", "--noinput"], ["seed_demo"]):
        done = _manage(*args, env=example_env)
        assert done.returncode == 0, done.stderr
    script = CONCURRENT_APPLIES.replace("THREADS", str(threads)).replace("APPLIES", str(applies))
    done = _manage("shell", "-c", script, env=example_env)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    failures = [r for r in report["results"] if r != "ok"]
    assert not failures, failures[:3]
    assert len(report["results"]) == threads * applies and report["instances"] == threads * applies


def test_collectstatic_gathers_the_branding_for_production(example_env, tmp_path):
    # Production (DEBUG off) serves nothing from /static/: the web server serves what collectstatic gathers.
    env = {**example_env, "DJANGO_STATIC_ROOT": str(tmp_path / "static")}
    done = _manage("collectstatic", "--noinput", env=env)
    assert done.returncode == 0, done.stderr
    for css in ("registrar/consent.css", "registrar/panel.css", "django_domainconnect/consent.css"):
        assert (tmp_path / "static" / css).is_file(), css


def test_production_settings_refuse_missing_secret(example_env):
    env = {**example_env, "DJANGO_SETTINGS_MODULE": "registrar_site.settings_production",
           "DJANGO_ALLOWED_HOSTS": "dns.registrar.example", "DOMAINCONNECT_BASE_URL": "https://dns.registrar.example"}
    done = _manage("check", env=env)
    assert done.returncode != 0
    assert "DJANGO_SECRET_KEY" in done.stderr
