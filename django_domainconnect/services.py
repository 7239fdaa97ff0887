"""One function per use case, joining the engine, the backend and the app's state under the zone lock.

Views call these and map the exceptions (``exceptions.py`` and ``engine.errors.EngineError``) to pages or
API responses; no DNS logic lives in views. Queries do not grow with zone size or template count: the
backend is asked only for the names a plan needs, instances are loaded with one prefetch.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError, transaction
from django.db.models import Q
from django.utils import timezone

from . import models, parsed_templates
from .backends import get_backend
from .backends.base import BaseDNSBackend, Zone
from .conf import dc_settings
from .engine import names
from .engine.abnf import is_dc_id
from .engine.errors import EngineError
from .engine.types import AppliedInstance, NameScope, OwnedRecord, Plan, Record
from .exceptions import (
    BackendError,
    ConflictsFound,
    DomainConnectError,
    NotApplied,
    PlanChanged,
    TemplateNotFound,
    ZoneNotAvailable,
)
from .signals import template_applied, template_reverted

logger = logging.getLogger(__name__)

# Never stored in audit rows or instance params (signatures, keys, OAuth material).
# (Template variables may legitimately be called "token" or "code": only protocol names are listed.)
SECRET_PARAMS = frozenset({"sig", "key", "client_secret", "access_token", "refresh_token"})


@dataclass(frozen=True)
class PlanResult:
    """A plan and everything it was computed from (what a consent page shows)."""

    zone: Zone
    template: models.Template
    engine_template: Any  # engine.types.Template
    plan: Plan
    params: dict[str, str]
    group_ids: tuple[str, ...] | None
    instance_id: str | None
    host: str = ""
    records_before: tuple[Record, ...] = field(default=(), compare=False)

    @property
    def fingerprint(self) -> str:
        return self.plan.fingerprint()


@dataclass(frozen=True)
class ApplyOutcome:
    plan_result: PlanResult
    applied: models.AppliedTemplate | None
    audit_event: models.AuditEvent

    @property
    def plan(self) -> Plan:
        return self.plan_result.plan


@dataclass(frozen=True)
class RevertOutcome:
    zone: Zone
    plans: tuple[Plan, ...]
    instance_ids: tuple[str, ...]
    audit_event: models.AuditEvent


# -- lookups ---------------------------------------------------------------------------------------------


def find_template(provider_id: str, service_id: str, *, require_supported: bool = True) -> models.Template:
    """The enabled template with these ids (exact match); ``TemplateNotFound`` otherwise.

    ``require_supported``: the backend must offer every record type the template uses.
    """
    if not (isinstance(provider_id, str) and isinstance(service_id, str)
            and is_dc_id(provider_id) and is_dc_id(service_id)):
        raise TemplateNotFound()
    template = (
        models.Template.objects.filter(provider_id=provider_id, service_id=service_id, enabled=True, has_errors=False)
        .first()
    )
    if template is None:
        raise TemplateNotFound()
    if require_supported and not template.supported_by(get_backend().supported_types):
        raise TemplateNotFound()
    return template


def get_managed_zone(user: Any, domain: str) -> Zone:
    """The zone ``domain`` (U- or A-labels) if ``user`` may change it; one generic error for every "no"."""
    backend = get_backend()
    try:
        normalized = names.normalize_domain(domain)
    except (EngineError, TypeError, AttributeError):
        raise ZoneNotAvailable()
    zone = backend.get_zone(normalized)
    if zone is None or not zone.active or not backend.user_can_manage(user, zone):
        raise ZoneNotAvailable()
    return zone


def _instances_touching(domain: str, scope: NameScope,
                        same: tuple[str, str, str] | None = None) -> list[models.AppliedTemplate]:
    """Instances on ``domain`` owning a record ``scope`` covers (plus, with ``same``, every instance of
    that providerId/serviceId/host), records prefetched: two queries, rows bounded by the scope."""
    # The record condition stays on AppliedRecord (a subquery): OR-ing a joined condition with one on
    # AppliedTemplate makes a LEFT JOIN that keeps PostgreSQL off the name index (benchmarks/FINDINGS.md #10).
    names_q = Q(name__in=list(scope.names))
    for subtree in scope.subtrees:
        names_q |= Q(name=subtree) | Q(name__endswith="." + subtree)
    owning = models.AppliedRecord.objects.filter(names_q, applied__domain=domain).values("applied_id")
    query = Q(pk__in=owning)
    if same is not None:
        query |= Q(provider_id=same[0], service_id=same[1], host=same[2])
    return list(models.AppliedTemplate.objects.filter(query, domain=domain).prefetch_related("records"))


def applied_instances(domain: str) -> list[models.AppliedTemplate]:
    """Applied template instances on ``domain`` with their records prefetched (two queries)."""
    try:
        domain = names.normalize_domain(domain)
    except EngineError:
        return []
    return list(models.AppliedTemplate.objects.filter(domain=domain).prefetch_related("records"))


# -- plan ------------------------------------------------------------------------------------------------


def plan(*, user: Any, domain: str, host: str = "", template: models.Template, params: Mapping[str, str],
         group_ids: Sequence[str] | None = None, instance_id: str | None = None) -> PlanResult:
    """What applying ``template`` would do to the zone now (no lock, nothing written)."""
    zone = get_managed_zone(user, domain)
    return _plan(get_backend(), zone, host=host, template=template, params=params, group_ids=group_ids,
                 instance_id=instance_id)


def _plan(backend: BaseDNSBackend, zone: Zone, *, host: str, template: models.Template,
          params: Mapping[str, str], group_ids: Sequence[str] | None, instance_id: str | None) -> PlanResult:
    from .engine.plan import instance_scope, names_needed, plan_apply

    host = names.normalize_host(host)
    engine_template = parsed_templates.engine_template(template)
    instance_id = _checked_instance_id(zone, template, engine_template, host, instance_id)
    clean = {str(k): str(v) for k, v in params.items()}
    groups = tuple(group_ids) if group_ids else None
    policy = dc_settings.policy()
    needed = names_needed(engine_template, domain=zone.domain, host=host, params=clean, group_ids=groups,
                          policy=policy)
    # Only instances that own a record the plan can touch, or that this apply updates: the cost follows
    # the template, not the zone's applied state.
    rows = _instances_touching(zone.domain, needed, same=(template.provider_id, template.service_id, host))
    instances = [_to_instance(r) for r in rows]
    # Only the names the plan touches, plus those these instances own (never the whole zone).
    scope = _union(needed, instance_scope(instances))
    records = backend.list_records(zone, scope)
    the_plan = plan_apply(
        engine_template, domain=zone.domain, host=host, params=clean, zone=records, instances=instances,
        group_ids=groups, instance_id=instance_id, new_instance_id=instance_id or uuid.uuid4().hex, policy=policy,
    )
    return PlanResult(zone=zone, template=template, engine_template=engine_template, plan=the_plan, params=clean,
                      group_ids=groups, instance_id=instance_id, host=host, records_before=tuple(records))


def _checked_instance_id(zone: Zone, template: models.Template, engine_template: Any, host: str,
                         instance_id: str | None) -> str | None:
    """``instanceId`` names an instance of *this* multiInstance template at *this* host, or a new one.

    Draft Table 16 gives ``instanceId`` meaning only for multiInstance templates: elsewhere it is ignored
    (re-applying is an update of the one instance per host). An id that belongs to another template or
    host on the zone is refused, so a request can never take over an instance it was not granted.
    """
    if instance_id is None or not engine_template.multi_instance:
        return None
    owner = (models.AppliedTemplate.objects.filter(domain=zone.domain, instance_id=instance_id)
             .values_list("provider_id", "service_id", "host").first())
    if owner is not None and owner != (template.provider_id, template.service_id, host):
        raise EngineError(f"instanceId '{instance_id}' names an instance of another template or host on this "
                          "zone: send the id this template returned for this host, or none to add an instance",
                          code="invalid_instance", field="instanceId")
    return instance_id


# -- apply -----------------------------------------------------------------------------------------------


def apply(*, user: Any, domain: str, host: str = "", template: models.Template, params: Mapping[str, str],
          group_ids: Sequence[str] | None = None, instance_id: str | None = None, flow: str,
          expected_fingerprint: str | None = None, force: bool = True, client_id: str | None = None,
          grant_id: int | None = None, remote_addr: str | None = None) -> ApplyOutcome:
    """Apply ``template`` under the zone lock; re-plans on the zone as it is now.

    Raises ``PlanChanged`` when ``expected_fingerprint`` no longer matches, ``ConflictsFound`` when
    ``force`` is false and the plan removes anything, ``ZoneNotAvailable``, ``BackendError`` or an
    ``EngineError``. On any failure nothing is changed and a failure audit row is written.
    """
    audit = _AuditContext(user=user, flow=flow, action="apply", domain=domain, host=host,
                          provider_id=template.provider_id, service_id=template.service_id,
                          template_version=template.version, instance_id=instance_id or "", params=params,
                          client_id=client_id, grant_id=grant_id, remote_addr=remote_addr)
    try:
        zone = get_managed_zone(user, domain)
        audit.domain = zone.domain
        backend = get_backend()
        with transaction.atomic():
            _bound_lock_wait()
            with backend.lock(zone):
                _recheck_owner(backend, user, zone)
                result = _plan(backend, zone, host=host, template=template, params=params, group_ids=group_ids,
                               instance_id=instance_id)
                audit.host = result.host
                audit.before = result.records_before
                if expected_fingerprint is not None and result.fingerprint != expected_fingerprint:
                    raise PlanChanged(result)
                if not force and result.plan.has_conflicts:
                    raise ConflictsFound(result)
                the_plan = result.plan
                applied = _store_apply(the_plan, template=template, user=user, flow=flow, client_id=client_id,
                                       grant_id=grant_id, params=result.params)
                event = audit.write(success=True, plan=the_plan,
                                    instance_id=the_plan.new_instance.instance_id if the_plan.new_instance else "")
                # Last, so a database failure above never leaves the zone written without state.
                _write(backend, zone, the_plan)
    except DatabaseError as exc:
        raise _database_failure(audit, exc) from exc
    except Exception as exc:
        audit.write_failure(exc)
        raise
    outcome = ApplyOutcome(plan_result=result, applied=applied, audit_event=event)
    transaction.on_commit(lambda: _send(template_applied, applied=applied, outcome=outcome, user=user, flow=flow))
    return outcome


def _recheck_owner(backend: BaseDNSBackend, user: Any, zone: Zone) -> None:
    """Ownership again under the lock: a transfer racing with the apply must not slip through."""
    if not backend.user_can_manage(user, zone):
        raise ZoneNotAvailable()


def _write(backend: BaseDNSBackend, zone: Zone, the_plan: Plan) -> None:
    if the_plan.is_noop:
        return
    try:
        backend.apply_changes(zone, list(the_plan.to_delete), list(the_plan.to_add))
    except DomainConnectError:
        raise
    except Exception as exc:  # the host's own errors: logged with traceback, surfaced as BackendError
        logger.exception("DOMAINCONNECT: backend failed writing zone %s", zone.domain)
        raise BackendError() from exc


def _bound_lock_wait() -> None:
    """Bound the wait for whichever lock the backend takes (it may lock its own rows, not ``ZoneLock``):
    ``LOCK_TIMEOUT`` as PostgreSQL's ``lock_timeout`` for this transaction only (docs/locking.md)."""
    connection = transaction.get_connection()
    if connection.vendor == "postgresql" and dc_settings.LOCK_TIMEOUT:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('lock_timeout', %s, true)",
                           [f"{int(float(dc_settings.LOCK_TIMEOUT) * 1000)}ms"])


