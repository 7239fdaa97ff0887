"""Master files <-> Record lists."""

from __future__ import annotations

import pytest

from django_domainconnect.engine.types import Record
from django_domainconnect.engine.zonefile import ZoneFileError, read_zone, write_zone


def test_relative_names_default_origin_and_no_soa() -> None:
    records = read_zone('@ 600 IN A 192.0.2.1\nwww IN CNAME @\nmail 300 MX 10 mx\n_x TXT "a b" "c"\n', "Example.COM")
    assert sorted(records) == sorted([
        Record("example.com.", "A", 600, "192.0.2.1"),
        Record("www.example.com.", "CNAME", 3600, "example.com."),
        Record("mail.example.com.", "MX", 300, "10 mx.example.com."),
        Record("_x.example.com.", "TXT", 3600, '"a b" "c"'),
    ])


def test_ttl_directive_and_explicit_origin() -> None:
    records = read_zone("$TTL 900\n$ORIGIN sub.example.com.\nwww A 192.0.2.1\n", "example.com")
    assert records == [Record("www.sub.example.com.", "A", 900, "192.0.2.1")]


def test_idn_origin() -> None:
    assert read_zone("@ A 192.0.2.1\n", "bücher.example")[0].name == "xn--bcher-kva.example."


@pytest.mark.parametrize("text", ["www IN A not-an-ip\n", "evil.com. 300 IN A 192.0.2.1\n", "$INCLUDE /etc/passwd\n",
                                  'www TXT "unterminated\n'])
def test_bad_zone_files_are_rejected(text: str) -> None:
    with pytest.raises(ZoneFileError):
        read_zone(text, "example.com")


def test_write_is_sorted_relative_and_reads_back() -> None:
    records = [
        Record("www.example.com.", "A", 300, "192.0.2.2"),
        Record("example.com.", "TXT", 300, '"v=spf1 -all"'),
        Record("example.com.", "NS", 3600, "ns1.example.net."),
        Record("example.com.", "SOA", 3600, "ns1.example.net. h.example.net. 1 2 3 4 5"),
        Record("a.www.example.com.", "A", 300, "192.0.2.3"),
    ]
    text = write_zone(records, "example.com")
    lines = text.splitlines()
    assert lines[0] == "$ORIGIN example.com."
    assert [line.split()[0] for line in lines[1:]] == ["@", "@", "@", "www", "a.www"]
    assert [line.split()[3] for line in lines[1:4]] == ["SOA", "NS", "TXT"]
    assert sorted(read_zone(text, "example.com")) == sorted(records)


def test_pseudo_types_are_written_as_comments() -> None:
    text = write_zone([Record("example.com.", "REDIR301", 3600, "https://www.example.com/")], "example.com")
    assert text.splitlines()[1].startswith("; @ 3600 IN REDIR301 https://www.example.com/")
    assert read_zone(text, "example.com") == []
