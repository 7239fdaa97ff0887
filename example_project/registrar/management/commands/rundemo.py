"""``manage.py rundemo [ADDR:PORT]``: the development server plus a loopback DNS server for the demo.

The DNS server publishes the demo Service Provider's public key (so signed apply links verify without
the internet) and ``_domainconnect`` for every active zone; the app's key lookups are pointed at it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.staticfiles.management.commands.runserver import Command as RunserverCommand
from django.test.utils import override_settings

from django_domainconnect.testing.dnsserver import LoopbackDNSServer
from registrar.demo_dns import demo_dns_records
from registrar.demo_keys import DEMO_KEY_LABEL, demo_dir


class Command(RunserverCommand):
    help = "Run the example registrar with a loopback DNS server serving the demo signing key."

    def inner_run(self, *args: Any, **options: Any) -> None:
        # inner_run runs in the serving process (the autoreloader's child): the DNS server lives there too.
        records = demo_dns_records()
        dns_server = LoopbackDNSServer(records).start()
        # A process-local settings change through override_settings, so dc_settings hears about it:
        # the app's key lookups go to the loopback server from now on.
        override_settings(
            DOMAINCONNECT={**settings.DOMAINCONNECT, "DNS_NAMESERVERS": [dns_server.nameserver]},
            SETTINGS_MODULE=settings.SETTINGS_MODULE,  # keeps runserver's banner naming the settings
        ).enable()
        self.print_banner(dns_server.nameserver, sorted(records))
        try:
            super().inner_run(*args, **options)
        finally:
            dns_server.stop()

    def print_banner(self, nameserver: str, names: list[str]) -> None:
        host = f"[{self.addr}]" if self._raw_ipv6 else self.addr
        base = f"{self.protocol}://{host}:{self.port}"
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
            "",
        ]
        self.stdout.write("\n".join(lines))
        self.stdout.flush()
