"""The installed ``domainconnect`` console script: ``lint`` output and exit codes, error handling."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from django_domainconnect.engine import cli
from django_domainconnect.engine.errors import TemplateError
from tests.conftest import DATA_DIR

TEMPLATES = DATA_DIR / "templates"
GOOD = TEMPLATES / "example.com.web.json"
BROKEN = TEMPLATES / "example.com.broken.json"
NOT_JSON = TEMPLATES / "example.com.notjson.json"
MIXED = TEMPLATES / "example.com.mixedcase.json"


def script() -> str:
    path = Path(sys.executable).with_name("domainconnect")
    found = str(path) if path.exists() else shutil.which("domainconnect")
    if not found:
        pytest.skip("the domainconnect console script is not installed (pip install -e .)")
    return found


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([script(), *args], capture_output=True, text=True, timeout=60)


def test_clean_file_exits_0():
    res = run("lint", str(GOOD))
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "1 file checked: 0 errors, 0 warnings, 0 info; 0 files with errors"
    assert res.stderr == ""


def test_errors_exit_1_with_one_line_per_finding():
    res = run("lint", str(BROKEN))
    assert res.returncode == 1
    lines = res.stdout.splitlines()
    assert f"{BROKEN}: ERROR DC1030 record 0 field ttl: ttl \"one hour\" is not a number" in res.stdout
    assert any(line.startswith(f"{BROKEN}: ERROR DC1018 field logoUrl: ") for line in lines)
    assert any(line.startswith(f"{BROKEN}: INFO DC3003: ") for line in lines)
    assert lines[-1].startswith("1 file checked: 9 errors")
    assert lines[-1].endswith("1 file with errors")


def test_warnings_only_exit_0():
    res = run("lint", str(MIXED))
    assert res.returncode == 0
    assert "WARNING DC2001" in res.stdout and "WARNING DC2010 record 1:" in res.stdout


def test_invalid_json_is_a_finding_not_a_crash():
    res = run("lint", str(NOT_JSON))
    assert res.returncode == 1
    assert "ERROR DC1002" in res.stdout and "Traceback" not in res.stderr


def test_directory_and_json_output():
    res = run("lint", "--json", str(TEMPLATES))
    assert res.returncode == 1
    data = json.loads(res.stdout)
    assert sorted(Path(p).name for p in data) == sorted(p.name for p in TEMPLATES.glob("*.json"))
    assert data[str(GOOD)] == []
    codes = {f["code"] for f in data[str(BROKEN)]}
    assert {"DC1018", "DC1021", "DC1029", "DC1030", "DC1033", "DC1034", "DC1037", "DC1025"} <= codes
    first = data[str(BROKEN)][0]
    assert set(first) == {"code", "level", "message", "record", "field", "path"}


def test_quiet_hides_info():
    res = run("lint", "-q", str(BROKEN))
    assert "INFO" not in res.stdout and "ERROR" in res.stdout


def test_missing_path_is_one_line_on_stderr():
    res = run("lint", str(TEMPLATES / "nope.json"))
    assert res.returncode == 2
    assert res.stdout == ""
    assert res.stderr.strip() == f"domainconnect: error: {TEMPLATES / 'nope.json'}: no such file or directory"


def test_empty_directory(tmp_path):
    res = run("lint", str(tmp_path))
    assert res.returncode == 2
    assert "no template files" in res.stderr and "Traceback" not in res.stderr


def test_usage_errors():
    assert run().returncode == 2
    assert run("lint").returncode == 2
    res = run("lint", "--bogus", str(GOOD))
    assert res.returncode == 2 and "unrecognized arguments: --bogus" in res.stderr
    res = run("lint", "--help")
    assert res.returncode == 0 and "PATH" in res.stdout


def test_apply_without_its_module_says_not_available(monkeypatch, capsys):
    monkeypatch.setattr(cli, "add_apply_parser", None)
    monkeypatch.setattr(cli, "_APPLY_IMPORT_ERROR", "No module named 'cli_apply'")
    assert cli.main(["apply", "--domain", "example.com"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("domainconnect: error: the apply command is not available")


@pytest.mark.parametrize(("exc", "expected"), [
    (TemplateError("bad template", field="records"),
     "domainconnect: error: field 'records': bad template [invalid_template]"),
    (PermissionError(13, "Permission denied", "/zones/example.com.zone"),
     "domainconnect: error: /zones/example.com.zone: Permission denied"),
])
def test_engine_and_os_errors_become_one_line(monkeypatch, capsys, exc, expected):
    def handler(args):
        raise exc

    monkeypatch.setattr(cli, "_run_lint", handler)
    assert cli.main(["lint", "x"]) == 2
    captured = capsys.readouterr()
    assert captured.err.strip() == expected
    assert "Traceback" not in captured.err
