"""A small authoritative DNS server on 127.0.0.1 for tests and the demo (UDP and TCP, one port).

Records live in a dict that can be changed while the server runs::

    with LoopbackDNSServer({"_dck1.keys.example.com": {"TXT": ["p=1,a=RS256,d=…", "p=2,a=RS256,d=…"]}}) as ns:
        ns.set("_domainconnect.example.org", "TXT", ["dns.example.net"])
        ...  # point DOMAINCONNECT["DNS_NAMESERVERS"] at ns.nameserver ("127.0.0.1:<port>")

A TXT rdata is a ``str`` (one character-string) or a sequence of ``str``/``bytes`` (several strings in
one record); other types take presentation format (``"192.0.2.1"``). Unknown names get NXDOMAIN, names
in ``servfail`` get SERVFAIL, names in ``silent`` get no answer at all. UDP answers over 512 octets are
sent truncated (TC bit) so clients retry over TCP, as real resolvers do for large key records.
"""

from __future__ import annotations

import socket
import socketserver
import struct
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset

UDP_LIMIT = 512  # classic DNS without EDNS (dnspython's resolver sends no EDNS by default)

RData = str | bytes | Sequence[str | bytes]
Zone = Mapping[str, Mapping[str, Iterable[RData]]]


def _name(text: str) -> dns.name.Name:
    return dns.name.from_text(text.rstrip(".") + ".")


def _rdata(rdtype: str, value: RData) -> dns.rdata.Rdata:
    if rdtype.upper() == "TXT":
        strings = [value] if isinstance(value, (str, bytes)) else list(value)
        encoded = [s.encode("utf-8") if isinstance(s, str) else bytes(s) for s in strings]
        return _txt_from_strings(encoded)
    return dns.rdata.from_text(dns.rdataclass.IN, rdtype, str(value))


def _txt_from_strings(strings: list[bytes]) -> dns.rdata.Rdata:
    # Built from wire format: keeps the strings exactly as given and enforces 255 octets per string.
    if any(len(s) > 255 for s in strings):
        raise ValueError("a TXT character-string is longer than 255 octets; split it into several")
    wire = b"".join(bytes([len(s)]) + s for s in strings)
    return dns.rdata.from_wire(dns.rdataclass.IN, dns.rdatatype.TXT, wire, 0, len(wire))


