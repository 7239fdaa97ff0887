"""The sync flow's refusal texts and docs/troubleshooting.md cannot drift apart.

The texts are extracted from the code (the AST, not a hand-kept list): every constant of
``views/messages.py``, every message the engine's query parser raises (shown inside ``BAD_QUERY``), and
every error code the views send. The views may not pass a literal text as a refusal description: a new
message has to go through ``messages.py`` and so into the docs. Signature problems are documented one by
one in docs/signatures.md, which the troubleshooting page links to.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "django_domainconnect"
VIEWS = PKG / "views"
SYNC_VIEW_FILES = ["sync.py", "params.py", "consent.py", "outcome.py", "resume.py"]
PLACEHOLDER = re.compile(r"\{[^{}]*\}")
MIN_CHUNK = 12  # shorter fixed pieces ("' parameter") say nothing on their own


def normalised(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def doc(name: str) -> str:
    return normalised((ROOT / "docs" / name).read_text(encoding="utf-8"))


def literal_text(node: ast.AST) -> str | None:
    """A string literal, or an f-string with each ``{expr}`` replaced by ``{}``; else ``None``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    return None


def fixed_chunks(message: str) -> list[str]:
    return [c.strip() for c in PLACEHOLDER.split(message) if len(c.strip()) >= MIN_CHUNK]


def module_messages() -> dict[str, str]:
    tree = ast.parse((VIEWS / "messages.py").read_text(encoding="utf-8"))
    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            text = literal_text(node.value)
            if node.targets[0].id.isupper() and text is not None:
                found[node.targets[0].id] = text
    return found


def raised_messages(path: Path, exceptions: set[str]) -> list[str]:
    """The first argument of every ``raise X(...)`` for ``X`` in ``exceptions``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and node.exc.args:
            func = node.exc.func
            if isinstance(func, ast.Name) and func.id in exceptions:
                text = literal_text(node.exc.args[0])
                if text is not None:
                    found.append(text)
    return found


MESSAGES = module_messages()
QUERY_MESSAGES = raised_messages(PKG / "engine" / "query.py", {"EngineError"})


def test_extraction_finds_the_messages():
    # Guards the AST walk itself: if it found nothing, every check below would pass vacuously.
    assert {"SYNC_BLOCKED", "HOST_REQUIRED", "GROUP_ID_UNKNOWN", "SIGNATURE_FAILED", "NOT_SUPPORTED",
            "SHARED_NAME_NOT_ALLOWED", "REDIRECT_NOT_USED", "BAD_QUERY"} <= set(MESSAGES)
    assert any("more than once" in m for m in QUERY_MESSAGES)
    assert fixed_chunks("groupId '{group}' matches no group of this template.") == [
        "' matches no group of this template."]


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_every_sync_message_is_in_troubleshooting(name):
    page = doc("troubleshooting.md")
    for chunk in fixed_chunks(MESSAGES[name]):
        assert chunk in page, f"docs/troubleshooting.md does not quote {name}: {chunk!r}"


@pytest.mark.parametrize("message", QUERY_MESSAGES)
def test_every_query_parser_message_is_in_troubleshooting(message):
    page = doc("troubleshooting.md")
    for chunk in fixed_chunks(message):
        assert chunk in page, f"docs/troubleshooting.md does not explain {chunk!r}"


def sync_view_trees() -> list[tuple[str, ast.AST]]:
    return [(name, ast.parse((VIEWS / name).read_text(encoding="utf-8"))) for name in SYNC_VIEW_FILES]


def test_views_pass_no_literal_refusal_text():
    offenders = []
    for name, tree in sync_view_trees():
        for node in ast.walk(tree):
            candidates: list[ast.AST] = []
            if isinstance(node, ast.Call):
                func = node.func
                fname = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
                if fname in ("SyncRequestError", "fail") and node.args:
                    candidates.append(node.args[0])
                candidates += [k.value for k in node.keywords if k.arg == "description"]
            elif isinstance(node, ast.Dict):
                candidates += [v for k, v in zip(node.keys, node.values, strict=True)
                               if isinstance(k, ast.Constant) and k.value == "description"]
            offenders += [f"{name}:{c.lineno}" for c in candidates if literal_text(c) is not None]
    assert not offenders, f"refusal texts must come from views/messages.py: {offenders}"


def test_every_error_code_of_the_sync_flow_is_in_troubleshooting():
    codes = set()
    for _name, tree in sync_view_trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg == "error" and literal_text(node.value):
                codes.add(literal_text(node.value))
    assert {"invalid_request", "access_denied", "temporarily_unavailable"} <= codes
    page = doc("troubleshooting.md")
    for code in codes | {"temporarily_unavailable"}:  # the signature check picks that one at run time
        assert f"error={code}" in page or f"`{code}`" in page, code


def test_the_troubleshooting_page_links_the_signature_messages():
    page = doc("troubleshooting.md")
    assert "(signatures.md)" in page
    signatures = doc("signatures.md")
    for message in raised_messages(PKG / "dns.py", {"DNSLookupError"}):
        head = PLACEHOLDER.split(message)[0].strip()
        assert head in signatures, head