def _send(signal: Any, **kwargs: Any) -> None:
    """Send after COMMIT: the change is done, so a failing receiver (the host's mail or webhook) is logged,
    never turned into an error for a caller who would then retry an apply that happened."""
    for receiver, result in signal.send_robust(sender=models.AppliedTemplate, **kwargs):
        if isinstance(result, Exception):
            logger.error("DOMAINCONNECT: signal receiver %r failed", receiver, exc_info=result)


def _database_failure(audit: _AuditContext, exc: DatabaseError) -> BackendError:
    """A state/audit write or the COMMIT failed: the transaction rolled back, so nothing changed (a clear
    "try again" for the caller, not a 500). Lock timeouts and deadlocks are OperationalErrors too."""
    logger.exception("DOMAINCONNECT: database error during %s on %s", audit.action, audit.domain)
    if getattr(exc.__cause__, "sqlstate", None) == "55P03":  # lock_timeout: another writer holds the zone
        error = BackendError("Another change to this domain is in progress; please try again.",
                             code="temporarily_unavailable")
    else:
        error = BackendError(code="temporarily_unavailable")
    audit.write_failure(error)  # the audit row says what the caller was told; the log has the cause
    return error


def _store_apply(the_plan: Plan, *, template: models.Template, user: Any, flow: str, client_id: str | None,
                 grant_id: int | None, params: Mapping[str, str]) -> models.AppliedTemplate | None:
    domain = the_plan.domain
    _store_instances(domain, [i.instance_id for i in the_plan.removed_instances], the_plan.updated_instances)
    new = the_plan.new_instance
    if new is None:
        return None
    fields = {
        "host": new.host, "provider_id": new.provider_id, "service_id": new.service_id,
        "template_version": template.version, "group_ids": list(new.group_ids),
        "params": _safe_params(dict(new.params) if new.params else params),
        "multi_instance": new.multi_instance, "applied_by_id": getattr(_user_or_none(user), "pk", None),
        "flow": flow, "client_id": client_id or "", "grant_id": grant_id,
    }
    row = (models.AppliedTemplate.objects.filter(domain=domain, instance_id=new.instance_id)
           .prefetch_related("records").first())
    if row is None:
        row = models.AppliedTemplate.objects.create(domain=domain, instance_id=new.instance_id, **fields)
    else:
        same_records = (sorted(_row_key(r) for r in row.records.all()) == sorted(_owned_key(o) for o in new.records))
        if same_records and all(getattr(row, k) == v for k, v in fields.items()):
            return row  # a re-apply that changes nothing (dynamic DNS renewals): leave the state alone
        for key, value in fields.items():
            setattr(row, key, value)
        row.save()
        row.records.all().delete()
    models.AppliedRecord.objects.bulk_create(_record_rows(row, new.records))
    return row


