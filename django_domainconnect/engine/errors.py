"""Exceptions raised by the engine. Each carries a stable ``code`` and a message an author can act on."""

from __future__ import annotations


class EngineError(Exception):
    """Base class: ``code`` is stable (tests, API bodies and docs rely on it)."""

    code = "engine_error"

    def __init__(self, message: str, *, code: str | None = None, record_index: int | None = None,
                 field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.record_index = record_index
        self.field = field

    def __str__(self) -> str:
        where = []
        if self.record_index is not None:
            where.append(f"record {self.record_index}")
        if self.field:
            where.append(f"field '{self.field}'")
        prefix = f"{', '.join(where)}: " if where else ""
        return f"{prefix}{self.message}"


class TemplateError(EngineError):
    """The template itself is invalid (JSON, schema, ABNF or an error-level lint finding)."""

    code = "invalid_template"

    def __init__(self, message: str, *, findings: list | None = None, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.findings = list(findings or [])


class VariableError(EngineError):
    """A variable is missing, or a supplied value is not a valid dc-prop-value."""

    code = "invalid_variable"


class GroupError(EngineError):
    """A ``groupId`` was supplied that matches no record of the template (§10.3)."""

    code = "unknown_group"


class HostError(EngineError):
    """``domain``/``host`` parameters, or a rendered owner name, are invalid or outside the zone."""

    code = "invalid_host"


class RenderError(EngineError):
    """A rendered record is not valid DNS data (names the record index and field)."""

    code = "invalid_record"


class UnsupportedTypeError(EngineError):
    """The template needs a record type the backend does not offer."""

    code = "unsupported_type"


class PlanError(EngineError):
    """The plan cannot be computed (e.g. SPF merge impossible and not resolvable as a conflict)."""

    code = "plan_error"


class SignatureError(EngineError):
    """A signed request failed verification; the message says which step failed."""

    code = "invalid_signature"


class KeyRecordError(SignatureError):
    """The public-key TXT record set is malformed (§6.4)."""

    code = "invalid_key_record"
