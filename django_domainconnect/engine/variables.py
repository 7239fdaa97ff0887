"""Variable expressions (§9.1) and single-pass substitution (§9.2).

Values are never re-scanned: ``%a%-%b%`` with ``a="%b%"`` gives ``%b%-X``, not ``X-X``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from .errors import VariableError

VARIABLE_NAME_RE = re.compile(r"[A-Za-z0-9_-]+")
# A named variable: "%" variable-name "%". Used both for scanning templates and for lint.
NAMED_VARIABLE_RE = re.compile(r"%([A-Za-z0-9_-]+)%")
BUILTINS = frozenset({"host", "domain", "fqdn"})
# dc-prop-value: printable ASCII and space, or RFC 1035 escapes (\DDD or \ + printable non-digit).
PROP_VALUE_RE = re.compile(r'(?:[\x20-\x5b\x5d-\x7e]|\\[0-9]{3}|\\[\x21-\x2f\x3a-\x7e])*')
_DDD_ESCAPE_RE = re.compile(r"\\([0-9]{3})")


def find_variables(text: str) -> list[str]:
    """Names of the named variables in ``text``, in order of appearance (duplicates kept)."""
    return NAMED_VARIABLE_RE.findall(text)


def split_variables(text: str) -> list[str]:
    """``text`` as literal pieces and variable names alternately (``a%x%b`` → ``["a", "x", "b"]``)."""
    return NAMED_VARIABLE_RE.split(text)


def has_unterminated_variable(text: str) -> bool:
    """True when a ``%`` is left over after removing every well-formed ``%name%``."""
    return "%" in NAMED_VARIABLE_RE.sub("", text)


def is_prop_value(value: str) -> bool:
    """Whether ``value`` is a valid dc-prop-value (§3); escapes like ``\\256`` are checked for range."""
    if "\\" not in value:
        # Without escapes the pattern asks for characters 0x20-0x7E only: exactly printable ASCII.
        return value.isascii() and value.isprintable()
    if PROP_VALUE_RE.fullmatch(value) is None:
        return False
    return all(int(d) <= 255 for d in _DDD_ESCAPE_RE.findall(value))


def builtin_values(domain: str, host: str) -> dict[str, str]:
    """``%domain%``, ``%host%`` and ``%fqdn%`` (§9.1.2) from normalised apply parameters."""
    return {"domain": domain, "host": host, "fqdn": f"{host}.{domain}" if host else domain}


def substitute(text: str, values: Mapping[str, str], *, field: str | None = None,
               record_index: int | None = None) -> str:
    """Replace every ``%name%`` in one left-to-right pass; a missing name raises ``VariableError``.

    Names match case-sensitively (ARCHITECTURE.md). ``values`` must already hold the built-ins, which
    callers put last so a request parameter can never override them.
    """
    if "%" not in text:
        return text  # no variable to replace (most fields): skip the scan
    return substitute_parts(split_variables(text), values, field, record_index)


def substitute_parts(parts: Sequence[str], values: Mapping[str, str], field: str | None,
                     record_index: int | None) -> str:
    """``substitute`` of the text ``parts`` is ``split_variables`` of (``parts`` is not changed)."""
    if len(parts) == 3 and parts[1] in values:  # one variable (the usual field): no loop, no join
        return parts[0] + values[parts[1]] + parts[2]
    out = list(parts)
    for i in range(1, len(out), 2):
        name = out[i]
        if name not in values:
            raise VariableError(
                f"variable '%{name}%' has no value: pass it as a request parameter named '{name}'",
                code="missing_variable", field=field, record_index=record_index,
            )
        out[i] = values[name]
    return "".join(out)