def _store_instances(domain: str, removed: Sequence[str], updated: Sequence[AppliedInstance]) -> None:
    """Delete removed instances and replace the records of trimmed ones in a fixed number of queries."""
    if removed:
        models.AppliedTemplate.objects.filter(domain=domain, instance_id__in=list(removed)).delete()
    if not updated:
        return
    rows = {r.instance_id: r for r in models.AppliedTemplate.objects.filter(
        domain=domain, instance_id__in=[i.instance_id for i in updated])}
    models.AppliedRecord.objects.filter(applied__in=list(rows.values())).delete()
    records: list[models.AppliedRecord] = []
    for inst in updated:
        row = rows.get(inst.instance_id)
        if row is not None:
            row.group_ids = list(inst.group_ids)
            records.extend(_record_rows(row, inst.records))
    models.AppliedRecord.objects.bulk_create(records)
    now = timezone.now()
    for row in rows.values():
        row.updated_at = now
    models.AppliedTemplate.objects.bulk_update(list(rows.values()), ["group_ids", "updated_at"])


def _record_rows(row: models.AppliedTemplate, owned: Iterable[OwnedRecord]) -> list[models.AppliedRecord]:
    return [models.AppliedRecord(applied=row, name=o.record.name, type=o.record.type, ttl=o.record.ttl,
                                 data=o.record.data, essential=o.essential, group_id=o.group_id or "",
                                 spf_rules=o.spf_rules or "", preexisting=o.preexisting)
            for o in owned]


