"""The demo Service Provider's signing key: an RSA key pair made on first use and kept in
``settings.DEMO_DIR`` (``example_project/.demo/``, gitignored). Demo only — never a production key."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings

from django_domainconnect.engine.signatures import public_key_txt_records

# The ``key`` apply parameter: the label under syncPubKeyDomain where the public key is published.
DEMO_KEY_LABEL = "_dck1"
_KEY_FILE = "demo-signing-key.pem"


def demo_dir() -> Path:
    default = Path(__file__).resolve().parent.parent / ".demo"  # example_project/.demo
    return Path(getattr(settings, "DEMO_DIR", default))


def private_key_pem() -> bytes:
    """The demo private key (PKCS#8 PEM), created with mode 0600 the first time it is asked for."""
    path = demo_dir() / _KEY_FILE
    if path.exists():
        return path.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    try:
        # O_EXCL: if two processes race on first use, the loser reads the winner's key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes()
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    return pem


def public_key_records() -> list[str]:
    """The TXT record texts (``p=1,a=RS256,d=…``) publishing the demo public key."""
    return public_key_txt_records(private_key_pem())
