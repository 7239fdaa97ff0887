"""Template linter: stable finding codes for template authors, the importer, the admin and the CLI.

``DC1xxx`` are errors (the importer refuses the template), ``DC2xxx`` warnings, ``DC3xxx`` information.
Codes are never renumbered or reused; docs/templates.md lists every one with an example.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from . import abnf
from .errors import HostError
from .names import to_alabel_name
from .template import RECORD_FIELDS, TEMPLATE_FIELDS, load_template
from .types import Finding, Level, Template, TemplateRecord
from .variables import NAMED_VARIABLE_RE, find_variables, has_unterminated_variable

# code -> (level, short title). Structural codes DC1001-DC1009 are produced by template.py.
CODES: dict[str, tuple[Level, str]] = {
    "DC1001": ("error", "file is not UTF-8"),
    "DC1002": ("error", "invalid JSON"),
    "DC1003": ("error", "template or record is not a JSON object"),
    "DC1004": ("error", "duplicated JSON key"),
    "DC1005": ("error", "unknown template field"),
    "DC1006": ("error", "unknown record field"),
    "DC1007": ("error", "wrong JSON type"),
    "DC1008": ("error", "required field missing"),
    "DC1009": ("error", "empty JSON key"),
    "DC1010": ("error", "providerId/serviceId is not a valid dc-id"),
    "DC1011": ("error", "required template value empty"),
    "DC1012": ("error", "field required by the record type is missing or empty"),
    "DC1013": ("error", "file name does not match providerId.serviceId.json"),
    "DC1014": ("error", "duplicate providerId + serviceId"),
    "DC1015": ("error", "invalid version"),
    "DC1016": ("error", "shared without sharedProviderName"),
    "DC1017": ("error", "variable in a field that must be constant"),
    "DC1018": ("error", "logoUrl is not an absolute https URL"),
    "DC1019": ("error", "invalid display name"),
    "DC1020": ("error", "invalid description text"),
    "DC1021": ("error", "invalid sync domain"),
    "DC1022": ("error", "warnPhishing together with syncPubKeyDomain"),
    "DC1023": ("error", "template has no records"),
    "DC1024": ("error", "invalid record type"),
    "DC1025": ("error", "invalid essential value"),
    "DC1026": ("error", "invalid txtConflictMatchingMode"),
    "DC1028": ("error", "CNAME mixed with another record on one host"),
    "DC1029": ("error", "CNAME/NS at the apex without hostRequired"),
    "DC1030": ("error", "invalid number (ttl, priority, weight, port)"),
    "DC1031": ("error", "invalid SRV protocol or service"),
    "DC1033": ("error", "spfRules starts with v=spf1"),
    "DC1034": ("error", "spfRules contains an all mechanism"),
    "DC1035": ("error", "spfRules contains an unknown mechanism"),
    "DC1036": ("error", "spfRules repeats redirect= or exp="),
    "DC1037": ("error", "unterminated variable"),
    "DC1038": ("error", "invalid host name characters"),
    "DC1039": ("error", "pointsTo/target is not a host name"),
    "DC1040": ("error", "A/AAAA pointsTo is not an IP address or variable"),
    "DC1041": ("error", "A/AAAA pointsTo has the wrong address family"),
    "DC1042": ("error", "TXT character-string longer than 255 octets"),
    "DC1044": ("error", "groupId is not a valid dc-id"),
    "DC2001": ("warning", "file name matches only after lower-casing the ids"),
    "DC2002": ("warning", "whitespace or empty entry in syncRedirectDomain"),
    "DC2003": ("warning", "multiInstance with a CNAME at the apex"),
    "DC2004": ("warning", "variable CNAME/NS without signing or syncBlock"),
    "DC2005": ("warning", "txtConflictMatchingPrefix missing or not printable ASCII"),
    "DC2006": ("warning", "spfRules has redirect= or an unknown modifier"),
    "DC2007": ("warning", "odd characters inside %…%"),
    "DC2008": ("warning", "@ inside a longer host or pointsTo"),
    "DC2009": ("warning", "TXT data longer than 255 octets will be split"),
    "DC2010": ("warning", "duplicate record"),
    "DC2011": ("warning", "SRV protocol not in the draft's list"),
    "DC2012": ("warning", "record owner and target are both bare variables"),
    "DC2013": ("warning", "empty logoUrl"),
    "DC3001": ("info", "no version"),
    "DC3002": ("info", "sharedProviderName without the deprecated shared flag"),
    "DC3003": ("info", "neither syncPubKeyDomain nor syncBlock"),
    "DC3004": ("info", "all records share one groupId"),
    "DC3005": ("info", "hostRequired without a CNAME/NS at the apex"),
    "DC3006": ("info", "field not used by this record type"),
    "DC3007": ("info", "number given as a string"),
    "DC3008": ("info", "bare variable in host or pointsTo"),
    "DC3009": ("info", "SPF in a TXT record (use SPFM)"),
    "DC3010": ("info", "non-standard record type"),
    "DC3011": ("info", "underscore label not in the RFC 8552 registry"),
    "DC3012": ("info", "%host% used in a record"),
    "DC3013": ("info", "APEXCNAME/REDIR301/REDIR302 are not widely supported"),
    "DC3014": ("info", "some records have a groupId and others not"),
}

CORE_TYPES = frozenset({"A", "AAAA", "CNAME", "MX", "TXT", "SRV", "SPFM", "NS"})
PSEUDO_TYPES = frozenset({"APEXCNAME", "REDIR301", "REDIR302"})

# Fields a record of each type needs (Table 3; REDIR/APEXCNAME as the public schema has them).
REQUIRED_BY_TYPE: dict[str, tuple[str, ...]] = {
    "A": ("host", "pointsTo", "ttl"),
    "AAAA": ("host", "pointsTo", "ttl"),
    "CNAME": ("host", "pointsTo", "ttl"),
    "NS": ("host", "pointsTo", "ttl"),
    "MX": ("host", "pointsTo", "ttl", "priority"),
    "TXT": ("host", "data", "ttl"),
    "SRV": ("name", "target", "ttl", "priority", "protocol", "service", "weight", "port"),
    "SPFM": ("host", "spfRules"),
    "REDIR301": ("target",),
    "REDIR302": ("target",),
    "APEXCNAME": ("pointsTo", "ttl"),
}
OTHER_TYPE_REQUIRED = ("host", "data", "ttl")
# Fields that may be present besides the required ones.
OPTIONAL_BY_TYPE: dict[str, tuple[str, ...]] = {
    "TXT": ("txtConflictMatchingMode", "txtConflictMatchingPrefix"),
    "REDIR301": ("host", "ttl"),
    "REDIR302": ("host", "ttl"),
    "APEXCNAME": ("host",),
}
ALWAYS_ALLOWED = frozenset({"type", "groupId", "essential"})
# Fields whose empty string is as bad as a missing field ("host" and SRV "name" may be "" = the apex).
MUST_BE_NON_EMPTY = frozenset({"pointsTo", "data", "target", "spfRules", "protocol", "service", "ttl",
                               "priority", "weight", "port"})

# Checked for %…% syntax in every record.
VARIABLE_FIELDS = ("host", "name", "pointsTo", "data", "txtConflictMatchingPrefix", "service", "protocol",
                   "target", "spfRules", "ttl", "priority", "weight", "port")

MAX_TTL = 2**31 - 1
NUMBER_LIMITS = {"ttl": MAX_TTL, "priority": 65535, "weight": 65535, "port": 65535}

SPF_MECHANISMS = frozenset({"all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists"})
SPF_MODIFIER_RE = re.compile(r"([A-Za-z][A-Za-z0-9_.-]*)=(.*)")

# Underscore node names of the IANA "Underscored and Globally Scoped DNS Node Names" registry (RFC 8552).
RFC8552_NAMES = frozenset({
    "_acct", "_acme-challenge", "_dane", "_dccp", "_dmarc", "_dns", "_domainkey", "_email", "_ems", "_fax",
    "_ft", "_h323", "_http", "_https", "_iax", "_ical-access", "_ical-sched", "_ifax", "_im", "_ipv6",
    "_ldap", "_mms", "_mta-sts", "_ocsp", "_openpgpkey", "_pres", "_pstn", "_sctp", "_sip", "_smimecert",
    "_sms", "_spf", "_sztp", "_ta", "_tcp", "_tls", "_udp", "_unifmsg", "_validation-contactemail",
    "_validation-contactphone", "_vcard", "_videomsg", "_voice", "_voicemsg", "_vouch", "_vpim", "_web",
    "_xmpp", "_domainconnect",
})

# Well-known public suffixes (a small, deliberate subset of the Public Suffix List: the ICANN second-level
# suffixes most often seen and the shared-hosting suffixes where anyone can register a subdomain). A sync
# domain equal to one of them would let every customer of that host pass the redirect check.
PUBLIC_SUFFIXES = frozenset({
    "co.uk", "org.uk", "me.uk", "ac.uk", "gov.uk", "com.au", "net.au", "org.au", "co.nz", "co.jp", "ne.jp",
    "or.jp", "co.kr", "com.br", "com.cn", "com.mx", "com.ar", "com.tr", "co.za", "co.in", "com.sg", "com.hk",
    "com.tw", "co.il", "com.pl", "com.ua", "com.es", "co.id", "com.my", "com.ph", "com.vn",
    "github.io", "gitlab.io", "herokuapp.com", "herokudns.com", "azurewebsites.net", "cloudapp.net",
    "azurestaticapps.net", "trafficmanager.net", "blob.core.windows.net", "cloudfront.net", "amazonaws.com",
    "s3.amazonaws.com", "elasticbeanstalk.com", "appspot.com", "web.app", "firebaseapp.com", "blogspot.com",
    "netlify.app", "vercel.app", "now.sh", "pages.dev", "workers.dev", "fly.dev",
    "onrender.com", "glitch.me", "repl.co", "wixsite.com", "myshopify.com",
    "webflow.io", "surge.sh", "bitbucket.io", "readthedocs.io", "ngrok.io", "ngrok-free.app",
    "duckdns.org", "dyndns.org", "r2.dev", "digitaloceanspaces.com",
})
# Names that never resolve publicly (RFC 6761, RFC 6762, RFC 8375, ICANN SAC113 and common private use).
INTERNAL_TLDS = frozenset({"lan", "local", "internal", "localhost", "localdomain", "home", "corp", "intranet",
                           "private", "test", "invalid", "example", "onion", "alt"})


def _finding(code: str, message: str, *, record: int | None = None, field: str | None = None,
             path: str | None = None) -> Finding:
    return Finding(code, CODES[code][0], message, record_index=record, field=field, path=path)


class _Linter:
    """One lint run over one template; collects findings in ``self.out``."""

    def __init__(self, template: Template, path: str | None) -> None:
        self.t = template
        self.path = path
        self.out: list[Finding] = []
        # Values by JSON key, taken from the attributes so programmatically built templates lint the same.
        self.fields = _present(template, TEMPLATE_FIELDS)

    def add(self, code: str, message: str, *, record: int | None = None, field: str | None = None) -> None:
        self.out.append(_finding(code, message, record=record, field=field, path=self.path))

    # ---- template level -------------------------------------------------------------------------

    def run(self) -> list[Finding]:
        t = self.t
        self.ids()
        self.file_name()
        self.version()
        if t.shared and not t.shared_provider_name:
            self.add("DC1016", "'shared' is deprecated and means sharedProviderName: set "
                     "\"sharedProviderName\": true as well", field="shared")
        if t.shared_provider_name and not t.shared:
            self.add("DC3002", "sharedProviderName is set without \"shared\": true; DNS Providers older than "
                     "v2.2 only read 'shared'", field="sharedProviderName")
        for key in ("providerName", "serviceName"):
            self.display_name(key, self.fields.get(key))
        for key in ("description", "variableDescription"):
            self.description(key, self.fields.get(key))
        self.logo()
        self.sync_domains()
        if t.warn_phishing and t.sync_pub_key_domain:
            self.add("DC1022", "warnPhishing and syncPubKeyDomain exclude each other: a signed template cannot "
                     "be phished; remove warnPhishing (or syncPubKeyDomain)", field="warnPhishing")
        if not t.sync_pub_key_domain and not t.sync_block:
            self.add("DC3003", "no syncPubKeyDomain and no syncBlock: anyone can start the synchronous flow "
                     "with any variable values; sign requests (syncPubKeyDomain) where possible")
        if not t.records and (not t.raw or t.raw.get("records") == []):
            self.add("DC1023", "the template has no records: add at least one", field="records")
        self.groups()
        self.records()
        return self.out

    def ids(self) -> None:
        for key in ("providerId", "serviceId"):
            value = self.fields.get(key)
            if not isinstance(value, str):
                continue
            if value == "":
                if self._written_empty(key):
                    self.add("DC1011", f"{key} is empty: set it (a domain name you control is best)", field=key)
            elif not abnf.is_dc_id(value):
                self.add("DC1010", f"{key} '{value}' must be 1-63 characters of letters, digits, '-', '_' and '.'",
                         field=key)
        for key in ("providerName", "serviceName"):
            if self.fields.get(key) == "" and self._written_empty(key):
                self.add("DC1011", f"{key} is empty: set the name users will see", field=key)

    def _written_empty(self, key: str) -> bool:
        # A missing or mistyped field is already reported by template.py (DC1008/DC1007).
        return not self.t.raw or self.t.raw.get(key) == ""

    def file_name(self) -> None:
        if not self.path:
            return
        pid, sid = self.t.provider_id, self.t.service_id
        if not pid or not sid:
            return
        base = Path(self.path).name
        expected = f"{pid}.{sid}.json".lower()
        if base != expected:
            self.add("DC1013", f"file name '{base}' must be '{expected}' (lower-case providerId.serviceId.json)")
        elif f"{pid}.{sid}.json" != base:
            self.add("DC2001", f"providerId/serviceId '{pid}'/'{sid}' contain upper-case letters, so the file "
                     "name matches only after lower-casing; use lower-case ids so case-sensitive lookups agree")

    def version(self) -> None:
        if self.t.version is None and "version" not in self.t.raw:
            self.add("DC3001", "no version: add \"version\": 1 and increase it with every change", field="version")
        elif self.t.version is not None and abnf.DC_VERSION_RE.fullmatch(str(self.t.version)) is None:
            self.add("DC1015", f"version {self.t.version} must be a positive integer (1, 2, …)", field="version")

    def display_name(self, key: str, value: Any) -> None:
        if not isinstance(value, str) or value == "":
            return
        if find_variables(value):
            self.add("DC1017", f"{key} must not contain variables: users must see a fixed name", field=key)
        if len(value) > 255:
            self.add("DC1019", f"{key} is {len(value)} characters long: shorten it to 255 at most", field=key)
        if abnf.BIDI_INVISIBLE_RE.search(value):
            self.add("DC1019", f"{key} contains invisible or bidirectional control characters (e.g. U+202E, "
                     "U+200B) that can disguise the name: remove them", field=key)
        if abnf.NON_ASSIGNABLE_RE.search(value) or abnf.DISPLAY_CONTROL_RE.search(value):
            self.add("DC1019", f"{key} contains control characters: remove them", field=key)

    def description(self, key: str, value: Any) -> None:
        if not isinstance(value, str):
            return
        if len(value) > 2048:
            self.add("DC1020", f"{key} is {len(value)} characters long: shorten it to 2048 at most", field=key)
        if abnf.NON_ASSIGNABLE_RE.search(value):
            self.add("DC1020", f"{key} contains control characters: remove them", field=key)

    def logo(self) -> None:
        url = self.t.logo_url
        if url is None:
            return
        if url == "":
            self.add("DC2013", "logoUrl is empty: remove the field or give an https:// URL", field="logoUrl")
            return
        problem = None
        if url != url.strip() or any(c.isspace() or ord(c) < 0x20 or c == "\\" for c in url):
            problem = "contains whitespace, control characters or backslashes"
        else:
            try:
                parts = urlsplit(url)
            except ValueError:
                parts = None
            if parts is not None and parts.scheme.lower() == "http":
                problem = "uses plain http (the consent page would load it insecurely)"
            elif parts is None or parts.scheme.lower() != "https" or not parts.hostname:
                problem = "is not an absolute https:// URL"
            elif parts.username is not None or parts.password is not None:
                problem = "contains user credentials"
        if problem:
            self.add("DC1018", f"logoUrl '{url}' {problem}: use an absolute https:// URL of an image", field="logoUrl")

    def sync_domains(self) -> None:
        t = self.t
        if t.sync_pub_key_domain is not None:
            self.sync_domain(t.sync_pub_key_domain.strip(), "syncPubKeyDomain", pub_key=True)
        value = t.sync_redirect_domain
        if value is None or value == "":
            return
        entries = value.split(",")
        if any(c.isspace() for c in value) or any(e.strip() == "" for e in entries):
            self.add("DC2002", "syncRedirectDomain should be domain names separated by commas, without spaces or "
                     "empty entries", field="syncRedirectDomain")
        for entry in entries:
            if entry.strip():
                self.sync_domain(entry.strip(), "syncRedirectDomain", pub_key=False)

    def sync_domain(self, value: str, key: str, *, pub_key: bool) -> None:
        def bad(why: str) -> None:
            self.add("DC1021", f"{key} entry '{value}' {why}", field=key)

        if value == "":
            bad("is empty: remove the field or set your domain")
            return
        host = value[1:-1] if value.startswith("[") and value.endswith("]") else value
        try:
            ipaddress.ip_address(host)
        except ValueError:
            pass
        else:
            bad("is an IP address: use a domain name you control")
            return
        if find_variables(value) or "%" in value:
            bad("must not contain variables")
            return
        try:
            name = to_alabel_name(value, what=key, allow_underscore=pub_key)
        except HostError as exc:
            bad(f"is not a valid domain name ({exc.message})")
            return
        labels = name.split(".")
        if len(labels) < 2:
            bad("is a bare top-level domain: use your own domain name")
        elif labels[-1] in INTERNAL_TLDS:
            bad(f"is an internal name ('.{labels[-1]}' never resolves publicly): use a public domain")
        elif ".".join(lbl for lbl in labels if not lbl.startswith("_")) in PUBLIC_SUFFIXES:
            bad("is a public suffix where anyone can register names: use your own domain below it")

    def groups(self) -> None:
        records = self.t.records
        if len(records) < 2:
            return
        ids = [r.group_id for r in records]
        present = [g for g in ids if g is not None]
        if len(present) == len(ids) and len(set(present)) == 1:
            self.add("DC3004", f"all records have groupId '{present[0]}': a single group is the same as no "
                     "groupId; remove it or split the records into groups")
        elif present and len(present) != len(ids):
            self.add("DC3014", "some records have a groupId and others do not: records without one are applied "
                     "with every group; give every record a groupId if that is not intended")

    # ---- record level ---------------------------------------------------------------------------

    def records(self) -> None:
        t = self.t
        owners: dict[tuple[str | None, str], list[tuple[str, int]]] = {}
        seen: dict[tuple, int] = {}
        apex_cname_ns = False
        for rec in t.records:
            rtype = rec.type.upper()
            self.record(rec, rtype)
            host = self._owner(rec, rtype)
            if host is not None:
                owners.setdefault((rec.group_id, host), []).append((rtype, rec.index))
            if rtype in ("CNAME", "NS") and rec.host in ("@", ""):
                apex_cname_ns = True
                if not t.host_required:
                    self.add("DC1029", f"{rtype} at the apex ('{rec.host}') needs \"hostRequired\": true in the "
                             "template (a CNAME/NS cannot live at a zone apex)", record=rec.index, field="host")
                if rtype == "CNAME" and t.multi_instance:
                    self.add("DC2003", "multiInstance with a CNAME at the host root: only one instance can ever "
                             "exist there; drop multiInstance or move the CNAME", record=rec.index, field="host")
            key = (rtype, *sorted((k, str(v)) for k, v in _present(rec, RECORD_FIELDS).items()
                                  if k not in ("type", "ttl", "essential")))
            if key in seen:
                self.add("DC2010", f"record {rec.index} repeats record {seen[key]}: remove one", record=rec.index)
            else:
                seen[key] = rec.index
        for (_group, host), entries in owners.items():
            types = [e[0] for e in entries]
            if "CNAME" in types and len(types) > 1:
                first = next(i for ty, i in entries if ty == "CNAME")
                for ty, i in entries:
                    if i != first:
                        self.add("DC1028", f"{ty} at host '{host}' shares the name with the CNAME of record "
                                 f"{first}: a CNAME cannot coexist with other records; use another host or "
                                 "put them in different groups", record=i, field="host")
        if t.host_required and not apex_cname_ns:
            self.add("DC3005", "hostRequired is set but no CNAME/NS is at the host root: remove hostRequired "
                     "unless the template really only works on a sub-domain", field="hostRequired")

    @staticmethod
    def _owner(rec: TemplateRecord, rtype: str) -> str | None:
        if rtype == "SRV":
            return None  # SRV owners are _service._protocol.name and cannot clash with CNAMEs here
        host = rec.host
        if host is None:
            return "@" if rtype == "APEXCNAME" else None
        low = host.lower()
        return "@" if low in ("", "@") else low

    def record(self, rec: TemplateRecord, rtype: str) -> None:
        i = rec.index
        raw = _present(rec, RECORD_FIELDS)
        if not rec.type and rec.raw and rec.raw.get("type") != "":
            return  # no type, or not a string: reported by template.py, nothing else can be checked
        if not rec.type or abnf.DC_RECORD_TYPE_RE.fullmatch(rec.type) is None:
            if find_variables(rec.type):
                self.add("DC1017", "type must not be a variable: a variable type gives the caller control over "
                         "every record; name the record type", record=i, field="type")
            else:
                self.add("DC1024", f"type '{rec.type}' is not a record type name (e.g. A, CNAME, TXT, TYPE65534)",
                         record=i, field="type")
            return
        if rec.type != rtype:
            self.add("DC1024", f"type '{rec.type}' must be upper case: '{rtype}'", record=i, field="type")
        self.fields_for_type(rec, rtype, raw)
        for key in VARIABLE_FIELDS:
            value = raw.get(key)
            if isinstance(value, str):
                self.variable_syntax(value, i, key)
        for key in ("groupId", "txtConflictMatchingPrefix"):
            value = raw.get(key)
            if isinstance(value, str) and find_variables(value):
                self.add("DC1017", f"{key} must not contain variables", record=i, field=key)
        if rec.group_id is not None and not find_variables(rec.group_id) and not abnf.is_dc_id(rec.group_id):
            self.add("DC1044", f"groupId '{rec.group_id}' must be 1-63 letters, digits, '-', '_' or '.'",
                     record=i, field="groupId")
        if rec.essential is not None and rec.essential not in abnf.ESSENTIAL_VALUES:
            hint = next((v for v in abnf.ESSENTIAL_VALUES if v.lower() == rec.essential.lower()), None)
            self.add("DC1025", f"essential '{rec.essential}' is not valid: use \"Always\" or \"OnApply\""
                     + (f" (values are case-sensitive: '{hint}')" if hint else ""), record=i, field="essential")
        for key in NUMBER_LIMITS:
            if key in raw:
                self.number(raw[key], i, key)
        self.host_field(rec, rtype, raw)
        if rtype in ("A", "AAAA") and rec.points_to:
            self.address(rec.points_to, rtype, i)
        if rtype in ("CNAME", "NS", "MX", "APEXCNAME") and rec.points_to:
            self.target_name(rec.points_to, i, "pointsTo", allow_root=False)
        if rtype == "SRV":
            self.srv(rec)
        if rtype == "TXT":
            self.txt(rec)
        if rtype == "SPFM" and rec.spf_rules:
            self.spf_rules(rec.spf_rules, i)
        self.phishing(rec, rtype, raw)
        if rtype in PSEUDO_TYPES:
            self.add("DC3013", f"{rtype} is not a DNS record type and few DNS Providers support it; the "
                     "template cannot be applied where it is missing", record=i, field="type")
        elif rtype not in CORE_TYPES:
            self.add("DC3010", f"{rtype} is outside the core types (A AAAA CNAME MX TXT SRV SPFM NS): check that "
                     "DNS Providers support it", record=i, field="type")

    def fields_for_type(self, rec: TemplateRecord, rtype: str, raw: dict[str, Any]) -> None:
        required = REQUIRED_BY_TYPE.get(rtype, OTHER_TYPE_REQUIRED)
        for key in required:
            value = raw.get(key)
            if key not in raw:
                if key in rec.raw:
                    continue  # present with the wrong JSON type: reported by template.py
                self.add("DC1012", f"{rtype} records need '{key}': add it", record=rec.index, field=key)
            elif key in MUST_BE_NON_EMPTY and value == "":
                self.add("DC1012", f"'{key}' of this {rtype} record is empty: give it a value",
                         record=rec.index, field=key)
        allowed = ALWAYS_ALLOWED.union(required, OPTIONAL_BY_TYPE.get(rtype, ()))
        for key in raw:
            if key not in allowed:
                self.add("DC3006", f"'{key}' is not used by {rtype} records and will be ignored: remove it",
                         record=rec.index, field=key)

    def variable_syntax(self, value: str, index: int, key: str) -> None:
        if not has_unterminated_variable(value):
            return
        if key in ("spfRules", "data"):
            # SPF macros (%{d}, %%, %_, %-; RFC 7208 §7) are kept literally, never taken for variables.
            value = _SPF_MACRO_RE.sub("", value)
            if not has_unterminated_variable(value):
                return
        rest = NAMED_VARIABLE_RE.sub("", value)
        if rest.count("%") % 2:
            self.add("DC1037", f"'{value}' has a '%' that does not close a variable: write variables as "
                     "%name% (letters, digits, '-' and '_')", record=index, field=key)
        else:
            self.add("DC2007", f"'{value}' has text between '%' signs that is not a variable name (only letters, "
                     "digits, '-' and '_'): it will be kept literally", record=index, field=key)

    def number(self, value: Any, index: int, key: str) -> None:
        if type(value) is bool or not isinstance(value, (int, str)):
            return  # wrong JSON type: already reported by template.py
        limit = NUMBER_LIMITS[key]
        if isinstance(value, str):
            if abnf.is_bare_variable(value):
                return
            if value.strip().isdigit() and value.strip().isascii():
                self.add("DC3007", f"{key} \"{value}\" is a string: write it as a JSON number", record=index,
                         field=key)
                if value != value.strip():
                    self.add("DC1030", f"{key} \"{value}\" has spaces: write a plain number", record=index,
                             field=key)
                    return
                number = int(value)
            else:
                self.add("DC1030", f"{key} \"{value}\" is not a number: write a number (e.g. 3600) or one "
                         "%variable%", record=index, field=key)
                return
        else:
            number = value
        if not 0 <= number <= limit:
            self.add("DC1030", f"{key} {number} is out of range: use 0 to {limit}", record=index, field=key)

    def host_field(self, rec: TemplateRecord, rtype: str, raw: dict[str, Any]) -> None:
        key = "name" if rtype == "SRV" else "host"
        value = raw.get(key)
        for field in (key, "pointsTo", "target", "data"):
            text = raw.get(field)
            if isinstance(text, str) and "%host%" in text:
                self.add("DC3012", "%host% is the host apply parameter, already part of every relative name: "
                         "using it again usually doubles it (use %fqdn% for the full name)",
                         record=rec.index, field=field)
                break
        if not isinstance(value, str) or value in ("", "@"):
            return
        self.name_syntax(value, rec.index, key, code="DC1038", allow_root=False)
        for label in value.rstrip(".").split("."):
            if label.startswith("_") and label.lower() not in RFC8552_NAMES and not find_variables(label):
                self.add("DC3011", f"underscore label '{label}' is not in the RFC 8552 registry: check the name",
                         record=rec.index, field=key)
                break

    def name_syntax(self, value: str, index: int, key: str, *, code: str, allow_root: bool) -> None:
        if allow_root and value == ".":
            return
        original = value
        if "@" in value:
            self.add("DC2008", f"'{value}': '@' means the whole domain only when it is alone; inside a longer "
                     "name use %fqdn% or %domain%", record=index, field=key)
            value = value.replace("@", "x")
        if "%" in value:
            # Check the fixed text around the variables: each variable stands for one plain label part.
            value = NAMED_VARIABLE_RE.sub("v", value)
            if "%" in value:
                return  # reported by variable_syntax
        try:
            to_alabel_name(value, what=key, allow_underscore=True, allow_wildcard=True)
        except HostError as exc:
            reason = exc.message.replace(f"{key} '{value}'", "").lstrip(": ")
            self.add(code, f"{key} '{original}' is not a valid host name ({reason}): use letters, digits, '-', "
                     "'_' and dots, '@' alone for the root, and %variables%", record=index, field=key)

    def target_name(self, value: str, index: int, key: str, *, allow_root: bool) -> None:
        if value == "@":
            return
        self.name_syntax(value, index, key, code="DC1039", allow_root=allow_root)

    def address(self, value: str, rtype: str, index: int) -> None:
        if find_variables(value) or "%" in value:
            return
        try:
            ip = ipaddress.ip_address(value)
        except ValueError:
            self.add("DC1040", f"{rtype} pointsTo '{value}' is not an IP address: write an IPv"
                     f"{'4' if rtype == 'A' else '6'} address or a %variable%", record=index, field="pointsTo")
            return
        if (rtype == "A") != (ip.version == 4):
            self.add("DC1041", f"{rtype} pointsTo '{value}' is an IPv{ip.version} address: use "
                     f"{'an AAAA' if rtype == 'A' else 'an A'} record", record=index, field="pointsTo")

    def srv(self, rec: TemplateRecord) -> None:
        i = rec.index
        if rec.target:
            self.target_name(rec.target, i, "target", allow_root=True)
        for key, value in (("protocol", rec.protocol), ("service", rec.service)):
            if not value:
                continue
            if find_variables(value) or "%" in value:
                self.add("DC1031", f"SRV {key} must not be a variable: name the {key} (e.g. _tcp / _sip)",
                         record=i, field=key)
            elif abnf.DC_UNDERSCORE_LABEL_RE.fullmatch(value) is None:
                self.add("DC1031", f"SRV {key} '{value}' must be one label starting with '_' (e.g. "
                         f"'{'_tcp' if key == 'protocol' else '_sip'}')", record=i, field=key)
            elif key == "protocol" and value.lower() not in abnf.DC_SRV_PROTOCOLS:
                self.add("DC2011", f"SRV protocol '{value}' is not one of _tcp, _udp, _sctp, _dccp: some DNS "
                         "Providers will refuse it", record=i, field=key)

    def txt(self, rec: TemplateRecord) -> None:
        i = rec.index
        data = rec.data
        if data:
            if data.startswith('"'):
                for segment in _QUOTED_RE.findall(data):
                    if _octets(segment) > 255:
                        self.add("DC1042", "a quoted TXT string is longer than 255 octets: split it into several "
                                 "\"…\" \"…\" strings", record=i, field="data")
                        break
            elif _octets(NAMED_VARIABLE_RE.sub("", data)) > 255:
                self.add("DC2009", "TXT data is longer than 255 octets and will be split into several strings; "
                         "split it yourself (\"…\" \"…\") to control where", record=i, field="data")
            if data.lstrip('"').lower().startswith("v=spf1"):
                self.add("DC3009", "SPF in a TXT record replaces the domain's SPF policy: use an SPFM record so "
                         "rules merge with other services", record=i, field="data")
        mode = rec.txt_conflict_matching_mode
        if mode is not None and mode not in abnf.TXT_CONFLICT_MODES:
            self.add("DC1026", f"txtConflictMatchingMode '{mode}' is not valid: use None, All or Prefix",
                     record=i, field="txtConflictMatchingMode")
        prefix = rec.txt_conflict_matching_prefix
        if mode == "Prefix" and not prefix:
            self.add("DC2005", "txtConflictMatchingMode is Prefix but txtConflictMatchingPrefix is missing or "
                     "empty: set the prefix (e.g. \"v=DMARC1\")", record=i, field="txtConflictMatchingPrefix")
        elif prefix and not find_variables(prefix) and abnf.DC_CONFLICT_PREFIX_RE.fullmatch(prefix) is None:
            self.add("DC2005", f"txtConflictMatchingPrefix '{prefix}' has spaces or non-ASCII characters: the "
                     "draft allows printable ASCII only; shorten it to the part before the space",
                     record=i, field="txtConflictMatchingPrefix")

    def spf_rules(self, rules: str, index: int) -> None:
        def add(code: str, message: str) -> None:
            self.add(code, message, record=index, field="spfRules")

        terms = rules.split()
        if terms and terms[0].lower() == "v=spf1":
            add("DC1033", "spfRules must not start with v=spf1: the DNS Provider adds it when merging")
            terms = terms[1:]
        modifiers: set[str] = set()
        for term in terms:
            if find_variables(term):
                continue
            modifier = SPF_MODIFIER_RE.fullmatch(term)
            if modifier:
                name = modifier.group(1).lower()
                if name in ("redirect", "exp"):
                    if name in modifiers:
                        add("DC1036", f"spfRules has more than one {name}= modifier: keep one")
                    elif name == "redirect":
                        add("DC2006", "spfRules has redirect=: merged with other services' rules it only "
                            "applies when nothing else matches; prefer include:")
                    modifiers.add(name)
                else:
                    add("DC2006", f"spfRules has the unknown modifier '{name}=': SPF checkers ignore it")
                continue
            mechanism = re.split(r"[:/]", term.lstrip("+-~?"), maxsplit=1)[0].lower()
            if mechanism == "all":
                add("DC1034", f"spfRules must not contain '{term}': the DNS Provider adds the final all term "
                    "when merging")
            elif mechanism not in SPF_MECHANISMS:
                add("DC1035", f"spfRules term '{term}' is not an SPF mechanism (include, a, mx, ptr, ip4, ip6, "
                    "exists) or modifier")

    def phishing(self, rec: TemplateRecord, rtype: str, raw: dict[str, Any]) -> None:
        i = rec.index
        owner_key = "name" if rtype == "SRV" else "host"
        owner = raw.get(owner_key)
        target_key = {"SRV": "target", "TXT": "data"}.get(rtype, "pointsTo")
        target = raw.get(target_key)
        bare_owner = isinstance(owner, str) and abnf.is_bare_variable(owner)
        bare_target = isinstance(target, str) and abnf.is_bare_variable(target)
        if bare_owner and bare_target and rtype in ("CNAME", "NS", "A", "AAAA", "MX", "SRV"):
            self.add("DC2012", f"both {owner_key} and {target_key} are bare variables: the caller can point any "
                     "name anywhere (e.g. pass any ownership check); fix at least one part of the name",
                     record=i, field=owner_key)
        elif bare_owner or (bare_target and rtype != "TXT"):
            key = owner_key if bare_owner else target_key
            self.add("DC3008", f"{key} is a bare variable: constrain it with fixed text (e.g. %id%.example.com) "
                     "so reviewers and users can see where it points", record=i, field=key)
        if rtype in ("CNAME", "NS") and not self.t.sync_pub_key_domain and not self.t.sync_block:
            if any(isinstance(v, str) and find_variables(v) for v in (rec.host, rec.points_to)):
                self.add("DC2004", f"{rtype} with variables in host or pointsTo, but the template has neither "
                         "syncPubKeyDomain nor syncBlock: anyone can make a link that delegates or aliases the "
                         "user's names; sign requests or set syncBlock", record=i, field="pointsTo")


def _present(obj: Any, fields: Mapping[str, tuple[str, str]]) -> dict[str, Any]:
    """``{json key: value}`` for the attributes of ``obj`` that are set (not ``None``)."""
    out = {}
    for key, (attr, _kind) in fields.items():
        value = getattr(obj, attr, None)
        if value is not None and key != "records":
            out[key] = value
    return out
_QUOTED_RE = re.compile(r'"((?:[^"\\]|\\.)*)"')
_SPF_MACRO_RE = re.compile(r"%(?:\{[A-Za-z][0-9]*r?[-.+,/_=]*\}|[%_-])")
_ESCAPE_RE = re.compile(r"\\(?:[0-9]{3}|.)")


def _octets(text: str) -> int:
    """Length on the wire of presentation-format text: an escape (\\DDD or \\X) is one octet."""
    return len(_ESCAPE_RE.sub("x", text).encode("utf-8"))


def lint_template(source_or_template: Template | str | bytes | Mapping[str, Any], *,
                  path: str | None = None) -> list[Finding]:
    """Every finding for one template (structural ones from ``load_template`` first)."""
    if isinstance(source_or_template, Template):
        template: Template | None = source_or_template
        findings: list[Finding] = []
    else:
        template, findings = load_template(source_or_template, path=path)
    if template is None:
        return findings
    return findings + _Linter(template, path).run()


def template_files(paths: Iterable[str | Path]) -> list[Path]:
    """Files to lint: each path itself, or the ``*.json`` files of a directory (sorted)."""
    files: list[Path] = []
    for entry in paths:
        p = Path(entry)
        if p.is_dir():
            files.extend(sorted(p.glob("*.json")))
        elif p.exists():
            files.append(p)
        else:
            raise FileNotFoundError(f"{p}: no such file or directory")
    return files


def lint_paths(paths: Iterable[str | Path]) -> dict[str, list[Finding]]:
    """Lint files and directories; also reports providerId/serviceId pairs used by more than one file."""
    results: dict[str, list[Finding]] = {}
    owners: dict[tuple[str, str], str] = {}
    for file in template_files(paths):
        name = str(file)
        data = file.read_bytes()
        template, findings = load_template(data, path=name)
        if template is not None:
            findings += _Linter(template, name).run()
            if template.provider_id and template.service_id:
                ident = (template.provider_id.lower(), template.service_id.lower())
                if ident in owners:
                    findings.append(_finding("DC1014", f"providerId/serviceId '{template.provider_id}'/"
                                             f"'{template.service_id}' is already used by {owners[ident]}: "
                                             "each template needs its own serviceId", path=name))
                else:
                    owners[ident] = name
        results[name] = findings
    return results