def _owned_key(o: OwnedRecord) -> tuple[Any, ...]:
    r = o.record
    return (r.name, r.type, r.ttl, r.data, o.essential, o.group_id or "", o.spf_rules or "", o.preexisting)


def _row_key(r: models.AppliedRecord) -> tuple[Any, ...]:
    return (r.name, r.type, r.ttl, r.data, r.essential, r.group_id, r.spf_rules, r.preexisting)


# -- revert ----------------------------------------------------------------------------------------------


def revert(*, user: Any, domain: str, host: str = "", provider_id: str, service_id: str,
           instance_id: str | None = None, flow: str, client_id: str | None = None, grant_id: int | None = None,
           remote_addr: str | None = None) -> RevertOutcome:
    """Remove an applied template instance (all matching instances when ``instance_id`` is omitted).

    Only records still as written are removed (the engine decides). ``NotApplied`` when nothing matches.
    """
    from .engine.plan import instance_scope, plan_revert

    audit = _AuditContext(user=user, flow=flow, action="revert", domain=domain, host=host,
                          provider_id=provider_id, service_id=service_id, template_version=None,
                          instance_id=instance_id or "", params={}, client_id=client_id, grant_id=grant_id,
                          remote_addr=remote_addr)
    try:
        zone = get_managed_zone(user, domain)
        audit.domain = zone.domain
        norm_host = names.normalize_host(host)
        audit.host = norm_host
        backend = get_backend()
        with transaction.atomic():
            _bound_lock_wait()
            with backend.lock(zone):
                _recheck_owner(backend, user, zone)
                matching = models.AppliedTemplate.objects.filter(
                    domain=zone.domain, host=norm_host, provider_id=provider_id, service_id=service_id)
                if instance_id is not None:
                    matching = matching.filter(instance_id=instance_id)
                targets = list(matching.prefetch_related("records"))
                if not targets:
                    raise NotApplied()
                audit.template_version = targets[0].template_version
                # The reverted instances' names, and only the other instances owning records there.
                scope = instance_scope(_to_instance(t) for t in targets)
                instances = [_to_instance(r) for r in _instances_touching(zone.domain, scope)]
                before_all = backend.list_records(zone, scope)
                audit.before = tuple(before_all)
                plans: list[Plan] = []
                current = list(before_all)
                for target in targets:
                    inst = _to_instance(target)
                    the_plan = plan_revert(inst, domain=zone.domain, zone=current, instances=instances,
                                           policy=dc_settings.policy())
                    plans.append(the_plan)
                    current = _after(current, the_plan)
                    instances = [i for i in instances if i.instance_id != inst.instance_id]
                    for upd in the_plan.updated_instances:
                        instances = [upd if i.instance_id == upd.instance_id else i for i in instances]
                ids = tuple(t.instance_id for t in targets)
                for the_plan in plans:
                    _store_revert(zone.domain, the_plan)
                models.AppliedTemplate.objects.filter(domain=zone.domain, instance_id__in=ids).delete()
                combined = _combine(zone.domain, norm_host, provider_id, service_id, plans)
                event = audit.write(success=True, plan=combined, instance_id=",".join(ids))
                _write(backend, zone, combined)
    except DatabaseError as exc:
        raise _database_failure(audit, exc) from exc
    except Exception as exc:
        audit.write_failure(exc)
        raise
    outcome = RevertOutcome(zone=zone, plans=tuple(plans), instance_ids=ids, audit_event=event)
    transaction.on_commit(lambda: _send(
        template_reverted, domain=zone.domain, host=norm_host, provider_id=provider_id,
        service_id=service_id, instance_ids=ids, outcome=outcome, user=user, flow=flow))
    return outcome


