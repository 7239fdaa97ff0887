"""Signed sync apply requests (draft §6.4, §8.3.2.1, §8.3.4): canonical input, key records, RS256.

The canonical input is the *raw* received query string with only the ``sig=`` and ``key=`` pairs
removed — never "everything before ``&sig=``" (a parameter appended after ``&key=`` would then go
unsigned) and never a string rebuilt from decoded parameters (real clients use ``+`` or ``%20`` for
spaces and do not sort). Every failure raises ``SignatureError`` (or ``KeyRecordError`` for a bad key
record set) with a message a Service Provider developer can act on.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import quote, unquote_to_bytes

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from .errors import EngineError, HostError, KeyRecordError, SignatureError
from .names import to_alabel_name
from .query import as_query_bytes, form_decode

MIN_RSA_BITS = 2048  # RFC 7518 §3.3: "A key of size 2048 bits or larger MUST be used"
MAX_RSA_BITS = 8192  # bounds verification cost for a hostile key record
MAX_FRAGMENTS = 32  # an 8192-bit key fits in far fewer 255-octet fragments
MAX_SIG_LENGTH = 4096  # base64 characters; an 8192-bit signature is 1368
SUPPORTED_ALGORITHM = "RS256"
SUPPORTED_KEY_TYPE = "x509"

# dc-key-label (§3): an LDH label or an RFC 8552 underscore label, at most 63 octets.
_KEY_LABEL_RE = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?|_[A-Za-z0-9-]+)")
_B64_RE = re.compile(r"[A-Za-z0-9+/=]+")
_TOKEN_RE = re.compile(r"[A-Za-z0-9-]+")


@dataclass(frozen=True)
class PublicKeyInfo:
    """A reassembled, decoded public key record set (§6.4)."""

    key: rsa.RSAPublicKey
    algorithm: str
    key_type: str
    fragments: int
    der: bytes

    @property
    def bits(self) -> int:
        return self.key.key_size


# ---------------------------------------------------------------------------------------------------
# The query string


def split_signed_query(raw_query: str | bytes) -> tuple[str, str | None, str | None]:
    """``(canonical_query, sig, key)`` from the raw query string as received.

    ``canonical_query`` is the raw query with the ``sig`` and ``key`` pairs removed and nothing else
    touched (order, ``+``/``%20``, empty segments). ``sig`` and ``key`` are percent-decoded (a literal
    ``+`` in ``sig`` stays a ``+``: spaces never occur in base64) or ``None`` when absent. Pass the query
    as bytes (``request.META["QUERY_STRING"].encode("iso-8859-1")``) to keep raw non-ASCII exact; a
    ``str`` is taken as text and UTF-8 encoded. A duplicated ``sig`` or ``key`` is rejected.
    """
    data = as_query_bytes(raw_query)
    kept: list[bytes] = []
    found: dict[str, bytes] = {}
    for segment in data.split(b"&"):
        name_raw = segment.partition(b"=")[0]
        try:
            name = form_decode(name_raw, what="parameter name")
        except EngineError:
            kept.append(segment)  # not ours to judge here; parse_query rejects it
            continue
        if name in ("sig", "key"):
            if name in found:
                raise SignatureError(f"the '{name}' parameter appears more than once; send it exactly once",
                                     field=name)
            found[name] = segment.partition(b"=")[2]
            continue
        kept.append(segment)
    canonical = b"&".join(kept).decode("utf-8", "surrogateescape")
    sig = _decode_param(found["sig"], "sig", plus_is_space=False) if "sig" in found else None
    key = _decode_param(found["key"], "key", plus_is_space=True) if "key" in found else None
    return canonical, sig, key


def _decode_param(raw: bytes, name: str, *, plus_is_space: bool) -> str:
    if plus_is_space:
        raw = raw.replace(b"+", b" ")
    if re.search(rb"%(?![0-9A-Fa-f]{2})", raw):
        raise SignatureError(f"the '{name}' parameter has invalid percent-encoding", field=name)
    try:
        return unquote_to_bytes(raw).decode("ascii")
    except UnicodeDecodeError:
        raise SignatureError(f"the '{name}' parameter must be ASCII", field=name) from None


def check_key_label(key: str) -> str:
    """Validate ``key`` as a single dc-key-label (§3); returns it lower-cased."""
    if not key:
        raise SignatureError("the 'key' parameter is empty; it must name the key record label, e.g. '_dck1'",
                             field="key")
    if len(key) > 63:
        raise SignatureError("the 'key' parameter is longer than 63 octets; it must be one DNS label",
                             field="key")
    if _KEY_LABEL_RE.fullmatch(key) is None:
        raise SignatureError(
            f"the 'key' parameter {key!r} is not a single DNS label (letters, digits, '-', optionally one "
            "leading '_'); it is the label prepended to the template's syncPubKeyDomain, never a full name",
            field="key")
    return key.lower()


def key_lookup_name(key: str, sync_pub_key_domain: str) -> str:
    """``<key>.<syncPubKeyDomain>`` (lower-case A-labels, no trailing dot) after validating both parts."""
    label = check_key_label(key)
    try:
        domain = to_alabel_name(sync_pub_key_domain, what="syncPubKeyDomain", allow_underscore=True)
    except HostError as exc:
        raise SignatureError(f"the template's syncPubKeyDomain is invalid: {exc.message}") from None
    name = f"{label}.{domain}"
    if len(name) > 253:
        raise SignatureError(f"the key record name '{name}' is longer than 253 characters", field="key")
    return name


# ---------------------------------------------------------------------------------------------------
# Key records


def _record_text(record: str | bytes | Sequence[str | bytes], index: int) -> str:
    """One TXT record as text: its character-strings joined without separator (RFC 7208 §3.3 style)."""
    if isinstance(record, (str, bytes)):
        parts: Iterable[str | bytes] = [record]
    else:
        parts = record
    chunks = [p.encode("utf-8") if isinstance(p, str) else bytes(p) for p in parts]
    try:
        return b"".join(chunks).decode("ascii")
    except UnicodeDecodeError:
        raise KeyRecordError(f"key TXT record {index + 1} contains non-ASCII bytes") from None


def _parse_fragment(text: str, index: int) -> tuple[int, str, str, str]:
    """``(p, d, a, t)`` of one dc-pubkey-record; ``a``/``t`` are ``""`` when absent."""
    where = f"key TXT record {index + 1} ({text[:40]!r}{'…' if len(text) > 40 else ''})"
    fields: dict[str, str] = {}
    for item in text.split(","):
        name, eq, value = item.strip().partition("=")
        if not eq:
            raise KeyRecordError(f"{where}: '{item.strip()}' is not a name=value pair; expected "
                                 "'p=<n>,a=RS256,d=<base64>'")
        if name not in ("p", "d", "a", "t"):
            raise KeyRecordError(f"{where}: unknown field '{name}' (only p, d, a and t are defined)")
        if name in fields:
            raise KeyRecordError(f"{where}: field '{name}' appears twice")
        fields[name] = value
    p_text = fields.get("p")
    if p_text is None:
        raise KeyRecordError(f"{where}: the fragment index 'p' is missing")
    if not p_text.isascii() or not p_text.isdigit() or len(p_text) > 4 or int(p_text) < 1:
        raise KeyRecordError(f"{where}: 'p={p_text}' is not a positive decimal fragment index")
    d = fields.get("d")
    if not d:
        raise KeyRecordError(f"{where}: the key data 'd' is missing or empty")
    if _B64_RE.fullmatch(d) is None:
        raise KeyRecordError(f"{where}: 'd' is not standard base64 (A-Z a-z 0-9 + / =)")
    for name in ("a", "t"):
        if name in fields and _TOKEN_RE.fullmatch(fields[name]) is None:
            raise KeyRecordError(f"{where}: '{name}={fields[name]}' is not a valid identifier")
    return int(p_text), d, fields.get("a", ""), fields.get("t", "")


def parse_key_records(txt_rrset: Iterable[str | bytes | Sequence[str | bytes]]) -> PublicKeyInfo:
    """Reassemble and decode the public key from the TXT records at ``<key>.<syncPubKeyDomain>``.

    Each record is a string, bytes, or a sequence of character-strings (joined). Fragments are ordered
    by integer ``p`` (so the answer order does not matter) and must be numbered 1..n; ``a``/``t``
    default to RS256/x509 and must agree across fragments. Raises ``KeyRecordError``.
    """
    records = list(txt_rrset)
    if not records:
        raise KeyRecordError("no key TXT records were found")
    if len(records) > MAX_FRAGMENTS:
        raise KeyRecordError(f"{len(records)} key TXT records: more than the {MAX_FRAGMENTS} fragments accepted")
    fragments = [_parse_fragment(_record_text(rec, i), i) for i, rec in enumerate(records)]
    fragments.sort(key=lambda f: f[0])
    indexes = [f[0] for f in fragments]
    if len(set(indexes)) != len(indexes):
        dup = sorted({i for i in indexes if indexes.count(i) > 1})
        raise KeyRecordError(f"fragment index p={dup[0]} is used by more than one key TXT record")
    if indexes != list(range(1, len(indexes) + 1)):
        missing = sorted(set(range(1, max(indexes) + 1)) - set(indexes))
        raise KeyRecordError(f"key fragments must be numbered p=1..{len(indexes)} without gaps; "
                             f"p={missing[0]} is missing")
    algorithms = {f[2] or SUPPORTED_ALGORITHM for f in fragments}
    key_types = {f[3] or SUPPORTED_KEY_TYPE for f in fragments}
    if len(algorithms) > 1:
        raise KeyRecordError(f"key fragments disagree on the algorithm 'a' ({', '.join(sorted(algorithms))})")
    if len(key_types) > 1:
        raise KeyRecordError(f"key fragments disagree on the key type 't' ({', '.join(sorted(key_types))})")
    algorithm, key_type = algorithms.pop(), key_types.pop()
    if algorithm != SUPPORTED_ALGORITHM:
        raise KeyRecordError(f"key algorithm 'a={algorithm}' is not supported; only RS256 is accepted")
    if key_type != SUPPORTED_KEY_TYPE:
        raise KeyRecordError(f"key type 't={key_type}' is not supported; only x509 is accepted")
    encoded = "".join(f[1] for f in fragments)
    try:
        der = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise KeyRecordError("the joined key data is not valid base64 (check fragment order and padding)") from None
    return PublicKeyInfo(key=_load_rsa_key(der), algorithm=algorithm, key_type=key_type,
                         fragments=len(fragments), der=der)


def _load_rsa_key(der: bytes) -> rsa.RSAPublicKey:
    """A DER SubjectPublicKeyInfo (what SPs publish), or the key of a DER X.509 certificate."""
    key: object
    try:
        key = serialization.load_der_public_key(der)
    except (ValueError, UnsupportedAlgorithm):
        try:
            key = x509.load_der_x509_certificate(der).public_key()
        except (ValueError, UnsupportedAlgorithm):
            raise KeyRecordError("the key data is not a DER SubjectPublicKeyInfo (t=x509)") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise KeyRecordError(f"the published key is not an RSA key ({type(key).__name__}); RS256 needs RSA")
    if key.key_size < MIN_RSA_BITS:
        raise KeyRecordError(f"the RSA key has {key.key_size} bits; at least {MIN_RSA_BITS} are required")
    if key.key_size > MAX_RSA_BITS:
        raise KeyRecordError(f"the RSA key has {key.key_size} bits; at most {MAX_RSA_BITS} are accepted")
    return key


# ---------------------------------------------------------------------------------------------------
# Verification and signing


def decode_sig(sig: str) -> bytes:
    """Base64-decode ``sig`` (standard alphabet, padded — dc-sig); explains the usual mistakes."""
    if not sig:
        raise SignatureError("the 'sig' parameter is empty", field="sig")
    if len(sig) > MAX_SIG_LENGTH:
        raise SignatureError(f"the 'sig' parameter is longer than {MAX_SIG_LENGTH} characters", field="sig")
    if "-" in sig or "_" in sig:
        raise SignatureError("'sig' uses the URL-safe base64 alphabet ('-' or '_'); use standard base64 "
                             "(RFC 4648 §4, '+' and '/') and percent-encode it in the URL", field="sig")
    if " " in sig:
        raise SignatureError("'sig' contains a space: a '+' was probably decoded as a space; percent-encode "
                             "'+' as %2B in the URL", field="sig")
    if _B64_RE.fullmatch(sig) is None:
        raise SignatureError("'sig' contains characters outside standard base64 (A-Z a-z 0-9 + / =)", field="sig")
    if len(sig) % 4:
        raise SignatureError("'sig' is not padded base64 (its length is not a multiple of 4); keep the '=' "
                             "padding and percent-encode it as %3D", field="sig")
    try:
        return base64.b64decode(sig, validate=True)
    except binascii.Error:
        raise SignatureError("'sig' is not valid base64 ('=' padding only at the end)", field="sig") from None


def verify_signature(canonical_query: str | bytes, sig: str,
                     public_key: PublicKeyInfo | rsa.RSAPublicKey) -> None:
    """Verify RS256 (RSASSA-PKCS1-v1_5 + SHA-256) of ``canonical_query``; raises ``SignatureError``."""
    key = public_key.key if isinstance(public_key, PublicKeyInfo) else public_key
    signature = decode_sig(sig)
    if len(signature) != (key.key_size + 7) // 8:
        raise SignatureError(f"'sig' is {len(signature)} bytes but the {key.key_size}-bit key makes "
                             f"{(key.key_size + 7) // 8}-byte signatures: signed with another key?", field="sig")
    try:
        key.verify(signature, as_query_bytes(canonical_query), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise SignatureError(
            "the signature does not match the query: sign the exact query string you send (every parameter "
            "except sig and key, same order and encoding) with the private key of the published key record",
            field="sig") from None


def _load_private_key(private_key_pem: str | bytes) -> rsa.RSAPrivateKey:
    data = private_key_pem.encode("ascii") if isinstance(private_key_pem, str) else private_key_pem
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise SignatureError("the private key is not an RSA key")
    return key


def sign_query(query: str | bytes, private_key_pem: str | bytes) -> str:
    """The standard-base64 RS256 signature of ``query`` (not yet percent-encoded), as an SP makes it."""
    key = _load_private_key(private_key_pem)
    signature = key.sign(as_query_bytes(query), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode("ascii")


def signed_query(query: str, private_key_pem: str | bytes, key: str) -> str:
    """``query&sig=<percent-encoded signature>&key=<key>``: a complete signed apply query string."""
    check_key_label(key)
    sig = quote(sign_query(query, private_key_pem), safe="")
    return f"{query}&sig={sig}&key={key}"


def public_key_txt_records(pem: str | bytes, max_len: int = 255) -> list[str]:
    """TXT record texts (``p=1,a=RS256,d=…``) publishing the key, each at most ``max_len`` characters.

    ``pem`` may be a public or a private RSA key; each returned string is one TXT record.
    """
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    if b"PRIVATE KEY" in data:
        public = _load_private_key(data).public_key()
    else:
        loaded = serialization.load_pem_public_key(data)
        if not isinstance(loaded, rsa.RSAPublicKey):
            raise KeyRecordError("the public key is not an RSA key")
        public = loaded
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    encoded = base64.b64encode(der).decode("ascii")
    records: list[str] = []
    pos = 0
    while pos < len(encoded):
        prefix = f"p={len(records) + 1},a=RS256,d="
        room = max_len - len(prefix)
        if room < 1:
            raise ValueError(f"max_len={max_len} leaves no room for key data")
        records.append(prefix + encoded[pos:pos + room])
        pos += room
    if len(records) > MAX_FRAGMENTS:
        raise ValueError(f"max_len={max_len} needs {len(records)} fragments; at most {MAX_FRAGMENTS} are accepted")
    return records


def verify_signed_query(raw_query: str | bytes, sync_pub_key_domain: str, fetch_key) -> PublicKeyInfo:
    """All of §8.3.4 for a template with ``syncPubKeyDomain``: returns the key that verified.

    ``fetch_key(key, sync_pub_key_domain) -> PublicKeyInfo`` does the DNS part (``dns.get_public_key``
    in the Django layer). An unsigned request, or one with only ``sig`` or only ``key``, is rejected.
    """
    canonical, sig, key = split_signed_query(raw_query)
    if sig is None and key is None:
        raise SignatureError("this template requires a signed request (syncPubKeyDomain is set) but the "
                             "request has neither 'sig' nor 'key'")
    if sig is None or key is None:
        missing = "sig" if sig is None else "key"
        raise SignatureError(f"the signed request has no '{missing}' parameter; send both 'sig' and 'key'",
                             field=missing)
    check_key_label(key)
    public_key = fetch_key(key, sync_pub_key_domain)
    verify_signature(canonical, sig, public_key)
    return public_key
