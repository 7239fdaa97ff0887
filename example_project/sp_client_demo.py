"""The asynchronous Domain Connect flow as a Service Provider runs it, with the ``domain-connect`` client.

Start the demo over HTTPS first (``make demo-https`` or ``manage.py rundemo 127.0.0.1:8443 --https``), then

    python sp_client_demo.py --dns-port <the DNS port rundemo printed>

The script discovers the DNS Provider of ``example.com`` through the demo's loopback DNS server, checks the
template, prints the consent URL (open it, log in as demo/demo, click Allow, then paste back the address
your browser was sent to: it holds the ``code``), exchanges the code for tokens, applies the
``demoservice.example``/``hosting`` template (409 first: the zone has its own A record; then forced),
refreshes the token and re-applies with a new address. It needs only ``pip install domain-connect``.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from domainconnect import (
    ConflictOnApplyException,
    DomainConnect,
    DomainConnectAsyncCredentials,
    NetworkContext,
)

# The demo Service Provider as `manage.py seed_demo` registers it (a published demo secret).
PROVIDER_ID = "demoservice.example"
CLIENT_SECRET = "demoservice-demo-secret"
REDIRECT_URI = "https://demoservice.example.org/oauth/callback"


@dataclass
class Outcome:
    """What happened, for the reader of the output and for tests."""

    api_url: str = ""
    consent_url: str = ""
    conflict_first: bool = False
    applied: list[dict[str, str]] = field(default_factory=list)
    refreshed: bool = False


def code_from_redirect(pasted: str, state: str) -> str:
    """The ``code`` from the URL the browser was sent to (or a bare code); refuses a wrong ``state``."""
    pasted = pasted.strip()
    if "://" not in pasted and "=" not in pasted:
        return pasted  # the user pasted only the code
    query = parse_qs(urlsplit(pasted).query or pasted, keep_blank_values=True)
    if "error" in query:
        raise SystemExit(f"the DNS Provider answered error={query['error'][0]}: nothing was authorised")
    if query.get("state", [""])[0] != state:
        # Another flow's answer (or a forged one): a real Service Provider refuses it the same way.
        raise SystemExit("the state in that URL is not this flow's: refusing it")
    if not query.get("code", [""])[0]:
        raise SystemExit("that URL carries no code")
    return query["code"][0]


def ask_user(consent_url: str) -> str:
    print("\nOpen this URL in your browser, log in as demo/demo and click Allow:\n")
    print(f"    {consent_url}\n")
    print(f"Your browser then goes to {REDIRECT_URI}?code=…&state=… (the page itself will not load).")
    return input("Paste that whole address here: ")


def run(dns_port: int, *, domain: str = "example.com", service: str = "hosting", ip4: str = "198.51.100.7",
        ip6: str = "2001:db8::7", new_ip4: str = "198.51.100.8", nameserver: str = "127.0.0.1",
        secret: str = CLIENT_SECRET, redirect_uri: str = REDIRECT_URI,
        ask: Callable[[str], str] = ask_user, say: Callable[[str], None] = print) -> Outcome:
    outcome = Outcome()
    dc = DomainConnect(NetworkContext(nameservers=nameserver))
    # The library keeps one resolver for the class and has no setting for the port.
    DomainConnect._resolver.port = dns_port

    # 1. Discovery: TXT _domainconnect.<domain>, then GET https://<that>/v2/<domain>/settings.
    config = dc.get_domain_config(domain)
    outcome.api_url = config.urlAPI
    say(f"discovered {config.providerName} for {domain}: urlAPI={config.urlAPI} urlAsyncUX={config.urlAsyncUX}")

    # 2. Template check (raises TemplateNotSupportedException unless the provider answers 200).
    dc.check_template_supported(config, PROVIDER_ID, [service])
    say(f"template {PROVIDER_ID}/{service} is supported")

    # 3. Consent: the user approves in a browser; the code comes back on the redirect URI.
    state = secrets.token_urlsafe(16)
    context = dc.get_domain_connect_template_async_context(domain, PROVIDER_ID, service, redirect_uri,
                                                           state=state)
    outcome.consent_url = context.asyncConsentUrl
    context.code = code_from_redirect(ask(context.asyncConsentUrl), state)

    # 4. Code → access and refresh tokens (the secret goes only to the urlAPI we registered with).
    credentials = DomainConnectAsyncCredentials(PROVIDER_ID, secret, config.urlAPI)
    context = dc.get_async_token(context, credentials)
    say(f"got an access token for {context.access_token_expires_in} s and a refresh token")

    # 5. Apply. The seeded zone has its own A record at the apex: 409 first, then the user agrees to force.
    params = {"ip4": ip4, "ip6": ip6}
    try:
        dc.apply_domain_connect_template_async(context, params=dict(params))
        say("applied without conflicts (already connected before?)")
    except ConflictOnApplyException as exc:
        outcome.conflict_first = True
        say(f"409: {exc}; applying again with force=true replaces the conflicting records")
        dc.apply_domain_connect_template_async(context, params=dict(params), force=True)
    outcome.applied.append(params)
    say(f"applied {service} to {domain}: A {ip4}, AAAA {ip6}")

    # 6. Later: the access token has expired, so the client refreshes it and re-applies with a new
    # address. Re-applying the same template is an update, never a conflict: no force needed.
    context.iat = int(time.time()) - context.access_token_expires_in  # pretend it expired
    old_token = context.access_token
    context = dc.get_async_token(context, credentials)
    outcome.refreshed = context.access_token != old_token
    params = {"ip4": new_ip4, "ip6": ip6}
    dc.apply_domain_connect_template_async(context, params=dict(params))
    outcome.applied.append(params)
    say(f"refreshed the token and re-applied: A {new_ip4}")
    return outcome


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dns-port", type=int, required=True, help="the DNS port `rundemo --https` printed")
    parser.add_argument("--domain", default="example.com")
    parser.add_argument("--service", default="hosting")
    args = parser.parse_args(argv)
    run(args.dns_port, domain=args.domain, service=args.service)
    return 0


if __name__ == "__main__":
    sys.exit(main())
