"""The reference pages cannot drift from the code: settings keys and defaults, check ids, commands.

``docs/settings.md`` must list every key of ``conf.DEFAULTS`` with its default and every system check id
the app registers; every management command shipped (app, async sub-app, example project) and each of
its long options must appear in the docs.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path
from typing import Any

import pytest
from django.core import checks
from django.core.management import BaseCommand, get_commands, load_command_class

from django_domainconnect import conf

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SETTINGS_PAGE = DOCS / "settings.md"
EXAMPLE_COMMANDS = ROOT / "example_project" / "registrar" / "management" / "commands"
CHECK_ID = re.compile(r"\bdomainconnect(?:_oauth)?\.[EWCI]\d{3}\b")
CODE = re.compile(r"`([^`]+)`")


def _section(text: str, heading: str) -> str:
    """The body of the ``## heading`` section (up to the next ``## ``)."""
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"docs/settings.md has no '## {heading}' section"
    return match.group(1)


def _table_rows(section: str) -> list[list[str]]:
    """Cells of each body row of the first Markdown table in ``section`` (header and rule skipped)."""
    rows = [line for line in section.splitlines() if line.startswith("|")]
    return [[c.strip() for c in row.strip().strip("|").split("|")] for row in rows[2:]]


def documented_defaults(heading: str = "Keys") -> dict[str, str]:
    """Key -> the default cell's text (one code span per key when a row lists several keys)."""
    out: dict[str, str] = {}
    for cells in _table_rows(_section(SETTINGS_PAGE.read_text(), heading)):
        keys = CODE.findall(cells[0])
        defaults = CODE.findall(cells[1])
        if len(keys) > 1:
            assert len(defaults) == len(keys), f"row {cells[0]}: one default per key expected"
            out.update(zip(keys, defaults, strict=True))
        else:
            out[keys[0]] = defaults[0] if len(defaults) == 1 else cells[1]
    return out


def _literal(text: str) -> tuple[bool, Any]:
    """A Python literal, or a product of integers (``180 * 24 * 3600`` reads better than 15552000)."""
    try:
        return True, ast.literal_eval(text)
    except (ValueError, SyntaxError):
        pass
    if re.fullmatch(r"\d+( \* \d+)+", text):
        product = 1
        for factor in text.split(" * "):
            product *= int(factor)
        return True, product
    return False, None


def registered_check_ids() -> set[str]:
    """Ids used by the check functions of this project that Django's registry holds (normal + deploy)."""
    registry = checks.registry.registry
    ids: set[str] = set()
    for func in registry.registered_checks | registry.deployment_checks:
        if getattr(func, "__module__", "").startswith("django_domainconnect"):
            ids |= set(CHECK_ID.findall(inspect.getsource(func)))
    return ids


def shipped_commands() -> dict[str, str]:
    """Command name -> app label, for the app's own commands and the example project's."""
    commands = {name: app for name, app in get_commands().items() if app.startswith("django_domainconnect")}
    for path in EXAMPLE_COMMANDS.glob("*.py"):
        if path.stem != "__init__":
            commands[path.stem] = "registrar"
    return commands


def all_docs() -> str:
    return "\n".join(p.read_text() for p in sorted(DOCS.rglob("*.md")))


def test_every_setting_is_documented_with_its_default() -> None:
    documented = documented_defaults()
    assert set(documented) == set(conf.DEFAULTS), (
        f"missing: {sorted(set(conf.DEFAULTS) - set(documented))}, "
        f"unknown: {sorted(set(documented) - set(conf.DEFAULTS))}")
    for key, default in conf.DEFAULTS.items():
        parsed, value = _literal(documented[key])
        if default is None:
            # Required or derived from another key: prose or another key's name, never a wrong literal.
            assert not parsed or value is None, f"{key}: documented {documented[key]!r}, default is None"
        else:
            assert parsed and value == default, f"{key}: documented {documented[key]!r}, default is {default!r}"


