"""Rendering template records into concrete DNS records (§9, §10.3).

``render_records`` filters groups, substitutes variables in one pass, renders owner names (§9.3) and
validates every record with dnspython, returning presentation-format ``Record`` values. Every failure
raises an ``EngineError`` subclass naming the record index and field; nothing is half-rendered.
"""

from __future__ import annotations

import functools
import re
import socket
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import dns.exception
import dns.ipv4
import dns.ipv6
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.tokenizer

from . import spf
from .conflicts import self_conflict
from .errors import GroupError, HostError, RenderError, UnsupportedTypeError, VariableError
from .names import MAX_NAME, _plain_ascii_name, is_subdomain, normalize_domain, normalize_host, to_alabel_name
from .types import STRING_FIELDS, Policy, Record, Template, TemplateRecord
from .variables import BUILTINS, find_variables, is_prop_value, split_variables, substitute, substitute_parts

PSEUDO_TYPES = frozenset({"REDIR301", "REDIR302", "APEXCNAME"})
# Template fields that may hold variables, by attribute name -> JSON key (for error messages).
_UNDERSCORE_LABEL = re.compile(r"_[A-Za-z0-9-]{1,62}")
_DIGITS = re.compile(r"[0-9]{1,5}")
_DDD = re.compile(r"[0-9]{3}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TTL_DIGITS = re.compile(r"[0-9]{1,10}")
MAX_TXT_RDATA = 65535


class OwnerNameError(HostError, RenderError):
    """A rendered owner name is malformed or outside the zone: a host problem and an invalid record at once,
    so callers catching either class see it (code ``invalid_host``)."""


# Not frozen: built once per rendered record and never stored, hashed or shared beyond one plan, so it can
# take the plain ``__init__`` (a frozen class sets each slot through a descriptor call: twice the cost).
@dataclass(slots=True, eq=True)
class RenderedRecord:
    """One rendered template record. ``record`` is ``None`` only for SPFM, whose ``spf_rules`` (rendered
    and validated) the planner merges into the SPF TXT record at ``name``. Treat it as read-only."""

    record: Record | None
    source: TemplateRecord
    spf_rules: str | None = None
    name: str = ""  # owner name (absolute, trailing dot); set for every record, SPFM included
    ttl: int | None = None  # SPFM only: the TTL for a newly created SPF record

    @property
    def owner(self) -> str:
        return self.record.name if self.record is not None else self.name


def active_records(template: Template, group_ids: Iterable[str] | None) -> list[TemplateRecord]:
    """The active record set (§10.3). Every supplied groupId must match a record (else ``GroupError``)."""
    wanted = [g for g in (group_ids or ()) if g]
    if not wanted:
        return list(template.records)
    unknown = sorted(set(wanted) - template.group_ids)
    if unknown:
        known = ", ".join(sorted(template.group_ids)) or "none"
        raise GroupError(f"groupId {', '.join(repr(g) for g in unknown)} matches no record of this template"
                         f" (its groups: {known})", field="groupId")
    selected = set(wanted)
    return [r for r in template.records if r.group_id is None or r.group_id in selected]


_NO_NAMES: frozenset[str] = frozenset()


class _Renderer:
    """Renders the records of one apply request (one domain, host and parameter set)."""

    __slots__ = ("template", "policy", "allow_apex_cname", "domain", "host", "fqdn", "fqdn_dot", "fqdn_len",
                 "min_ttl", "max_ttl", "default_ttl", "bad_values", "values", "apex")

    def __init__(self, template: Template, domain: str, host: str, params: Mapping[str, str],
                 policy: Policy, allow_apex_cname: bool = False) -> None:
        """``domain`` and ``host`` already normalised (``render_records`` does it, with field names);
        ``allow_apex_cname`` admits CNAMEs at the apex even if ``policy`` does not."""
        self.template = template
        self.policy = policy
        self.allow_apex_cname = allow_apex_cname or policy.allow_apex_cname
        self.domain = domain
        self.host = host
        self.fqdn = f"{self.host}.{self.domain}" if self.host else self.domain
        if len(self.fqdn) > MAX_NAME:
            raise HostError(f"'{self.fqdn}' is longer than {MAX_NAME} characters", field="host")
        self.fqdn_dot = self.fqdn + "."  # the owner of every "@" record
        self.fqdn_len = len(self.fqdn) + 1  # with the dot before it: the length a label adds to it
        self.min_ttl, self.max_ttl = min_ttl, max_ttl = policy.min_ttl, policy.max_ttl
        default_ttl = policy.default_ttl
        self.default_ttl = (default_ttl if min_ttl <= default_ttl <= max_ttl
                            else max(min_ttl, min(max_ttl, default_ttl)))  # clamped
        values = str_values(params)
        # Request values that are not dc-prop-values: checked once per value rather than per use, and with
        # none (the usual request) no record needs scanning at all. Built-in names are not request values.
        # is_prop_value(value) for text without escapes, written out (_bad_values checks the rest); a loop,
        # not a join: each C function a plan runs for the first time costs more than the loop.
        self.bad_values = _NO_NAMES
        for value in values.values():
            if "\\" in value or not value.isascii() or not value.isprintable():
                self.bad_values = _bad_values(values)
                break
        # Built-ins go last so a request parameter can never override them (§9.1.2): builtin_values(),
        # written out (one call less per request).
        values["domain"], values["host"], values["fqdn"] = domain, host, self.fqdn
        self.values = values
        self.apex = self.domain + "."

    # -- variables ---------------------------------------------------------------------------------------

    def check_values(self, rec: TemplateRecord) -> None:
        """Every request value a record uses must be a dc-prop-value (§3); missing ones fail later."""
        for attr, key in STRING_FIELDS.items():
            raw = getattr(rec, attr)
            if not isinstance(raw, str) or "%" not in raw:  # no '%': no variable (most fields)
                continue
            for name in find_variables(raw):
                if name in self.bad_values:
                    raise VariableError(
                        f"the value of '{name}' is not a valid property value (printable ASCII or RFC 1035"
                        " escapes only)", record_index=rec.index, field=key)

    def sub(self, text: str, rec: TemplateRecord, field: str) -> str:
        """``substitute(text, self.values, field=field, record_index=rec.index)``, one call less."""
        if "%" not in text:
            return text
        # Split when the record was built (every text the renderers pass in), else now.
        parts = rec.variable_parts.get(text) or split_variables(text)
        if len(parts) == 3 and parts[1] in self.values:  # substitute_parts' first case, one call less
            return parts[0] + self.values[parts[1]] + parts[2]
        return substitute_parts(parts, self.values, field, rec.index)

    # -- names -------------------------------------------------------------------------------------------

    def host_owner(self, rec: TemplateRecord) -> str:
        """``owner(rec.host)``, from the name the record validated when it was built when there is one."""
        literal = rec.literal_host
        if literal == "":
            return self.fqdn_dot
        if literal is not None:
            full = f"{literal}.{self.fqdn_dot}"
            if len(full) <= MAX_NAME + 1:
                return full
        return self.owner(rec.host, rec, "host")  # variables, absolute names, errors

    def owner(self, raw: str | None, rec: TemplateRecord, field: str) -> str:
        """§9.3: "@"/empty = [host.]domain; trailing dot = absolute; else relative to [host.]domain."""
        text = (raw or "").strip()
        if text in ("", "@"):
            return self.fqdn_dot
        for name in find_variables(text) if "%" in text else ():
            value = self.values.get(name)
            if name in BUILTINS or value is None:
                continue
            if "@" in value or "*" in value or value.endswith("."):
                # Only a literal "@" means the apex and only the template may make a name absolute or a
                # wildcard: a request value must not move records elsewhere (SECURITY.md check 51).
                raise OwnerNameError(f"the value of '{name}' ('{value}') may not contain '@' or '*' or end with '.'",
                                code="invalid_host", record_index=rec.index, field=field)
        rendered = self.sub(text, rec, field)
        absolute = text.endswith(".")
        if not absolute and rendered.endswith("."):
            raise OwnerNameError(f"host '{rendered}' has an empty label", record_index=rec.index, field=field)
        try:
            if rendered in ("", "@"):
                return self.fqdn_dot
            name = to_alabel_name(rendered, what=field, allow_underscore=True, allow_wildcard=True)
        except HostError as exc:
            raise OwnerNameError(exc.message, record_index=rec.index, field=field) from None
        full = name if absolute else f"{name}.{self.fqdn}"
        if absolute and not is_subdomain(full, self.domain):
            raise OwnerNameError(f"'{rendered}' is outside the zone {self.domain}", record_index=rec.index, field=field)
        if len(full) > MAX_NAME:
            raise OwnerNameError(f"owner name '{full}' is longer than {MAX_NAME} characters",
                            record_index=rec.index, field=field)
        return full + "."

    def target(self, raw: str | None, rec: TemplateRecord, field: str, *, root_ok: bool = False) -> str:
        """A host name in record data: "@" = [host.]domain, otherwise fully qualified (dot optional)."""
        text = (raw or "").strip()
        if not text:
            raise RenderError(f"{field} is missing", record_index=rec.index, field=field)
        if text == "@":
            return self.fqdn_dot
        if text.endswith(".@"):  # seen in the corpus ("mail.@"): a literal "@" label means [host.]domain
            rendered = f"{self.sub(text[:-2], rec, field)}.{self.fqdn}"
        else:
            rendered = self.sub(text, rec, field)
        if rendered == "." and root_ok:
            return "."
        name = _plain_ascii_name(rendered, True)  # to_alabel_name's own first step, without its call
        if name is not None:
            return name + "."
        try:
            name = to_alabel_name(rendered, what=field, allow_underscore=True)
        except HostError as exc:
            raise RenderError(exc.message, record_index=rec.index, field=field) from None
        return name + "."

    # -- scalar fields ------------------------------------------------------------------------------------

    def ttl(self, rec: TemplateRecord) -> int:
        """Best effort (§6.2 TTL): clamp into policy bounds, default when missing or not a number."""
        raw = rec.ttl
        if type(raw) is int and self.min_ttl <= raw <= self.max_ttl:
            return raw  # the usual case, nothing to substitute or clamp (bool is not ``int`` here)
        if raw is None:  # no TTL (SPFM records, usually): the default, clamped
            return self.default_ttl
        value = None
        if isinstance(raw, int) and not isinstance(raw, bool):
            value = raw
        elif isinstance(raw, str):
            try:
                text = self.sub(raw, rec, "ttl").strip()
            except VariableError:
                text = ""
            if _TTL_DIGITS.fullmatch(text):
                value = int(text)
        if value is None:
            value = self.policy.default_ttl
        return max(self.min_ttl, min(self.max_ttl, value))

    def uint16(self, raw: int | str | None, rec: TemplateRecord, field: str) -> int:
        if raw is None:
            raise RenderError(f"{field} is missing", record_index=rec.index, field=field)
        text = str(raw) if isinstance(raw, int) and not isinstance(raw, bool) else self.sub(str(raw), rec, field)
        text = text.strip()
        if not _DIGITS.fullmatch(text) or int(text) > 65535:
            raise RenderError(f"{field} '{text}' is not an integer from 0 to 65535", record_index=rec.index,
                              field=field)
        return int(text)

    def underscore_label(self, raw: str | None, rec: TemplateRecord, field: str) -> str:
        text = self.sub((raw or "").strip(), rec, field)
        if not _UNDERSCORE_LABEL.fullmatch(text):
            raise RenderError(f"{field} '{text}' must be one label starting with '_' (e.g. _sip, _tcp)",
                              record_index=rec.index, field=field)
        return text.lower()

    # -- record data -------------------------------------------------------------------------------------

    def txt_data(self, rec: TemplateRecord, rtype: str = "TXT", owner: str = "") -> str:
        """ARCHITECTURE.md: unquoted data is ONE character-string (split at 255 octets); data starting with
        a quote is presentation format, and request values inside it can never close a string."""
        raw = rec.data or ""
        if raw.startswith('"'):
            values = {k: (v if k in BUILTINS else _escape_quotes(v)) for k, v in self.values.items()}
            text = substitute(raw, values, field="data", record_index=rec.index)
            return self.rdata("TXT", text, rec, "data").to_text()
        # sub(), written out for no variable or one: one call less per record
        if "%" not in raw:
            text = raw
        elif (parts := rec.variable_parts.get(raw)) is not None and len(parts) == 3 and (
                value := self.values.get(parts[1])) is not None:
            text = parts[0] + value + parts[2]
        else:
            text = self.sub(raw, rec, "data")
        if len(text) <= 255 and "\\" not in text and '"' not in text and text.isascii() and text.isprintable():
            # One string of printable ASCII without '"' or '\\' (the usual case): its octets are its characters
            # and quote_strings would write them as they are.
            return f'"{text}"'
        octets = _unescape(text)
        if len(octets) <= 255:
            return spf.quote_strings([octets])  # one string (the usual case): nothing to split or to count
        chunks = [octets[i:i + 255] for i in range(0, len(octets), 255)]
        if sum(len(c) + 1 for c in chunks) > MAX_TXT_RDATA:
            raise RenderError("TXT data is longer than 65535 octets", record_index=rec.index, field="data")
        return spf.quote_strings(chunks)

    def rdata(self, rtype: str, text: str, rec: TemplateRecord, field: str) -> dns.rdata.Rdata:
        """Parse presentation data with dnspython, refusing anything it would silently drop."""
        if _CONTROL.search(text):
            raise RenderError("data contains a control character (newline, tab…)", record_index=rec.index,
                              field=field)
        if ";" in text:  # only a ';' can start a comment (control characters are refused above)
            _reject_comments(text, rec, field)
        try:
            rdtype = dns.rdatatype.from_text(rtype)
            return dns.rdata.from_text(dns.rdataclass.IN, rdtype, text, origin=dns.name.from_text(self.fqdn),
                                       relativize=False)
        except (dns.exception.DNSException, ValueError, TypeError) as exc:
            raise RenderError(f"'{text}' is not valid {rtype} data ({exc})", record_index=rec.index,
                              field=field) from None

    def render(self, rec: TemplateRecord) -> RenderedRecord:
        rtype = rec.rtype
        if rtype == "SRV":
            return self.render_srv(rec)
        # host_owner(rec), written out for its two usual cases (one call less per record).
        literal = rec.literal_host
        if literal == "":
            owner = self.fqdn_dot
        elif literal is not None and len(literal) + self.fqdn_len <= MAX_NAME:
            owner = f"{literal}.{self.fqdn_dot}"
        else:
            owner = self.host_owner(rec)
        data_of = _DATA_BY_TYPE.get(rtype)
        if data_of is None:
            return (self.render_spfm if rtype == "SPFM" else self.render_other)(rec, rtype, owner)
        data = data_of(self, rec, rtype, owner)
        ttl = rec.ttl  # done(), written out (one call less per record)
        if type(ttl) is not int or not self.min_ttl <= ttl <= self.max_ttl:
            ttl = self.ttl(rec)
        return RenderedRecord(Record(owner, rtype, ttl, data), rec, None, owner, ttl)

    def render_spfm(self, rec: TemplateRecord, rtype: str, owner: str) -> RenderedRecord:
        rules = rec.spf_text if rec.spf_text is not None else self.spf_rules(rec)
        ttl = rec.ttl  # ttl()'s first two tests, written out (SPFM records usually have none: the default)
        if ttl is None:
            ttl = self.default_ttl
        elif type(ttl) is not int or not self.min_ttl <= ttl <= self.max_ttl:
            ttl = self.ttl(rec)
        return RenderedRecord(None, rec, rules, owner, ttl)

    # The data of each type rendered as written (``_DATA_BY_TYPE``); ``render`` adds owner and TTL.

    def redirect_data(self, rec: TemplateRecord, rtype: str, owner: str) -> str:
        target = self.sub((rec.target or rec.points_to or "").strip(), rec, "target")
        if not target or _CONTROL.search(target) or " " in target:
            raise RenderError(f"redirect target '{target}' is empty or has spaces", record_index=rec.index,
                              field="target")
        return target

    def apexcname_data(self, rec: TemplateRecord, rtype: str, owner: str) -> str:
        return self.target(rec.points_to, rec, "pointsTo")

    def address_data(self, rec: TemplateRecord, rtype: str, owner: str) -> str:
        points_to = (rec.points_to or "").strip()
        if points_to == "@":
            raise RenderError(f"'@' cannot be used in pointsTo of an {rtype} record (§9.1.2)",
                              record_index=rec.index, field="pointsTo")
        # sub(), written out for no variable or one (the usual pointsTo): one call less per record
        if "%" not in points_to:
            text = points_to
        elif (parts := rec.variable_parts.get(points_to)) is not None and len(parts) == 3 and (
                value := self.values.get(parts[1])) is not None:
            text = (parts[0] + value + parts[2]).strip()
        else:
            text = self.sub(points_to, rec, "pointsTo").strip()
        if rtype == "A" and _is_canonical_ipv4(text):  # address()'s first test
            return text
        return self.address(rtype, text, rec)

    def alias_data(self, rec: TemplateRecord, rtype: str, owner: str) -> str:
        """CNAME and NS: one host name as data, never at the apex (CNAME only where the policy allows)."""
        text = (rec.points_to or "").strip()
        if rtype == "NS" and text == "@":
            raise RenderError("'@' cannot be used in pointsTo of an NS record: it would delegate to itself",
                              record_index=rec.index, field="pointsTo")
        if owner == self.apex and (rtype == "NS" or not self.allow_apex_cname):
            raise RenderError(f"a {rtype} record cannot be at the zone apex {self.domain}",
                              record_index=rec.index, field="host")
        # target()'s usual cases written out (two calls less per record): "@", or no variable or one giving a
        # plain name ("….@" never does); anything else (and every error) takes target() itself.
        if text == "@":
            return self.fqdn_dot
        if text:
            if "%" not in text:
                rendered = text
            elif (parts := rec.variable_parts.get(text)) is not None and len(parts) == 3 and (
                    value := self.values.get(parts[1])) is not None:
                rendered = parts[0] + value + parts[2]
            else:
                rendered = ""
            if rendered and (name := _plain_ascii_name(rendered, True)) is not None:
                return name + "."
        # target() gives a valid, canonical absolute name: no need to re-parse it.
        return self.target(rec.points_to, rec, "pointsTo")

    def mx_data(self, rec: TemplateRecord, rtype: str, owner: str) -> str:
        return f"{self.uint16(rec.priority, rec, 'priority')} {self.target(rec.points_to, rec, 'pointsTo')}"

    def render_other(self, rec: TemplateRecord, rtype: str, owner: str) -> RenderedRecord:
        """Any other type the policy supports: the data is parsed and written back by dnspython."""
        if rec.data is None:
            raise RenderError(f"a {rtype} record needs 'data'", record_index=rec.index, field="data")
        rdata = self.rdata(rtype, self.sub(rec.data.strip(), rec, "data"), rec, "data")
        return self.done(rec, owner, dns.rdatatype.to_text(rdata.rdtype), rdata.to_text())

    def spf_rules(self, rec: TemplateRecord) -> str:
        """The rendered, validated ``spfRules`` of an SPFM record, its terms joined by one space."""
        rules = self.sub(rec.spf_rules or "", rec, "spfRules")
        try:
            terms = spf.parse_rules(rules)
        except spf.SpfSyntaxError as exc:
            raise spf.SpfSyntaxError(exc.message, record_index=rec.index, field="spfRules") from None
        return " ".join(t.text() for t in terms)

    def address(self, rtype: str, text: str, rec: TemplateRecord) -> str:
        """Canonical A/AAAA data, parsed directly (as dnspython's rdata classes do, without a tokenizer)."""
        try:
            if rtype == "A":  # address_data() returned a canonical address already: parse and rewrite the rest
                return dns.ipv4.inet_ntoa(dns.ipv4.inet_aton(text))
            return text if _is_canonical_ipv6(text) else _canonical_ipv6(text)
        except (dns.exception.DNSException, ValueError) as exc:
            raise RenderError(f"'{text}' is not an IPv{4 if rtype == 'A' else 6} address ({exc})",
                              record_index=rec.index, field="pointsTo") from None

    def render_srv(self, rec: TemplateRecord) -> RenderedRecord:
        # Owner: _service._protocol.[name.][host.]domain (§6.2); name "" or "@" is the root.
        base = self.owner(rec.name if rec.name is not None else rec.host, rec, "name")
        service = self.underscore_label(rec.service, rec, "service")
        protocol = self.underscore_label(rec.protocol, rec, "protocol")
        owner = f"{service}.{protocol}.{base}"
        if len(owner) - 1 > MAX_NAME:
            raise OwnerNameError(f"owner name '{owner}' is too long", record_index=rec.index, field="name")
        target = self.target(rec.target, rec, "target", root_ok=True)
        data = (f"{self.uint16(rec.priority, rec, 'priority')} {self.uint16(rec.weight, rec, 'weight')} "
                f"{self.uint16(rec.port, rec, 'port')} {target}")
        return self.done(rec, owner, "SRV", data)

    def done(self, rec: TemplateRecord, owner: str, rtype: str, data: str) -> RenderedRecord:
        ttl = rec.ttl
        if type(ttl) is not int or not self.min_ttl <= ttl <= self.max_ttl:  # ttl()'s first test, written out
            ttl = self.ttl(rec)
        return RenderedRecord(Record(owner, rtype, ttl, data), rec, None, owner, ttl)


# The data renderers by upper-case type. SRV (its owner name is built differently), SPFM (no record) and
# any other type (validated by dnspython, which may write its name differently) have renderers of their own.
_DATA_BY_TYPE = {
    "REDIR301": _Renderer.redirect_data,
    "REDIR302": _Renderer.redirect_data,
    "APEXCNAME": _Renderer.apexcname_data,
    "A": _Renderer.address_data,
    "AAAA": _Renderer.address_data,
    "CNAME": _Renderer.alias_data,
    "NS": _Renderer.alias_data,
    "MX": _Renderer.mx_data,
    "TXT": _Renderer.txt_data,
}


def render_records(template: Template, *, domain: str, host: str = "", params: Mapping[str, str],
                   group_ids: Iterable[str] | None = None, policy: Policy = Policy()) -> list[RenderedRecord]:  # noqa: B008
    """Render the active records of ``template`` for one apply request (see module docstring)."""
    domain_n, host_n = normalize_request(domain, host)
    return render_normalized(template, domain_n, host_n, params, group_ids, policy)


def normalize_request(domain: str, host: str) -> tuple[str, str]:
    """The ``domain`` and ``host`` apply parameters normalised, or ``HostError`` naming the field."""
    # normalize_domain's usual case written out (two calls less): a plain name of two labels or more.
    domain_n = _plain_ascii_name(domain, False)
    if domain_n is None or "." not in domain_n:
        try:
            domain_n = normalize_domain(domain)
        except HostError as exc:
            raise HostError(exc.message, field="domain") from None
    if host == "":  # the apex: what normalize_host gives, one call less
        return domain_n, ""
    try:
        return domain_n, normalize_host(host)
    except HostError as exc:
        raise HostError(exc.message, field="host") from None


def render_normalized(template: Template, domain_n: str, host_n: str, params: Mapping[str, str],
                      group_ids: Iterable[str] | None, policy: Policy, *,
                      any_type: bool = False) -> list[RenderedRecord]:
    """``render_records`` for a domain and host ``normalize_request`` gave (the planner has them already).

    ``any_type``: render every type, and CNAMEs at the apex, whatever ``policy`` supports (``names_needed``
    wants the owner names even of a request the plan will refuse; TTL bounds still apply).
    """
    renderer = _Renderer(template, domain_n, host_n, params, policy, any_type)
    if template.host_required and not renderer.host:
        raise HostError("this template must be applied to a sub-domain: the 'host' parameter is required",
                        code="host_required", field="host")
    # No groupId (the usual request): every record, without copying the tuple.
    active = active_records(template, group_ids) if group_ids else template.records
    supported = policy.supported_types
    # Some record's type is unsupported: is it active?
    if not any_type and not template.record_types.issubset(supported):
        for rec in active:
            if rec.rtype not in supported:
                raise UnsupportedTypeError(f"this DNS Provider does not support {rec.rtype} records",
                                           record_index=rec.index, field="type")
    if renderer.bad_values:
        for rec in active:
            renderer.check_values(rec)
    render = renderer.render
    rendered = []  # a loop, not list(map()): two C functions fewer to bring into the caches per plan
    for rec in active:
        rendered.append(render(rec))
    if not template.self_conflict_free:
        _check_self_conflicts(rendered, renderer.apex)
    return rendered


def str_values(params: Mapping[str, Any]) -> dict[str, str]:
    """``{k: str(v) for k, v in params.items()}``: the request values as rendering reads them. A copy when
    every value is a ``str`` already (the usual request, and ``str`` gives such a value back unchanged)."""
    if type(params) is dict:
        for value in params.values():
            if type(value) is not str:
                break
        else:
            return params.copy()
    return {k: str(v) for k, v in params.items()}


def _bad_values(values: Mapping[str, str]) -> set[str]:
    """Names of the request values (built-ins aside) that are not dc-prop-values.

    One match over all values joined by spaces first: a space is a valid value character that no escape
    can include (``\\`` + space is not an escape, ``\\DDD`` takes digits only), so the joined text is
    valid exactly when every value is, and the usual request (all valid) costs one regex call. Built-in names
    are left out only when some value is invalid: when all are valid, the answer is empty either way.
    """
    if is_prop_value(" ".join(values.values())):
        return set()
    return {k for k, v in values.items() if k not in BUILTINS and not is_prop_value(v)}


def _check_self_conflicts(rendered: list[RenderedRecord], apex: str) -> None:
    """Refuse a record set that clashes with itself (§10.4): with owner names from variables, a CNAME can
    land next to another record, or data below the template's own NS. The planner would otherwise write
    both, since it only checks new records against the zone."""
    # SPFM writes a TXT at its owner; its placeholder data is unique, so it never counts as a duplicate.
    records = [(rr.source.index, rr.record or Record(rr.owner, "TXT", 0, f"spfm {rr.source.index}"))
               for rr in rendered]
    clash = self_conflict(records, apex)
    if clash is not None:
        first, second, owner, reason = clash
        raise RenderError(f"records {first} and {second} of this template clash at {owner}: {reason}",
                          code="self_conflict", record_index=second, field="host")


@functools.lru_cache(maxsize=1024)
def _canonical_ipv6(text: str) -> str:
    """dnspython's canonical form of an IPv6 address (raises as it does). Cached: a pure function of the
    text, and the few addresses a provider's templates point at recur in request after request."""
    return dns.ipv6.inet_ntoa(dns.ipv6.inet_aton(text))


def _is_canonical_ipv6(text: str) -> bool:
    """Whether ``text`` is an IPv6 address exactly as ``dns.ipv6.inet_ntoa`` writes it, without dnspython.

    Exact: when ``text`` is what dnspython writes for some address, dnspython parses it back to that
    address and writes ``text`` again, so ``_canonical_ipv6(text) == text``. The C parser only finds the
    address to compare with; any text it refuses takes the full path (and its error).
    """
    try:
        packed = socket.inet_pton(socket.AF_INET6, text)
    except (OSError, ValueError):
        return False
    return _ipv6_text(packed) == text


_FOUR_OCTETS = struct.Struct("!4B")


def _is_canonical_ipv4(text: str) -> bool:
    """Whether ``text`` is an IPv4 address exactly as dnspython writes it (four decimal octets, no leading
    zeros), which it accepts as written. The C parser finds the address, the comparison makes it exact
    whatever the platform's parser tolerates; no regular expression (the regex engine is a lot of code for
    a small plan to bring into the caches, and the IPv6 test below runs the same parser)."""
    try:
        packed = socket.inet_pton(socket.AF_INET, text)
    except (OSError, ValueError):
        return False
    return "%d.%d.%d.%d" % _FOUR_OCTETS.unpack(packed) == text  # noqa: UP031 - printf-style: the cheapest


_EIGHT_WORDS = struct.Struct("!8H")
# The words in hex without leading zeros, ":" on both ends (printf-style: the cheapest int formatting).
_WORDS_TEXT = ":%x:%x:%x:%x:%x:%x:%x:%x:"
# ``_ZERO_RUNS[k]``: k zero words, between colons.
_ZERO_RUNS = tuple(":0" * k + ":" for k in range(9))


def _ipv6_text(packed: bytes) -> str:
    """``dns.ipv6.inet_ntoa(packed)``: lower-case hex words without leading zeros, the first of the longest
    runs of two or more zero words written ``::``, and dnspython's IPv4 forms ``::a.b.c.d`` (six zero words
    first) and ``::ffff:a.b.c.d`` (five, then ffff)."""
    words = _EIGHT_WORDS.unpack(packed)
    text = _WORDS_TEXT % words  # noqa: UP031
    # The longest run: from as many zero words as there are down to two, the first length found. Found at
    # its maximum length, a run is a whole run, and find() gives the first of them (no regex, no max()).
    length = words.count(0)
    while length >= 2:
        start = text.find(_ZERO_RUNS[length])
        if start >= 0:
            break
        length -= 1
    else:
        return text[1:-1]
    if start == 0 and (length == 6 or (length == 5 and words[5] == 0xFFFF)):
        return ("::" if length == 6 else "::ffff:") + ".".join(map(str, packed[12:]))
    return f"{text[1:start]}::{text[start + 2 * length + 1:-1]}"


def _reject_comments(text: str, rec: TemplateRecord, field: str) -> None:
    """dnspython drops everything after an unquoted ';' (a comment): refuse instead of truncating."""
    tok = dns.tokenizer.Tokenizer(text)
    try:
        while True:
            token = tok.get(want_comment=True)
            if token.is_eof():
                return
            if token.is_comment() or token.is_eol():
                raise RenderError("data has an unquoted ';' or a line break: quote it", record_index=rec.index,
                                  field=field)
    except dns.exception.SyntaxError as exc:
        raise RenderError(f"data is not valid presentation format ({exc})", record_index=rec.index,
                          field=field) from None


def _escape_quotes(value: str) -> str:
    """Escape bare '"' in a dc-prop-value, keeping its RFC 1035 escapes intact."""
    out: list[str] = []
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value):
            step = 4 if _DDD.fullmatch(value[i + 1:i + 4]) else 2
            out.append(value[i:i + step])
            i += step
            continue
        out.append('\\"' if ch == '"' else ch)
        i += 1
    return "".join(out)


def _unescape(text: str) -> bytes:
    """Octets of one character-string written with RFC 1035 escapes (\\DDD, \\X); other text as UTF-8."""
    if "\\" not in text:
        return text.encode("utf-8")  # no escape: the loop below would encode character by character
    out = bytearray()
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            digits = text[i + 1:i + 4]
            if _DDD.fullmatch(digits) and int(digits) <= 255:
                out.append(int(digits))
                i += 4
                continue
            out.extend(text[i + 1].encode("utf-8"))
            i += 2
            continue
        out.extend(ch.encode("utf-8"))
        i += 1
    return bytes(out)