class LoopbackDNSServer:
    """Authoritative answers for a dict of records on ``127.0.0.1:<ephemeral port>`` (UDP + TCP)."""

    def __init__(self, records: Zone | None = None, *, ttl: int = 300, host: str = "127.0.0.1",
                 udp_limit: int = UDP_LIMIT) -> None:
        self.host = host
        self.ttl = ttl
        self.udp_limit = udp_limit
        self.port = 0
        self.servfail: set[str] = set()
        self.silent: set[str] = set()
        self.queries: list[tuple[str, str, str]] = []  # (name, type, "udp"|"tcp"), for assertions
        self._lock = threading.Lock()
        self._rrsets: dict[tuple[dns.name.Name, int], dns.rrset.RRset] = {}
        self._servers: list[socketserver.BaseServer] = []
        self._threads: list[threading.Thread] = []
        for name, by_type in (records or {}).items():
            for rdtype, values in by_type.items():
                self.set(name, rdtype, values)

    # -- records -------------------------------------------------------------------------------------

    def set(self, name: str, rdtype: str, values: Iterable[RData], *, ttl: int | None = None) -> None:
        """Replace the RRset ``name``/``rdtype`` (an empty ``values`` removes it)."""
        owner, code = _name(name), dns.rdatatype.from_text(rdtype.upper())
        rdatas = [_rdata(rdtype, v) for v in values]
        with self._lock:
            if not rdatas:
                self._rrsets.pop((owner, code), None)
                return
            rrset = dns.rrset.RRset(owner, dns.rdataclass.IN, code)
            rrset.update_ttl(self.ttl if ttl is None else ttl)
            for rd in rdatas:
                rrset.add(rd)
            self._rrsets[(owner, code)] = rrset

    def set_txt(self, name: str, *records: RData, ttl: int | None = None) -> None:
        """``set(name, "TXT", records)``: each argument is one TXT record."""
        self.set(name, "TXT", records, ttl=ttl)

    def remove(self, name: str) -> None:
        """Forget every RRset at ``name`` (it answers NXDOMAIN afterwards)."""
        owner = _name(name)
        with self._lock:
            for key in [k for k in self._rrsets if k[0] == owner]:
                del self._rrsets[key]

    @property
    def nameserver(self) -> str:
        """``"127.0.0.1:<port>"``, the form ``DOMAINCONNECT["DNS_NAMESERVERS"]`` takes."""
        return f"{self.host}:{self.port}"

    # -- answering ----------------------------------------------------------------------------------

    def answer(self, wire: bytes, transport: str) -> bytes | None:
        """The response to one query message (``None`` = stay silent)."""
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return None
        if not query.question:
            return None
        question = query.question[0]
        qname = question.name.to_text().lower()
        self.queries.append((qname, dns.rdatatype.to_text(question.rdtype), transport))
        if qname.rstrip(".") in {n.lower().rstrip(".") for n in self.silent}:
            return None
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        if qname.rstrip(".") in {n.lower().rstrip(".") for n in self.servfail}:
            response.set_rcode(dns.rcode.SERVFAIL)
            return response.to_wire()
        with self._lock:
            exists = any(owner == question.name or owner.is_subdomain(question.name) for owner, _ in self._rrsets)
            rrset = self._rrsets.get((question.name, question.rdtype))
        if rrset is not None:
            response.answer.append(rrset)
        elif not exists:
            response.set_rcode(dns.rcode.NXDOMAIN)
        data = response.to_wire()
        if transport == "udp" and len(data) > self.udp_limit:
            response.answer.clear()
            response.flags |= dns.flags.TC
            data = response.to_wire()
        return data

    # -- lifecycle ----------------------------------------------------------------------------------

    def start(self) -> LoopbackDNSServer:
        """Bind UDP and TCP on the same ephemeral port and serve in daemon threads."""
        for _attempt in range(20):
            udp = _UDPServer((self.host, 0), _UDPHandler, self)
            port = udp.server_address[1]
            try:
                tcp = _TCPServer((self.host, port), _TCPHandler, self)
            except OSError:
                udp.server_close()  # the TCP side of this port is taken; try another port
                continue
            self.port = port
            self._servers = [udp, tcp]
            break
        else:
            raise OSError("could not bind UDP and TCP on one loopback port")
        for server in self._servers:
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._servers, self._threads = [], []

    def __enter__(self) -> LoopbackDNSServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


class _UDPServer(socketserver.ThreadingUDPServer):
    daemon_threads = True
    allow_reuse_address = False

    def __init__(self, address: tuple[str, int], handler: type, dns_server: LoopbackDNSServer) -> None:
        self.dns_server = dns_server
        super().__init__(address, handler)


class _TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = False
    block_on_close = False

    def __init__(self, address: tuple[str, int], handler: type, dns_server: LoopbackDNSServer) -> None:
        self.dns_server = dns_server
        super().__init__(address, handler)


class _UDPHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        data, sock = self.request
        reply = self.server.dns_server.answer(data, "udp")  # type: ignore[attr-defined]
        if reply is not None:
            sock.sendto(reply, self.client_address)


class _TCPHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        conn: socket.socket = self.request
        conn.settimeout(5)
        try:
            while True:
                header = _recv_exact(conn, 2)
                if header is None:
                    return
                (length,) = struct.unpack("!H", header)
                wire = _recv_exact(conn, length)
                if wire is None:
                    return
                reply = self.server.dns_server.answer(wire, "tcp")  # type: ignore[attr-defined]
                if reply is None:
                    return
                conn.sendall(struct.pack("!H", len(reply)) + reply)
        except OSError:
            return


def _recv_exact(conn: socket.socket, size: int) -> bytes | None:
    buf = b""
    while len(buf) < size:
        chunk = conn.recv(size - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


class SilentUDPServer:
    """A UDP socket on 127.0.0.1 that reads queries and never answers (for timeout tests)."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]

    @property
    def nameserver(self) -> str:
        return f"127.0.0.1:{self.port}"

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> SilentUDPServer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
