"""``manage.py rundemo [ADDR:PORT] [--https]``: the development server plus a loopback DNS server for the demo.

The DNS server publishes the demo Service Provider's public key (so signed apply links verify without
the internet) and ``_domainconnect`` for every active zone; the app's key lookups are pointed at it.

With ``--https`` the site is served over TLS with a self-signed certificate kept in the demo directory,
and ``DOMAINCONNECT["BASE_URL"]`` becomes ``https://ADDR:PORT`` for the run: real Service Provider
clients (the ``domain-connect`` library) only ever call ``https://<_domainconnect value>/…``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.contrib.staticfiles.management.commands.runserver import Command as RunserverCommand
from django.core.management.base import CommandParser
from django.test.utils import override_settings

from django_domainconnect.testing.dnsserver import LoopbackDNSServer
from django_domainconnect.testing.tlsserver import LOOPBACK_HOSTS, ensure_certificate, server_context, tls_server_class
from registrar.demo_dns import demo_dns_records
from registrar.demo_keys import DEMO_KEY_LABEL, demo_dir

WILDCARD_ADDRS = {"0", "0.0.0.0", "::"}  # noqa: S104  (names of "every interface", never a URL host)


class Command(RunserverCommand):
    help = "Run the example registrar with a loopback DNS server serving the demo signing key (--https: over TLS)."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--https", action="store_true",
            help="serve over TLS with a self-signed certificate (made once in the demo directory) and "
                 "advertise https://ADDR:PORT as the Domain Connect base URL")

    def inner_run(self, *args: Any, **options: Any) -> None:
        # inner_run runs in the serving process (the autoreloader's child): the DNS server lives there too.
        self.https = options.get("https", False)
        self.cert_file = None
        if self.https:
            hosts = list(LOOPBACK_HOSTS)
            if self.addr not in WILDCARD_ADDRS and self.addr not in hosts:
                hosts.append(self.addr)
            self.cert_file, key_file = ensure_certificate(demo_dir(), hosts)
            self.protocol = "https"
            self.server_cls = tls_server_class(server_context(self.cert_file, key_file), self.server_cls)
        self.dns_server = LoopbackDNSServer().start()
        # A process-local settings change through override_settings, so dc_settings hears about it:
        # the app's key lookups go to the loopback server from now on.
        override_settings(
            DOMAINCONNECT={**settings.DOMAINCONNECT, "DNS_NAMESERVERS": [self.dns_server.nameserver]},
            SETTINGS_MODULE=settings.SETTINGS_MODULE,  # keeps runserver's banner naming the settings
        ).enable()
        try:
            super().inner_run(*args, **options)
        finally:
            self.dns_server.stop()

    def get_handler(self, *args: Any, **options: Any) -> Any:
        handler = super().get_handler(*args, **options)
        # Over https the consent pages' CSS is served even with DEBUG off (the demo has no web server).
        if self.https and options["use_static_handler"] and not isinstance(handler, StaticFilesHandler):
            handler = StaticFilesHandler(handler)
        return handler

    def on_bind(self, server_port: int) -> None:
        # Called once the socket is bound and before serving: with port 0 this is where the port is known.
        super().on_bind(server_port)
        self.port = str(server_port)
        if self.https:
            self._advertise_https(self.base_url())
        records = demo_dns_records()  # after the base URL is final: _domainconnect carries its host:port
        for name, by_type in records.items():
            for rdtype, values in by_type.items():
                self.dns_server.set(name, rdtype, values)
        self.print_banner(self.dns_server.nameserver, sorted(records))

    def url_host(self) -> str:
        if self.addr in WILDCARD_ADDRS:
            return "[::1]" if self._raw_ipv6 else "127.0.0.1"
        return f"[{self.addr}]" if self._raw_ipv6 else self.addr

    def base_url(self) -> str:
        return f"{self.protocol}://{self.url_host()}:{self.port}"

    def _advertise_https(self, base: str) -> None:
        host = self.url_host()
        allowed = list(settings.ALLOWED_HOSTS)
        if host not in allowed and "*" not in allowed:
            allowed.append(host)
        override_settings(
            DOMAINCONNECT_BASE_URL=base,
            ALLOWED_HOSTS=allowed,
            DOMAINCONNECT={**settings.DOMAINCONNECT, "BASE_URL": base,
                           "CONTROL_PANEL_URL": base + "/domains/%domain%/"},
        ).enable()

    def print_banner(self, nameserver: str, names: list[str]) -> None:
        base = self.base_url()
        lines = [
            "",
            "Example registrar demo",
            f"  log in:        {base}/accounts/login/   (demo/demo, other/other, admin/admin)",
            f"  my domains:    {base}/domains/",
            f"  link builder:  {base}/builder/",
            f"  admin:         {base}/admin/",
            f"  DNS server:    {nameserver} (UDP+TCP), serving TXT at:",
            *(f"                   {name}" for name in names),
            f"  demo key:      {demo_dir()} (key label {DEMO_KEY_LABEL})",
        ]
        if self.https:
            port = nameserver.rpartition(":")[2]
            lines += [
                f"  certificate:   {self.cert_file} (self-signed; your browser will warn once)",
                "  SP client:     DomainConnect(NetworkContext(nameservers=\"127.0.0.1\")) and then",
                f"                 DomainConnect._resolver.port = {port}",
                f"                 or: python sp_client_demo.py --dns-port {port}",
            ]
        lines.append("")
        self.stdout.write("\n".join(lines))
        self.stdout.flush()
