"""``domainconnect apply``: apply a template to a zone file and show the result.

    domainconnect apply --template FILE --zone FILE --domain DOMAIN [--host HOST] [--group-id ID]...
                        [--param NAME=VALUE]... [--supported-types [+]TYPES] [--json]

Without ``--json``: a diff (``-``/``+`` lines, conflicts as ``#`` comments) then the resulting zone. With
``--json``: one object ``{"zone": [...], "to_add": [...], "to_delete": [...]}`` whose records are
``{"name", "type", "ttl", "data"}``. Errors exit non-zero with one message on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import dns.rdatatype

from .abnf import parse_dc_id_list
from .errors import EngineError
from .plan import plan_apply
from .render import PSEUDO_TYPES
from .types import Plan, Policy, Record
from .zonefile import sort_key, write_zone

EXIT_OK = 0
EXIT_FAILURE = 2


class UsageError(EngineError):
    code = "usage"


def add_apply_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "apply", help="apply a template to a zone file and print the changes and the resulting zone",
        description="Apply a Domain Connect template to an RFC 1035 zone file as a DNS Provider would "
                    "(groups, variables, conflicts, SPF merging) and print what changes. The zone file is "
                    "not modified.",
    )
    parser.add_argument("--template", required=True, metavar="FILE", help="the template (JSON)")
    parser.add_argument("--zone", required=True, metavar="FILE", help="the zone (master file; $ORIGIN "
                        "defaults to --domain)")
    parser.add_argument("--domain", required=True, help="the zone apex, e.g. example.com")
    parser.add_argument("--host", default="", help="the sub-domain to apply at (default: the apex)")
    parser.add_argument("--group-id", dest="group_ids", action="append", default=[], metavar="ID",
                        help="apply only this group (repeatable, or comma-separated)")
    parser.add_argument("--param", dest="params", action="append", default=[], metavar="NAME=VALUE",
                        help="a variable value (repeatable)")
    parser.add_argument("--supported-types", metavar="[+]TYPES", default=None,
                        help="comma-separated record types the DNS Provider supports, to narrow the preview "
                             "to a backend's list (default: every DNS record type, TYPEnnn included, and SPFM, "
                             "but not SOA nor the pseudo-types); a leading '+' adds them to the default, e.g. "
                             "+REDIR301,REDIR302,APEXCNAME")
    parser.add_argument("--json", action="store_true", help="print one JSON object: zone, to_add, to_delete")
    parser.set_defaults(func=run_apply)
    return parser


def parse_params(items: list[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"--param '{item}' must look like NAME=VALUE")
        if name in params and params[name] != value:
            raise UsageError(f"--param {name} is given twice with different values")
        params[name] = value
    return params


def data_rdtype(name: str) -> int | None:
    """The RR type number of a type name (mnemonic or RFC 3597 ``TYPEnnn``) that can hold data, else
    ``None`` (unknown names, and meta-types such as ANY, AXFR or OPT)."""
    try:
        rdtype = dns.rdatatype.from_text(name)
    except (dns.rdatatype.UnknownRdatatype, ValueError):
        return None
    if rdtype == dns.rdatatype.NONE or dns.rdatatype.is_metatype(rdtype):
        return None
    return int(rdtype)


def _spellings(name: str, rdtype: int) -> set[str]:
    """``CAA`` also covers ``TYPE257`` and the reverse: templates may use either (RFC 3597)."""
    return {name, dns.rdatatype.to_text(dns.rdatatype.RdataType.make(rdtype)), f"TYPE{rdtype}"}


def default_supported_types(template_types: frozenset[str] = frozenset()) -> frozenset[str]:
    """The CLI previews any record type: the engine's default set plus every type of ``template_types``
    that is a real DNS record type (``TYPEnnn`` included). SOA stays out (a template never writes the
    zone's own SOA) and so do the pseudo-types REDIR301/REDIR302/APEXCNAME: a backend must declare those."""
    extra = {t for t in template_types if (rd := data_rdtype(t)) is not None and rd != dns.rdatatype.SOA}
    return Policy().supported_types | frozenset(extra)


def parse_supported_types(value: str | None, template_types: frozenset[str] = frozenset()) -> frozenset[str]:
    """``--supported-types``: the CLI default (see ``default_supported_types``), a list replacing it
    (a backend's types, to see what that backend would refuse), or ``+list`` adding to it."""
    default = default_supported_types(template_types)
    if value is None:
        return default
    extend = value.startswith("+")
    names = [n.strip().upper() for n in value.removeprefix("+").split(",") if n.strip()]
    if not names:
        raise UsageError("--supported-types needs at least one record type, e.g. A,AAAA,CNAME,TXT")
    chosen: set[str] = set()
    for name in names:
        if name in PSEUDO_TYPES or name == "SPFM":
            chosen.add(name)
            continue
        rdtype = data_rdtype(name)
        if rdtype is None:  # ANY, AXFR, OPT… hold no data
            raise UsageError(f"--supported-types: '{name}' is not a DNS record type nor one of SPFM, "
                             f"{', '.join(sorted(PSEUDO_TYPES))}")
        chosen |= _spellings(name, rdtype)
    return (default | frozenset(chosen)) if extend else frozenset(chosen)


def _read(path: str, what: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{what} {path} is not UTF-8 text") from None
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {exc.strerror or exc}") from None


def compute(args: argparse.Namespace) -> tuple[Plan, list[Record], str]:
    """The plan for ``args`` and the zone after it; raises ``EngineError`` for every bad input."""
    from .template import parse_template
    from .zonefile import read_zone

    parse_supported_types(args.supported_types)  # a usage error first, before reading any file
    template = parse_template(_read(args.template, "template"), path=args.template)
    policy = Policy(supported_types=parse_supported_types(args.supported_types, template.record_types))
    zone = read_zone(_read(args.zone, "zone file"), args.domain)
    group_ids = [g for item in args.group_ids for g in parse_dc_id_list(item, what="--group-id")]
    plan = plan_apply(template, domain=args.domain, host=args.host, params=parse_params(args.params), zone=zone,
                      group_ids=group_ids or None, new_instance_id="cli", policy=policy)
    gone = set(plan.to_delete)
    after = sorted([r for r in zone if r not in gone] + list(plan.to_add), key=sort_key)
    return plan, after, plan.domain


def run_apply(args: argparse.Namespace) -> int:
    try:
        plan, after, domain = compute(args)
    except EngineError as exc:
        print(f"domainconnect apply: error: {exc} [{exc.code}]", file=sys.stderr)
        return EXIT_FAILURE
    if args.json:
        body = {
            "zone": [r.to_dict() for r in after],
            "to_add": [r.to_dict() for r in sorted(plan.to_add, key=sort_key)],
            "to_delete": [r.to_dict() for r in sorted(plan.to_delete, key=sort_key)],
        }
        json.dump(body, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return EXIT_OK
    out = sys.stdout
    for conflict in plan.conflicts:
        out.write(f"# conflict: {_line(conflict.record)}: {conflict.reason}\n")
    for inst in plan.removed_instances:
        out.write(f"# removes applied template {inst.provider_id}/{inst.service_id} (instance {inst.instance_id})\n")
    for warning in plan.warnings:
        out.write(f"# warning: {warning}\n")
    for rec in sorted(plan.to_delete, key=sort_key):
        out.write(f"- {_line(rec)}\n")
    for rec in sorted(plan.to_add, key=sort_key):
        out.write(f"+ {_line(rec)}\n")
    if plan.is_noop:
        out.write("# no changes: the zone already holds these records\n")
    out.write("\n")
    out.write(write_zone(after, domain))
    return EXIT_OK


def _line(rec: Record) -> str:
    return f"{rec.name} {rec.ttl} IN {rec.type} {rec.data}"
