"""Storing templates: import from files (the management command), save from the admin, version history.

Every stored change bumps ``Template.version`` (to the template's own ``version`` when that is higher) and
adds a ``TemplateVersion`` row saying what changed. Templates with error-level lint findings are stored
(so the admin can show why) but never enabled. ``Template.disabled_reason`` says why one is off: a template
disabled only by its lint errors is enabled again by the store that fixes them; one disabled by staff (or
``enable=False``) stays off until staff enable it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction

from . import discovery_cache
from .engine.abnf import is_dc_id
from .engine.lint import lint_template, template_files
from .engine.template import load_template
from .engine.types import Finding
from .models import Template, TemplateVersion

LINT = "lint"
STAFF = "staff"
ENABLED_AGAIN = "lint errors fixed, enabled again"
STAYS_DISABLED = ("lint errors fixed; stays disabled (disabled by staff: enable it in the admin or with "
                  "--enable)")

RECORD_SUMMARY_KEYS = ("type", "host", "name", "pointsTo", "data", "target", "spfRules", "groupId")


def canonical_json(body: Any) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(body: Any) -> str:
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def _record_label(record: Any) -> str:
    if not isinstance(record, dict):
        return canonical_json(record)
    parts = [f"{k}={record[k]}" for k in RECORD_SUMMARY_KEYS if k in record]
    return " ".join(parts) or canonical_json(record)


def template_changes(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> list[str]:
    """Human-readable differences between two template bodies (fields, then records added/removed)."""
    if old is None:
        return ["created"]
    out: list[str] = []
    for key in sorted((set(old) | set(new)) - {"records"}):
        if old.get(key) != new.get(key):
            out.append(f"{key}: {canonical_json(old.get(key))} → {canonical_json(new.get(key))}")
    old_records = [canonical_json(r) for r in old.get("records") or []] if isinstance(old.get("records"), list) else []
    new_records = [canonical_json(r) for r in new.get("records") or []] if isinstance(new.get("records"), list) else []
    old_left = list(old_records)
    for i, rec in enumerate(new_records):
        if rec in old_left:
            old_left.remove(rec)
        else:
            out.append(f"record added: {_record_label(new['records'][i])}")
    for rec in old_left:
        out.append(f"record removed: {_record_label(json.loads(rec))}")
    return out


@dataclass
class Prepared:
    """One template source checked and ready to store (or the reason it cannot be stored)."""

    source: str
    body: dict[str, Any] | None = None
    provider_id: str = ""
    service_id: str = ""
    findings: list[Finding] = field(default_factory=list)
    problem: str = ""  # why it cannot be stored at all

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "error"]


def prepare(source: str | bytes | Mapping[str, Any], *, origin: str = "", path: str | None = None) -> Prepared:
    """Parse and lint one template; never raises for bad input. ``path``: the file it was read from (the
    linter also checks file names), ``origin``: what to store as its source."""
    template, findings = load_template(source, path=path)
    if template is not None:
        findings = findings + lint_template(template, path=path)
    prepared = Prepared(source=origin, findings=findings)
    if template is None or not isinstance(template.raw, dict):
        first = findings[0].message if findings else "not a JSON object"
        prepared.problem = f"cannot be read: {first}"
        return prepared
    prepared.body = template.raw
    prepared.provider_id, prepared.service_id = template.provider_id, template.service_id
    if not (is_dc_id(template.provider_id or "") and is_dc_id(template.service_id or "")):
        prepared.problem = "providerId/serviceId missing or not valid dc-ids"
    return prepared


@dataclass
class ImportResult:
    source: str
    status: str  # created, updated, unchanged, skipped
    template: Template | None = None
    detail: str = ""
    findings: list[Finding] = field(default_factory=list)
    note: str = ""  # what happened to the enabled flag when lint errors were fixed (ENABLED_AGAIN/STAYS_DISABLED)


def _body_version(body: Mapping[str, Any]) -> int:
    value = body.get("version")
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _apply_fields(obj: Template, prepared: Prepared, *, enable: bool | None, is_new: bool) -> str:
    """Copy ``prepared`` onto ``obj`` and settle ``enabled``/``disabled_reason``; returns the note."""
    body = prepared.body or {}
    has_errors = bool(prepared.errors)
    had_errors = obj.has_errors and not is_new
    obj.body = body
    obj.provider_name = str(body.get("providerName") or "")[:255]
    obj.service_name = str(body.get("serviceName") or "")[:255]
    obj.source = prepared.source[:500]
    obj.content_hash = content_hash(body)
    obj.record_types = sorted({str(r.get("type", "")).upper() for r in body.get("records") or []
                               if isinstance(r, dict) and r.get("type")})
    obj.lint_findings = [f.to_dict() for f in prepared.findings]
    obj.has_errors = has_errors
    # What the flag would be without errors: the explicit choice, else on for new templates and for those
    # only lint errors kept off, else as it is. A disabled template with no reason was turned off by staff.
    if enable is not None:
        wanted = enable
    elif is_new or (not obj.enabled and obj.disabled_reason == LINT):
        wanted = True
    else:
        wanted = obj.enabled
    staff_off = not wanted and (enable is False or obj.disabled_reason != LINT)
    if has_errors:
        obj.enabled = False
        obj.disabled_reason = STAFF if staff_off else LINT
        return ""
    was_enabled = obj.enabled
    obj.enabled = wanted
    obj.disabled_reason = STAFF if not wanted else ""
    if had_errors and not was_enabled:
        return ENABLED_AGAIN if wanted else STAYS_DISABLED
    return ""


def import_templates(paths: Iterable[str | Path], *, dry_run: bool = False,
                     enable: bool | None = None) -> list[ImportResult]:
    """Import template files/directories in bulk (a handful of queries whatever the count); idempotent.

    ``enable``: ``None`` enables new templates and leaves existing ones as they are; ``True``/``False``
    sets every imported template. Error-level findings → stored, disabled, reason in ``detail``.
    """
    prepared = [prepare(Path(p).read_bytes(), origin=str(p), path=str(p)) for p in template_files(paths)]
    return store_prepared(prepared, dry_run=dry_run, enable=enable)


def store_prepared(prepared: list[Prepared], *, dry_run: bool = False,
                   enable: bool | None = None) -> list[ImportResult]:
    results: list[ImportResult] = []
    seen: dict[tuple[str, str], str] = {}
    keep: list[Prepared] = []
    for p in prepared:
        if p.problem:
            results.append(ImportResult(p.source, "skipped", detail=p.problem, findings=p.findings))
            continue
        ident = (p.provider_id.lower(), p.service_id.lower())
        if ident in seen:
            results.append(ImportResult(p.source, "skipped", findings=p.findings,
                                        detail=f"{p.provider_id}/{p.service_id} also in {seen[ident]}"))
            continue
        seen[ident] = p.source
        keep.append(p)

    existing: dict[tuple[str, str], Template] = {}
    providers = {p.provider_id for p in keep}
    if providers:
        for t in Template.objects.filter(provider_id__in=providers):
            existing[(t.provider_id, t.service_id)] = t
    to_create: list[Template] = []
    to_update: list[Template] = []
    versions: list[tuple[Template, dict[str, Any] | None, Prepared]] = []
    for p in keep:
        current = existing.get((p.provider_id, p.service_id))
        why = f"{len(p.errors)} error(s), not enabled: {p.errors[0].code} {p.errors[0].message}" if p.errors else ""
        if current is None:
            obj = Template(provider_id=p.provider_id, service_id=p.service_id,
                           version=max(_body_version(p.body or {}), 1))
            obj.enabled, obj.disabled_reason = True, ""  # unsaved defaults; _apply_fields decides
            _apply_fields(obj, p, enable=enable, is_new=True)
            to_create.append(obj)
            versions.append((obj, None, p))
            results.append(ImportResult(p.source, "created", obj, why, p.findings))
        elif current.content_hash == content_hash(p.body) and bool(p.errors) != current.has_errors:
            # Same file, new verdict (the linter changed): refresh findings and flag, no new version.
            note = _apply_fields(current, p, enable=enable, is_new=False)
            to_update.append(current)
            results.append(ImportResult(p.source, "updated", current, why, p.findings, note))
        elif current.content_hash == content_hash(p.body):
            before = current.enabled
            if enable is not None and not current.has_errors and current.enabled != enable:
                current.enabled = enable
                current.disabled_reason = "" if enable else STAFF
                to_update.append(current)
            elif enable is False and current.has_errors and current.disabled_reason != STAFF:
                # Still broken, but now also switched off on purpose: a later fix must not enable it.
                current.disabled_reason = STAFF
                to_update.append(current)
            status = "updated" if current.enabled != before else "unchanged"
            results.append(ImportResult(p.source, status, current, why, p.findings))
        else:
            old_body = current.body
            current.version = max(_body_version(p.body or {}), current.version + 1)
            note = _apply_fields(current, p, enable=enable, is_new=False)
            to_update.append(current)
            versions.append((current, old_body, p))
            results.append(ImportResult(p.source, "updated", current, why, p.findings, note))
    if dry_run:
        return results
    fields = ["body", "provider_name", "service_name", "source", "content_hash", "record_types", "lint_findings",
              "has_errors", "enabled", "disabled_reason", "version", "updated_at"]
    with transaction.atomic():
        Template.objects.bulk_create(to_create, batch_size=500)
        if to_update:
            from django.utils import timezone

            now = timezone.now()
            for t in to_update:
                t.updated_at = now
            Template.objects.bulk_update(to_update, fields, batch_size=500)
        TemplateVersion.objects.bulk_create([
            TemplateVersion(template=t, version=t.version, body=t.body, content_hash=t.content_hash,
                            source=t.source, changes=template_changes(old, t.body))
            for t, old, _p in versions
        ], batch_size=500)
        if to_create or to_update:
            discovery_cache.templates_changed()  # bulk writes send no post_save
    return results


def save_template(body: Mapping[str, Any] | str | bytes, *, source: str = "admin",
                  enable: bool | None = None) -> ImportResult:
    """Store one template (admin upload/edit): same rules as an import of one file."""
    return store_prepared([prepare(body, origin=source)], enable=enable)[0]