def _store_revert(domain: str, the_plan: Plan) -> None:
    _store_instances(domain, [i.instance_id for i in the_plan.removed_instances], the_plan.updated_instances)


def _union(a: NameScope, b: NameScope) -> NameScope:
    return NameScope(names=a.names | b.names, subtrees=a.subtrees | b.subtrees)


def _after(records: list[Record], the_plan: Plan) -> list[Record]:
    dropped = {r.key() for r in the_plan.to_delete}
    kept = [r for r in records if r.key() not in dropped]
    return kept + list(the_plan.to_add)


def _combine(domain: str, host: str, provider_id: str, service_id: str, plans: list[Plan]) -> Plan:
    """Several sequential revert plans as one delete/add set against the original zone."""
    if len(plans) == 1:
        return plans[0]
    deleted: dict[tuple[str, str, str], Record] = {}
    added: dict[tuple[str, str, str], Record] = {}
    for p in plans:
        for r in p.to_delete:
            if r.key() in added:
                del added[r.key()]
            else:
                deleted[r.key()] = r
        for r in p.to_add:
            added[r.key()] = r
    return Plan(domain=domain, host=host, provider_id=provider_id, service_id=service_id,
                to_add=tuple(added.values()), to_delete=tuple(deleted.values()),
                removed_instances=tuple(i for p in plans for i in p.removed_instances))


