"""Which agency is calling: from its client certificate, through the operator's identities file.

With mutual TLS (``tls_client_ca`` set) the server accepts only connections whose
client certificate its CA signed; the certificate's common name (or its SHA-256
fingerprint, for pinning) names an agency in the identities file, which gives its role.
A caller without a certificate (plaintext on loopback, or TLS without a client CA) is
:data:`bekal.access.ANONYMOUS`, or refused, as the file says::

    unauthenticated = "public"      # "public": a training centre's view of what it sends; "refuse"

    [[agency]]
    name = "bnnk-banjarbaru"
    role = "referrer"
    office = "BNNK Banjarbaru"      # as clients' referring_office names it
    common_name = "bnnk-banjarbaru"  # the certificate's subject CN ...
    # fingerprint = "sha256:ab12..."  # ... or its SHA-256 fingerprint

    [[agency]]
    name = "blk-kalsel"
    role = "training_provider"
    provider = "BLK Provinsi Kalsel"  # as courses' blk names it
    common_name = "blk-kalsel"

Identity is proven, never declared: nothing a request says changes who the caller is.
"""

from __future__ import annotations

import hashlib
import ssl
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bekal.access import ANONYMOUS, Principal, Role
from bekal.serve.errors import ConfigError

UNAUTHENTICATED = ("public", "refuse")


class Unknown(Exception):
    """A certificate the identities file does not name, or no certificate where one is required."""


@dataclass(frozen=True)
class Identities:
    """The identities file, read: who each certificate is, and what a caller without one gets."""

    by_name: Mapping[str, Principal] = field(default_factory=dict)  # certificate common name -> agency
    by_fingerprint: Mapping[str, Principal] = field(default_factory=dict)  # "sha256:<hex>" -> agency
    anonymous: Principal | None = ANONYMOUS  # None: callers without a certificate are refused

    def principal(self, auth: Mapping[str, Iterable[bytes]]) -> Principal:
        """The caller of a call with this gRPC auth context. Raises :class:`Unknown`."""
        pem = _first(auth.get("x509_pem_cert"))
        if pem is None:
            if self.anonymous is None:
                raise Unknown("a client certificate is required")
            return self.anonymous
        fingerprint = "sha256:" + hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem.decode())).hexdigest()
        hit = self.by_fingerprint.get(fingerprint)
        if hit is None:
            name = _first(auth.get("x509_common_name"))
            hit = self.by_name.get(name.decode()) if name is not None else None
        if hit is None:
            raise Unknown("the client certificate is not in the server's identities file")
        return hit


def _first(values: Iterable[bytes] | None) -> bytes | None:
    for value in values or ():
        return value
    return None


def read_identities(path: Path | None) -> Identities:
    """The identities file at ``path``; none at all: every caller is anonymous. Raises ConfigError."""
    if path is None:
        return Identities()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"identities file {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"identities file {path}: {exc}") from None
    unauthenticated = data.get("unauthenticated", "public")
    if unauthenticated not in UNAUTHENTICATED:
        raise ConfigError(f"identities file {path}: unauthenticated must be one of {', '.join(UNAUTHENTICATED)}")
    by_name: dict[str, Principal] = {}
    by_fingerprint: dict[str, Principal] = {}
    for i, entry in enumerate(data.get("agency", [])):
        where = f"identities file {path}: agency {i + 1}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: expected a table")
        unknown = set(entry) - {"name", "role", "office", "provider", "common_name", "fingerprint"}
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        try:
            role = Role(entry.get("role"))
        except ValueError:
            raise ConfigError(f"{where}: role must be one of "
                              f"{', '.join(r.value for r in Role if r is not Role.PUBLIC)}") from None
        name = entry.get("name")
        if role is Role.PUBLIC or not isinstance(name, str) or not name:
            raise ConfigError(f"{where}: needs a name and a role other than public")
        if role is Role.REFERRER and not entry.get("office"):
            raise ConfigError(f"{where}: a referrer needs its office (as clients' referring_office names it)")
        if role is Role.TRAINING_PROVIDER and not entry.get("provider"):
            raise ConfigError(f"{where}: a training_provider needs its provider (as courses' blk names it)")
        principal = Principal(name, role, entry.get("office"), entry.get("provider"))
        keys = [("common_name", by_name), ("fingerprint", by_fingerprint)]
        if not any(entry.get(k) for k, _ in keys):
            raise ConfigError(f"{where}: needs common_name or fingerprint to recognise its certificate")
        for key, table in keys:
            value = entry.get(key)
            if value:
                value = str(value).lower() if key == "fingerprint" else str(value)
                if value in table:
                    raise ConfigError(f"{where}: {key} {value!r} is already {table[value].name}'s")
                table[value] = principal
    return Identities(by_name, by_fingerprint, ANONYMOUS if unauthenticated == "public" else None)
