"""The loopback DNS server used by tests and the demo: UDP + TCP, truncation, live updates."""

from __future__ import annotations

import socket

import dns.exception
import dns.flags
import dns.message
import dns.nameserver
import dns.query
import dns.rcode
import dns.resolver
import pytest

from django_domainconnect.testing.dnsserver import LoopbackDNSServer, SilentUDPServer

BIG = [["a" * 200, "b" * 200], ["c" * 250]]  # one answer > 512 octets


@pytest.fixture
def server():
    with LoopbackDNSServer({"k.example.com": {"TXT": BIG, "A": ["192.0.2.1"]},
                            "deep.sub.example.com": {"A": ["192.0.2.2"]}}, ttl=120) as srv:
        yield srv


def ask(srv: LoopbackDNSServer, name: str, rdtype: str = "TXT", *, tcp: bool = False) -> dns.message.Message:
    query = dns.message.make_query(name, rdtype)
    send = dns.query.tcp if tcp else dns.query.udp
    return send(query, "127.0.0.1", port=srv.port, timeout=2)


def resolver_for(srv) -> dns.resolver.Resolver:
    res = dns.resolver.Resolver(configure=False)
    res.nameservers = [dns.nameserver.Do53Nameserver("127.0.0.1", srv.port)]
    res.lifetime = 2
    return res


def test_small_answer_over_udp(server):
    response = ask(server, "k.example.com", "A")
    assert response.rcode() == dns.rcode.NOERROR
    assert response.flags & dns.flags.AA
    assert [r.to_text() for r in response.answer[0]] == ["192.0.2.1"]
    assert response.answer[0].ttl == 120


def test_large_answer_truncated_over_udp_and_complete_over_tcp(server):
    udp = ask(server, "k.example.com")
    assert udp.flags & dns.flags.TC and not udp.answer
    tcp = ask(server, "k.example.com", tcp=True)
    assert sorted(r.strings for r in tcp.answer[0]) == [(b"a" * 200, b"b" * 200), (b"c" * 250,)]


def test_resolver_falls_back_to_tcp(server):
    answer = resolver_for(server).resolve("k.example.com.", "TXT")
    assert len(answer) == 2
    assert [q[2] for q in server.queries] == ["udp", "tcp"]


def test_nxdomain_nodata_and_empty_non_terminal(server):
    assert ask(server, "nope.example.com").rcode() == dns.rcode.NXDOMAIN
    nodata = ask(server, "k.example.com", "MX")
    assert nodata.rcode() == dns.rcode.NOERROR and not nodata.answer
    assert ask(server, "sub.example.com", "A").rcode() == dns.rcode.NOERROR  # has a name below it


def test_names_are_case_insensitive(server):
    assert ask(server, "K.Example.COM", "A").answer


def test_records_can_change_while_running(server):
    server.set_txt("_domainconnect.example.org", "dns.example.net")
    assert [r.strings for r in ask(server, "_domainconnect.example.org").answer[0]] == [(b"dns.example.net",)]
    server.set("_domainconnect.example.org", "TXT", ["other"], ttl=5)
    response = ask(server, "_domainconnect.example.org.")
    assert [r.strings for r in response.answer[0]] == [(b"other",)] and response.answer[0].ttl == 5
    server.remove("_domainconnect.example.org")
    assert ask(server, "_domainconnect.example.org").rcode() == dns.rcode.NXDOMAIN
    server.set("k.example.com", "A", [])
    assert not ask(server, "k.example.com", "A").answer


def test_servfail_and_silent(server):
    server.servfail.add("k.example.com")
    assert ask(server, "k.example.com").rcode() == dns.rcode.SERVFAIL
    server.silent.add("deep.sub.example.com")
    with pytest.raises(dns.exception.Timeout):
        dns.query.udp(dns.message.make_query("deep.sub.example.com", "A"), "127.0.0.1", port=server.port,
                      timeout=0.3)


def test_txt_string_over_255_octets_is_refused():
    with pytest.raises(ValueError, match="255"):
        LoopbackDNSServer({"x.example": {"TXT": ["x" * 256]}})


def test_stop_frees_both_ports():
    srv = LoopbackDNSServer().start()
    port = srv.port
    assert srv.nameserver == f"127.0.0.1:{port}"
    srv.stop()
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        with socket.socket(socket.AF_INET, kind) as sock:
            sock.bind(("127.0.0.1", port))


def test_silent_udp_server_never_answers():
    with SilentUDPServer() as silent:
        with pytest.raises(dns.exception.Timeout):
            dns.query.udp(dns.message.make_query("a.example", "A"), "127.0.0.1", port=silent.port, timeout=0.2)
