"""Template loading: JSON text → ``Template`` with structural findings (§6.1, §6.2).

This module checks only what is needed to build the value objects safely: valid UTF-8 and JSON, no
duplicated keys, no unknown fields, and the JSON type of every field. Semantic rules (ABNF, DNS data,
policy) live in ``lint.py``; the importer runs both.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .errors import TemplateError
from .types import Finding, Template, TemplateRecord

# Codes produced here (documented with the rest in docs/templates.md).
NOT_UTF8 = "DC1001"
BAD_JSON = "DC1002"
NOT_OBJECT = "DC1003"
DUPLICATE_KEY = "DC1004"
UNKNOWN_TEMPLATE_FIELD = "DC1005"
UNKNOWN_RECORD_FIELD = "DC1006"
WRONG_TYPE = "DC1007"
MISSING_FIELD = "DC1008"
EMPTY_KEY = "DC1009"

# JSON kinds: "str", "bool", "int" (a JSON integer), "intish" (integer or string), "list".
TEMPLATE_FIELDS: dict[str, tuple[str, str]] = {
    "providerId": ("provider_id", "str"),
    "providerName": ("provider_name", "str"),
    "serviceId": ("service_id", "str"),
    "serviceName": ("service_name", "str"),
    "version": ("version", "int"),
    "logoUrl": ("logo_url", "str"),
    "description": ("description", "str"),
    "variableDescription": ("variable_description", "str"),
    "syncBlock": ("sync_block", "bool"),
    "shared": ("shared", "bool"),
    "sharedProviderName": ("shared_provider_name", "bool"),
    "sharedServiceName": ("shared_service_name", "bool"),
    "syncRedirectDomain": ("sync_redirect_domain", "str"),
    "syncPubKeyDomain": ("sync_pub_key_domain", "str"),
    "multiInstance": ("multi_instance", "bool"),
    "warnPhishing": ("warn_phishing", "bool"),
    "hostRequired": ("host_required", "bool"),
    "records": ("records", "list"),
}
REQUIRED_TEMPLATE_FIELDS = ("providerId", "providerName", "serviceId", "serviceName", "records")

RECORD_FIELDS: dict[str, tuple[str, str]] = {
    "type": ("type", "str"),
    "host": ("host", "str"),
    "name": ("name", "str"),
    "pointsTo": ("points_to", "str"),
    "ttl": ("ttl", "intish"),
    "data": ("data", "str"),
    "txtConflictMatchingMode": ("txt_conflict_matching_mode", "str"),
    "txtConflictMatchingPrefix": ("txt_conflict_matching_prefix", "str"),
    "priority": ("priority", "intish"),
    "weight": ("weight", "intish"),
    "port": ("port", "intish"),
    "protocol": ("protocol", "str"),
    "service": ("service", "str"),
    "target": ("target", "str"),
    "spfRules": ("spf_rules", "str"),
    "essential": ("essential", "str"),
    "groupId": ("group_id", "str"),
}

_KIND_NAMES = {
    "str": "a JSON string",
    "bool": "true or false",
    "int": "a JSON integer",
    "intish": "a JSON integer or a string (digits or one %variable%)",
    "list": "a JSON array",
}


def _kind_ok(value: Any, kind: str) -> bool:
    # bool is a subclass of int in Python: check it first so `true` is never taken for 1.
    if kind == "bool":
        return type(value) is bool
    if type(value) is bool:
        return False
    if kind == "str":
        return isinstance(value, str)
    if kind == "int":
        return isinstance(value, int)
    if kind == "intish":
        return isinstance(value, (int, str))
    if kind == "list":
        return isinstance(value, list)
    return False


def _json_type_name(value: Any) -> str:
    if value is None:
        return "null"
    if type(value) is bool:
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


class _Decoder:
    """Decodes JSON while remembering which objects had duplicated keys (by object identity)."""

    def __init__(self) -> None:
        self.duplicates: dict[int, list[str]] = {}

    def object_pairs_hook(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj: dict[str, Any] = {}
        dups: list[str] = []
        for key, value in pairs:
            if key in obj:
                dups.append(key)
            obj[key] = value
        if dups:
            self.duplicates[id(obj)] = dups
        return obj

    @staticmethod
    def parse_constant(name: str) -> Any:
        raise ValueError(f"{name} is not valid JSON")

    def decode(self, text: str) -> Any:
        return json.loads(text, object_pairs_hook=self.object_pairs_hook, parse_constant=self.parse_constant)


def _decode_source(source: str | bytes | Mapping[str, Any], path: str | None,
                   findings: list[Finding]) -> tuple[Any, dict[int, list[str]]] | None:
    if isinstance(source, Mapping):
        return dict(source), {}
    if isinstance(source, (bytes, bytearray)):
        try:
            text = bytes(source).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            findings.append(Finding(NOT_UTF8, "error",
                                    f"the file is not valid UTF-8 (byte {exc.start}): save it as UTF-8", path=path))
            return None
    else:
        text = source
    decoder = _Decoder()
    try:
        data = decoder.decode(text)
    except json.JSONDecodeError as exc:
        findings.append(Finding(BAD_JSON, "error",
                                f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}", path=path))
        return None
    except (ValueError, RecursionError) as exc:
        findings.append(Finding(BAD_JSON, "error", f"invalid JSON: {exc}", path=path))
        return None
    return data, decoder.duplicates


def _check_keys(obj: dict[str, Any], known: Mapping[str, tuple[str, str]], dups: list[str] | None, *,
                unknown_code: str, where: str, index: int | None, path: str | None,
                findings: list[Finding]) -> None:
    for key in dups or ():
        findings.append(Finding(DUPLICATE_KEY, "error",
                                f"key '{key}' appears more than once in {where}: keep only one "
                                "(JSON parsers silently disagree on which one wins)",
                                record_index=index, field=key, path=path))
    for key in obj:
        if key == "":
            findings.append(Finding(EMPTY_KEY, "error", f"{where} has an empty key \"\": remove it",
                                    record_index=index, path=path))
        elif key not in known:
            hint = _close_match(key, known)
            findings.append(Finding(unknown_code, "error",
                                    f"unknown field '{key}' in {where}: remove it" + (f" (did you mean '{hint}'?)"
                                                                                     if hint else ""),
                                    record_index=index, field=key, path=path))


def _close_match(key: str, known: Mapping[str, Any]) -> str | None:
    low = key.lower()
    for name in known:
        if name.lower() == low:
            return name
    return None


def _typed_values(obj: dict[str, Any], known: Mapping[str, tuple[str, str]], *, where: str,
                  index: int | None, path: str | None, findings: list[Finding]) -> dict[str, Any]:
    """Attribute values for the fields with the right JSON type; wrong types are reported and dropped."""
    values: dict[str, Any] = {}
    for key, (attr, kind) in known.items():
        if key not in obj:
            continue
        value = obj[key]
        if _kind_ok(value, kind):
            values[attr] = value
        else:
            findings.append(Finding(WRONG_TYPE, "error",
                                    f"'{key}' in {where} must be {_KIND_NAMES[kind]}, not {_json_type_name(value)}",
                                    record_index=index, field=key, path=path))
    return values


def _load_record(raw: Any, index: int, dups: dict[int, list[str]], path: str | None,
                 findings: list[Finding]) -> TemplateRecord | None:
    where = f"record {index}"
    if not isinstance(raw, dict):
        findings.append(Finding(NOT_OBJECT, "error",
                                f"record {index} must be a JSON object, not {_json_type_name(raw)}",
                                record_index=index, path=path))
        return None
    _check_keys(raw, RECORD_FIELDS, dups.get(id(raw)), unknown_code=UNKNOWN_RECORD_FIELD, where=where,
                index=index, path=path, findings=findings)
    values = _typed_values(raw, RECORD_FIELDS, where=where, index=index, path=path, findings=findings)
    if "type" not in raw:
        findings.append(Finding(MISSING_FIELD, "error", "record has no 'type': add one (e.g. \"CNAME\")",
                                record_index=index, field="type", path=path))
    values.setdefault("type", "")
    return TemplateRecord(index=index, raw=raw, **values)


def load_template(source: str | bytes | Mapping[str, Any], *, path: str | None = None,
                  ) -> tuple[Template | None, list[Finding]]:
    """Structure ``source`` into a ``Template`` and report structural findings; never raises for bad input.

    Returns ``(None, findings)`` when the input is not a JSON object at all. Otherwise returns a
    ``Template`` built from the fields that have the right JSON type (others are reported and left at
    their defaults) together with every finding.
    """
    findings: list[Finding] = []
    decoded = _decode_source(source, path, findings)
    if decoded is None:
        return None, findings
    data, dups = decoded
    if not isinstance(data, dict):
        findings.append(Finding(NOT_OBJECT, "error",
                                f"a template must be a JSON object, not {_json_type_name(data)}", path=path))
        return None, findings

    _check_keys(data, TEMPLATE_FIELDS, dups.get(id(data)), unknown_code=UNKNOWN_TEMPLATE_FIELD,
                where="the template", index=None, path=path, findings=findings)
    values = _typed_values(data, TEMPLATE_FIELDS, where="the template", index=None, path=path, findings=findings)
    for key in REQUIRED_TEMPLATE_FIELDS:
        if key not in data:
            findings.append(Finding(MISSING_FIELD, "error", f"the template has no '{key}': add it",
                                    field=key, path=path))

    records: list[TemplateRecord] = []
    for index, raw in enumerate(values.pop("records", [])):
        record = _load_record(raw, index, dups, path, findings)
        if record is not None:
            records.append(record)
    for attr in ("provider_id", "provider_name", "service_id", "service_name"):
        values.setdefault(attr, "")
    template = Template(records=tuple(records), raw=data, **values)
    return template, findings


def parse_template(source: str | bytes | Mapping[str, Any], *, path: str | None = None) -> Template:
    """Like ``load_template`` but raises ``TemplateError(findings=…)`` on any error-level finding."""
    template, findings = load_template(source, path=path)
    errors = [f for f in findings if f.level == "error"]
    if template is None or errors:
        first = errors[0] if errors else findings[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise TemplateError(f"{first.message}{more}", findings=findings, record_index=first.record_index,
                            field=first.field)
    return template