# -- conversions and audit -------------------------------------------------------------------------------


def _to_owned(r: models.AppliedRecord) -> OwnedRecord:
    return OwnedRecord(record=Record(r.name, r.type, r.ttl, r.data), essential=r.essential,  # type: ignore[arg-type]
                       group_id=r.group_id or None, spf_rules=r.spf_rules or None, preexisting=r.preexisting)


def _to_instance(row: models.AppliedTemplate) -> AppliedInstance:
    return AppliedInstance(
        instance_id=row.instance_id, provider_id=row.provider_id, service_id=row.service_id, host=row.host,
        records=tuple(_to_owned(r) for r in row.records.all()),
        multi_instance=row.multi_instance, group_ids=tuple(row.group_ids or ()),
        params=tuple(sorted((str(k), str(v)) for k, v in (row.params or {}).items())),
    )


def _safe_params(params: Mapping[str, Any]) -> dict[str, str]:
    return {_escape(str(k)): _escape(str(v)) for k, v in params.items() if str(k).lower() not in SECRET_PARAMS}


def _user_or_none(user: Any) -> Any:
    return user if user is not None and getattr(user, "is_authenticated", False) and getattr(user, "pk", None) else None


class _AuditContext:
    """Collects what an audit row needs while a use case runs; writes success inside, failure outside."""

    def __init__(self, *, user: Any, flow: str, action: str, domain: str, host: str, provider_id: str,
                 service_id: str, template_version: int | None, instance_id: str, params: Mapping[str, Any],
                 client_id: str | None, grant_id: int | None, remote_addr: str | None) -> None:
        self.user = user
        self.flow = flow
        self.action = action
        self.domain = _escape(str(domain))[:253]
        self.host = _escape(str(host or ""))[:253]
        self.provider_id = provider_id
        self.service_id = service_id
        self.template_version = template_version
        self.instance_id = instance_id
        self.params = _safe_params(params)
        self.client_id = client_id or ""
        self.grant_id = grant_id
        self.remote_addr = remote_addr or None
        self.before: tuple[Record, ...] = ()

    def _row(self, **fields: Any) -> models.AuditEvent:
        user = _user_or_none(self.user)
        return models.AuditEvent.objects.create(
            user=user, username=user.get_username() if user is not None else "", client_id=self.client_id,
            grant_id=self.grant_id, flow=self.flow, domain=self.domain, host=self.host,
            provider_id=self.provider_id, service_id=self.service_id, template_version=self.template_version,
            params=self.params, remote_addr=self.remote_addr, **fields,
        )

    def write(self, *, success: bool, plan: Plan, instance_id: str) -> models.AuditEvent:
        before = list(self.before)
        after = _after(before, plan)
        return self._row(
            action=self.action, outcome=models.AuditEvent.Outcome.SUCCESS, instance_id=instance_id or self.instance_id,
            records_before=[r.to_dict() for r in sorted(before)], records_after=[r.to_dict() for r in sorted(after)],
            detail=_escape(f"deleted {len(plan.to_delete)}, added {len(plan.to_add)}, removed instances "
                           f"{[i.instance_id for i in plan.removed_instances]}"),
        )

    def write_failure(self, exc: BaseException) -> None:
        code = getattr(exc, "code", type(exc).__name__)
        message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        action = "refused" if isinstance(exc, (ZoneNotAvailable, ConflictsFound, PlanChanged)) else self.action
        try:
            self._row(action=action, outcome=models.AuditEvent.Outcome.FAILURE, instance_id=self.instance_id,
                      records_before=[r.to_dict() for r in sorted(self.before)],
                      detail=_escape(f"{self.action}: {code}: {message}"))
        except Exception:  # never mask the original error with an audit failure
            logger.exception("DOMAINCONNECT: could not write the failure audit row")


def _escape(text: str) -> str:
    """One line per audit detail: CR/LF escaped so a value cannot forge log lines."""
    return text.replace("\\", "\\\\").replace("\r", "\\r").replace("\n", "\\n")[:2000]
