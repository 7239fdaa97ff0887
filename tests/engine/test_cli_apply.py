"""``domainconnect apply`` through the installed console script (a subprocess, as users run it)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DATA_DIR

SCRIPT = Path(sys.executable).parent / "domainconnect"
ZONES = Path(DATA_DIR) / "zones"
A5_TEMPLATE = ZONES / "appendix-a5.json"
A5_ZONE = ZONES / "appendix-a5.zone"

pytestmark = pytest.mark.skipif(not SCRIPT.exists(), reason=f"console script not installed at {SCRIPT}")


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SCRIPT), "apply", *map(str, args)], capture_output=True, text=True, timeout=60,
                          check=False)


def write_template(tmp_path: Path, records: list[dict], **flags: object) -> Path:
    body = {"providerId": "example.net", "providerName": "Example", "serviceId": "svc", "serviceName": "Svc",
            "version": 1, "records": records, **flags}
    path = tmp_path / "t.json"
    path.write_text(json.dumps(body))
    return path


def test_text_output_is_a_diff_then_the_zone() -> None:
    proc = run("--template", A5_TEMPLATE, "--zone", A5_ZONE, "--domain", "example.com")
    assert proc.returncode == 0, proc.stderr
    diff, zone = proc.stdout.split("\n$ORIGIN example.com.\n")
    assert "- example.com. 3600 IN A 192.0.2.1" in diff.splitlines()
    assert "+ www.example.com. 1800 IN A 203.0.113.2" in diff.splitlines()
    assert "www 1800 IN A 203.0.113.2" in zone
    assert "192.0.2.1" not in zone and "CNAME" not in zone


def test_json_output() -> None:
    proc = run("--template", A5_TEMPLATE, "--zone", A5_ZONE, "--domain", "example.com", "--json")
    assert proc.returncode == 0, proc.stderr
    body = json.loads(proc.stdout)
    assert set(body) == {"zone", "to_add", "to_delete"}
    assert {"name": "www.example.com.", "type": "A", "ttl": 1800, "data": "203.0.113.2"} in body["to_add"]
    assert {"name": "www.example.com.", "type": "CNAME", "ttl": 3600, "data": "other.host.example."} \
        in body["to_delete"]
    assert len(body["zone"]) == 8
    assert all(r["name"].endswith(".") and isinstance(r["ttl"], int) for r in body["zone"])


def test_host_group_and_params(tmp_path: Path) -> None:
    template = write_template(tmp_path, [
        {"type": "A", "host": "@", "pointsTo": "%ip%", "ttl": 600, "groupId": "web"},
        {"type": "TXT", "host": "_v", "data": "v=%tok%", "ttl": 600, "groupId": "verify"},
    ])
    zone = tmp_path / "z.zone"
    zone.write_text("@ 3600 IN NS ns1.example.net.\n")
    proc = run("--template", template, "--zone", zone, "--domain", "example.com", "--host", "shop",
               "--group-id", "web", "--param", "ip=192.0.2.7", "--param", "tok=unused", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["to_add"] == [
        {"name": "shop.example.com.", "type": "A", "ttl": 600, "data": "192.0.2.7"}]


@pytest.mark.parametrize(("records", "flags", "extra", "needle"), [
    ([{"type": "A", "host": "@", "pointsTo": "%ip%", "ttl": 60}], {}, [], "ip"),
    ([{"type": "A", "host": "@", "pointsTo": "%ip%", "ttl": 60}], {}, ["--param", "ip=not-an-ip"], "not-an-ip"),
    ([{"type": "A", "host": "@", "pointsTo": "192.0.2.1", "ttl": 60}], {}, ["--group-id", "nope"], "nope"),
    ([{"type": "A", "host": "@", "pointsTo": "192.0.2.1", "ttl": 60, "groupId": "g"}], {}, ["--group-id", ",,"],
     "empty entr"),
    ([{"type": "CNAME", "host": "@", "pointsTo": "x.example.net", "ttl": 60}], {"hostRequired": True}, [], "host"),
    ([{"type": "A", "host": "%h%", "pointsTo": "192.0.2.1", "ttl": 60}], {}, ["--param", "h=evil.com."], "h"),
    ([{"type": "A", "host": "@", "pointsTo": "192.0.2.1", "ttl": 60}], {}, ["--param", "novalue"], "NAME=VALUE"),
])
def test_errors_are_one_clear_line_without_traceback(tmp_path: Path, records: list[dict], flags: dict,
                                                     extra: list[str], needle: str) -> None:
    template = write_template(tmp_path, records, **flags)
    proc = run("--template", template, "--zone", A5_ZONE, "--domain", "example.com", *extra)
    assert proc.returncode != 0 and proc.stdout == ""
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert needle in proc.stderr


def test_invalid_template_and_missing_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    for args in (["--template", bad, "--zone", A5_ZONE], ["--template", tmp_path / "missing.json", "--zone", A5_ZONE],
                 ["--template", A5_TEMPLATE, "--zone", tmp_path / "missing.zone"]):
        proc = run(*args, "--domain", "example.com")
        assert proc.returncode != 0
        assert "Traceback" not in proc.stderr and proc.stderr.startswith("domainconnect")


def test_the_zone_file_is_not_modified() -> None:
    before = A5_ZONE.read_text()
    assert run("--template", A5_TEMPLATE, "--zone", A5_ZONE, "--domain", "example.com").returncode == 0
    assert A5_ZONE.read_text() == before


REDIRECT = [{"type": "REDIR301", "host": "@", "target": "https://shop.example.net/", "ttl": 600},
            {"type": "APEXCNAME", "host": "@", "pointsTo": "apex.example.net", "ttl": 600}]


def test_pseudo_types_are_refused_by_default_and_accepted_when_declared(tmp_path: Path) -> None:
    template = write_template(tmp_path, REDIRECT)
    refused = run("--template", template, "--zone", A5_ZONE, "--domain", "example.com")
    assert refused.returncode != 0 and "REDIR301" in refused.stderr and "unsupported_type" in refused.stderr
    for types in ("+REDIR301,apexcname", "A,AAAA,CNAME,TXT,REDIR301,APEXCNAME"):
        proc = run("--template", template, "--zone", A5_ZONE, "--domain", "example.com", "--supported-types", types,
                   "--json")
        assert proc.returncode == 0, proc.stderr
        added = json.loads(proc.stdout)["to_add"]
        assert {"name": "example.com.", "type": "REDIR301", "ttl": 600, "data": "https://shop.example.net/"} in added
        assert {"name": "example.com.", "type": "APEXCNAME", "ttl": 600, "data": "apex.example.net."} in added
    # In text output the pseudo-records are comments in the zone: they are not DNS records.
    text = run("--template", template, "--zone", A5_ZONE, "--domain", "example.com", "--supported-types",
               "+REDIR301,APEXCNAME")
    assert "+ example.com. 600 IN REDIR301 https://shop.example.net/" in text.stdout.splitlines()
    assert any(line.startswith("; @ ") and line.split()[2:5] == ["600", "IN", "REDIR301"]
               for line in text.stdout.splitlines())


def test_a_supported_types_list_replaces_the_default(tmp_path: Path) -> None:
    template = write_template(tmp_path, [{"type": "TXT", "host": "@", "data": "x", "ttl": 600}])
    proc = run("--template", template, "--zone", A5_ZONE, "--domain", "example.com", "--supported-types", "A,AAAA")
    assert proc.returncode != 0 and "TXT" in proc.stderr


@pytest.mark.parametrize("types", ["", "+", "A,FOO", "ANY", "A,AXFR"])
def test_bad_supported_types_are_one_clear_line(types: str) -> None:
    proc = run("--template", A5_TEMPLATE, "--zone", A5_ZONE, "--domain", "example.com", "--supported-types", types)
    assert proc.returncode != 0 and proc.stdout == ""
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert "--supported-types" in proc.stderr
