"""Turning protocol data into safe, honest display values for consent pages (SECURITY.md C.20, C.22, C.23).

Everything here returns plain strings; the templates escape them (no ``|safe`` on protocol data).
Bidi and invisible characters are removed from display text, and names are shown as both U-label and
A-label so a look-alike IDN cannot pass for an ASCII name. The async consent page reuses these helpers.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django_domainconnect.engine.names import to_unicode_name
from django_domainconnect.engine.types import Record
from django_domainconnect.engine.variables import find_variables

# Bidi embeddings/overrides/isolates, marks, zero-width and other invisible format characters.
_INVISIBLE_RE = re.compile(
    "[\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufeff\uffa0]"
)
MAX_DISPLAY_NAME = 255

# Record fields whose values decide where traffic or mail goes: a variable there lets the link's author
# point the user's name at anything (draft §11.2, the phishing scenario). TXT ``data`` is left out: a
# variable verification token there is the common, harmless case.
_TARGET_FIELDS = ("host", "name", "points_to", "target", "spf_rules")


def clean_text(value: Any) -> str:
    """Display text with bidi controls, invisible characters and other control characters removed."""
    text = _INVISIBLE_RE.sub("", str(value if value is not None else ""))
    return "".join(c for c in text if unicodedata.category(c) != "Cc" or c in "\t")


def is_display_name(value: str) -> bool:
    """dc-display-name (§3): 1–255 Unicode code points, none of them a control or noncharacter."""
    if not value or len(value) > MAX_DISPLAY_NAME:
        return False
    for c in value:
        cat = unicodedata.category(c)
        if cat in ("Cc", "Cs", "Cn") or _INVISIBLE_RE.match(c):
            return False
    return True


# Scripts whose letters are routinely passed off as Latin (UTS #39 confusables, simplified), and the
# lower-case letters of them that look like Latin letters in a browser's address bar.
_CONFUSABLE_SCRIPTS = frozenset({"LATIN", "CYRILLIC", "GREEK", "ARMENIAN"})
_LATIN_LOOKALIKES = frozenset("аеорсухіјѕԁһӏԛԝүɡοαιкνρτυхωզհոսօ")


def _script(char: str) -> str:
    return unicodedata.name(char, "UNKNOWN").split(" ")[0]


def looks_deceptive(name: str) -> bool:
    """True when a label mixes Latin/Cyrillic/Greek/Armenian letters, or is made only of non-Latin
    letters that look Latin (``аррӏе`` for ``apple``): the page then points at the A-label."""
    for label in name.split("."):
        letters = [c for c in label if c.isalpha()]
        scripts = {_script(c) for c in letters} & _CONFUSABLE_SCRIPTS
        if len(scripts) > 1:
            return True
        if letters and "LATIN" not in scripts and scripts and all(c in _LATIN_LOOKALIKES for c in letters):
            return True
    return False


@dataclass(frozen=True)
class NameDisplay:
    """A DNS name shown both ways: ``unicode`` for people, ``ascii`` (A-label) for the truth."""

    ascii: str
    unicode: str
    deceptive: bool = False

    @property
    def is_idn(self) -> bool:
        return self.ascii != self.unicode

    def __str__(self) -> str:
        return self.unicode


def name_display(name: str) -> NameDisplay:
    ascii_name = name.rstrip(".").lower()
    shown = clean_text(to_unicode_name(ascii_name))
    return NameDisplay(ascii=ascii_name, unicode=shown, deceptive=shown != ascii_name and looks_deceptive(shown))


def https_logo(url: str | None) -> str | None:
    """The template's logo URL when it is an absolute https URL with a host, else ``None`` (never fetched)."""
    if not url or any(c.isspace() or ord(c) < 0x20 or c == "\\" for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() != "https" or not parts.hostname or "@" in parts.netloc:
        return None
    return url


@dataclass(frozen=True)
class RecordRow:
    """One row of ``_records_table.html``."""

    type: str
    name: NameDisplay
    ttl: int
    data: str
    data_unicode: str | None  # target name as U-label when the data is an IDN host name
    reason: str = ""
    highlight: bool = False
    data_deceptive: bool = False  # the U-label target looks like a Latin name it is not


def _data_unicode(record: Record) -> str | None:
    if record.type in ("CNAME", "NS", "MX", "SRV", "PTR", "DNAME") and "xn--" in record.data:
        shown = " ".join(to_unicode_name(part) if "xn--" in part else part for part in record.data.split(" "))
        return clean_text(shown)
    return None


def record_rows(records: Iterable[Record], *, highlight: bool = False,
                reasons: dict[tuple[str, str, str], str] | None = None) -> list[RecordRow]:
    """Rows for the records table, sorted by owner then type so the page reads like a zone file."""
    rows = []
    for record in sorted(records, key=lambda r: (r.name, r.type, r.data)):
        shown = _data_unicode(record)
        rows.append(RecordRow(
            type=record.type,
            name=name_display(record.name),
            ttl=record.ttl,
            data=clean_text(record.data),
            data_unicode=shown,
            data_deceptive=bool(shown) and looks_deceptive(shown or ""),
            reason=clean_text((reasons or {}).get(record.key(), "")),
            highlight=highlight,
        ))
    return rows


def variables_shape_targets(template: Any) -> bool:
    """True when a request variable decides an owner name, a target or record data (phishing risk)."""
    for record in getattr(template, "records", ()):
        fields = _TARGET_FIELDS if record.type.upper() == "TXT" else (*_TARGET_FIELDS, "data")
        for field in fields:
            value = getattr(record, field, None)
            if isinstance(value, str) and any(v not in ("host", "domain", "fqdn") for v in find_variables(value)):
                return True
    return False