def test_every_oauth_setting_is_documented_with_its_default() -> None:
    from django_domainconnect.oauth.conf import DEFAULTS

    documented = documented_defaults("`DOMAINCONNECT_OAUTH` (asynchronous flow)")
    assert set(documented) == set(DEFAULTS), f"documented {sorted(documented)}, code has {sorted(DEFAULTS)}"
    for key, default in DEFAULTS.items():
        assert _literal(documented[key]) == (True, default), f"{key}: documented {documented[key]!r}"


def test_every_registered_check_id_is_documented_and_no_other() -> None:
    registered = registered_check_ids()
    assert "domainconnect.E001" in registered and "domainconnect_oauth.E001" in registered
    table = _section(SETTINGS_PAGE.read_text(), "System checks")
    documented = {cells[0].strip("`") for cells in _table_rows(table)}
    assert documented == registered, (
        f"undocumented: {sorted(registered - documented)}, stale: {sorted(documented - registered)}")


def test_every_command_is_in_the_commands_table() -> None:
    table = _section(SETTINGS_PAGE.read_text(), "Management commands")
    documented = {CODE.findall(cells[0])[0].split()[0] for cells in _table_rows(table)}
    shipped = shipped_commands()
    assert {"domainconnect_import_templates", "domainconnect_add_client", "seed_demo"} <= set(shipped)
    assert set(shipped) <= documented, f"undocumented commands: {sorted(set(shipped) - documented)}"


@pytest.mark.parametrize("name", sorted(shipped_commands()))
def test_every_long_option_of_a_command_is_documented(name: str) -> None:
    command = load_command_class(get_commands()[name], name)
    parser = command.create_parser("manage.py", name)
    # Options a command inherits from its parent (rundemo's runserver flags) are the parent's to document.
    parent = type(command).__mro__[1]
    inherited = {d for a in (parent().create_parser("manage.py", name)._actions if parent is not BaseCommand
                             else []) for d in [a.dest]}
    own = {opt for action in parser._actions for opt in action.option_strings
           if opt.startswith("--") and action.dest not in _BASE_DESTS | inherited}
    text = all_docs()
    missing = sorted(opt for opt in own if opt not in text)
    assert not missing, f"{name}: options not in docs/: {missing}"


# Options every Django command has (--verbosity, --settings…): not ours to document.
_BASE_DESTS = {"verbosity", "settings", "pythonpath", "traceback", "no_color", "force_color", "skip_checks",
               "version", "help"}


def test_every_lint_code_is_in_templates_md_under_its_level() -> None:
    from django_domainconnect.engine.lint import CODES

    text = (DOCS / "templates.md").read_text()
    sections = {"error": "### Errors", "warning": "### Warnings", "info": "### Information"}
    found: dict[str, str] = {}
    for level, heading in sections.items():
        match = re.search(rf"^{re.escape(heading)}\n(.*?)(?=^#|\Z)", text, re.M | re.S)
        assert match, f"docs/templates.md has no '{heading}' section"
        found.update({code: level for code in re.findall(r"^\| (DC\d{4}) ", match.group(1), re.M)})
    assert found == {code: level for code, (level, _text) in CODES.items()}


def test_every_page_is_in_the_nav_and_linked_from_the_home_page() -> None:
    nav = set(re.findall(r"^\s*- (?:[^:\n]+: )?([\w/.-]+\.md)\s*$", (ROOT / "mkdocs.yml").read_text(), re.M))
    pages = {str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md")}
    assert nav == pages, f"not in nav: {sorted(pages - nav)}, missing files: {sorted(nav - pages)}"
    linked = set(re.findall(r"\]\(([\w/.-]+\.md)(?:#[\w-]*)?\)", (DOCS / "index.md").read_text()))
    assert pages - {"index.md"} <= linked, f"not linked from docs/index.md: {sorted(pages - {'index.md'} - linked)}"
