"""HTTPS on loopback for tests and the demo: a self-signed certificate and Django's WSGI servers with TLS.

Real Service Provider clients only speak ``https://<_domainconnect value>/…`` (see INTEROP.md), so the
suite and ``manage.py rundemo --https`` need a TLS server without any certificate authority::

    context = self_signed(tmp_dir)                       # throwaway certificate for 127.0.0.1
    thread = TLSLiveServerThread(context, connections_override=…)   # tests: the live server, over TLS

    cert, key = ensure_certificate(demo_dir)             # the demo: made once, reused while valid
    server_cls = tls_server_class(server_context(cert, key))         # for django.core.servers.basehttp.run

Each connection's TLS handshake runs in the thread that serves it (not in the accepting loop), so a client
that stalls or speaks plain HTTP cannot hold up the others. ``wsgi.url_scheme`` is ``https``: Django sees
secure requests, builds https URLs and applies its https CSRF rules. Never use this in production.
"""

from __future__ import annotations

import datetime
import ipaddress
import logging
import os
import socket
import ssl
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIServer
from django.test.testcases import LiveServerThread, _StaticFilesHandler

logger = logging.getLogger(__name__)

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
CERT_FILE = "tls-cert.pem"
KEY_FILE = "tls-key.pem"
# A stalled client must not keep a server thread forever in the middle of a handshake.
HANDSHAKE_TIMEOUT = 10.0
# ensure_certificate() makes a new certificate when the old one has less than this left.
RENEW_BEFORE = datetime.timedelta(days=1)


def _general_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return x509.DNSName(host)


def make_certificate(hosts: Sequence[str] = LOOPBACK_HOSTS, *,
                     valid_for: datetime.timedelta = datetime.timedelta(hours=1)) -> tuple[bytes, bytes]:
    """A self-signed ECDSA P-256 certificate for ``hosts`` (IPs and names): ``(cert_pem, key_pem)``."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))  # tolerate a little clock skew
            .not_valid_after(now + valid_for)
            .add_extension(x509.SubjectAlternativeName([_general_name(h) for h in hosts]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def _write_private(path: Path, data: bytes) -> None:
    # Written beside the target with mode 0600, then renamed: a reader never sees half a key.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def write_certificate(directory: Path, hosts: Sequence[str] = LOOPBACK_HOSTS, *,
                      valid_for: datetime.timedelta = datetime.timedelta(hours=1)) -> tuple[Path, Path]:
    """Make a certificate with :func:`make_certificate` and write it as ``tls-cert.pem``/``tls-key.pem``."""
    directory.mkdir(parents=True, exist_ok=True)
    cert_pem, key_pem = make_certificate(hosts, valid_for=valid_for)
    cert_file, key_file = directory / CERT_FILE, directory / KEY_FILE
    _write_private(key_file, key_pem)
    _write_private(cert_file, cert_pem)
    return cert_file, key_file


def certificate_covers(cert_pem: bytes, hosts: Iterable[str], *, now: datetime.datetime | None = None,
                       renew_before: datetime.timedelta = RENEW_BEFORE) -> bool:
    """Whether the certificate names every host and stays valid for at least ``renew_before``."""
    cert = x509.load_pem_x509_certificate(cert_pem)
    now = now or datetime.datetime.now(datetime.UTC)
    if cert.not_valid_after_utc - renew_before < now:
        return False
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    return all(_general_name(h) in names for h in hosts)


def ensure_certificate(directory: Path, hosts: Sequence[str] = LOOPBACK_HOSTS, *,
                       valid_for: datetime.timedelta = datetime.timedelta(days=365)) -> tuple[Path, Path]:
    """The certificate in ``directory``, made once and reused while it covers ``hosts`` and is valid."""
    cert_file, key_file = directory / CERT_FILE, directory / KEY_FILE
    if cert_file.exists() and key_file.exists():
        try:
            if certificate_covers(cert_file.read_bytes(), hosts):
                return cert_file, key_file
        except ValueError:
            pass  # unreadable: make a new one
    return write_certificate(directory, hosts, valid_for=valid_for)


def server_context(cert_file: Path, key_file: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert_file, key_file)
    return context


def self_signed(directory: Path, hosts: Sequence[str] = ("127.0.0.1",)) -> ssl.SSLContext:
    """A server context with a fresh one-hour certificate for ``hosts``, its files written to ``directory``."""
    return server_context(*write_certificate(directory, hosts))


class TLSServerMixin:
    """Mixed into a ``socketserver`` WSGI server: TLS per connection and ``wsgi.url_scheme = https``."""

    ssl_context: ssl.SSLContext

    def setup_environ(self) -> None:
        super().setup_environ()  # type: ignore[misc]
        self.base_environ["HTTPS"] = "on"  # type: ignore[attr-defined]  # wsgiref derives url_scheme from it

    def finish_request(self, request: Any, client_address: Any) -> None:
        # Called in the serving thread (ThreadingMixIn): the handshake blocks only this connection.
        try:
            request.settimeout(HANDSHAKE_TIMEOUT)
            tls = self.ssl_context.wrap_socket(request, server_side=True)
            tls.settimeout(None)
        except (ssl.SSLError, OSError) as exc:
            logger.info("TLS handshake with %s failed: %s", client_address, exc)
            request.close()
            return
        try:
            super().finish_request(tls, client_address)  # type: ignore[misc]
        finally:
            try:
                tls.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            tls.close()


def tls_server_class(context: ssl.SSLContext, base: type[WSGIServer] = WSGIServer) -> type[WSGIServer]:
    """A subclass of ``base`` (e.g. for ``runserver``'s ``server_cls``) serving TLS with ``context``."""
    return type(f"TLS{base.__name__}", (TLSServerMixin, base), {"ssl_context": context})


class TLSLiveServerThread(LiveServerThread):
    """Django's live-server thread (shares the test database) serving over TLS, static files included."""

    def __init__(self, ssl_context: ssl.SSLContext, *, host: str = "127.0.0.1", **kwargs: Any) -> None:
        super().__init__(host, _StaticFilesHandler, **kwargs)
        self.server_class = tls_server_class(ssl_context, ThreadedWSGIServer)
