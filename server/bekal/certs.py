"""Certificates for trying mutual TLS on one machine: a private CA, a server certificate, one
client certificate per agency, and the identities file that maps them to roles.

For development and tests only (``bekal certs dev DIR``): a real deployment gets its
certificates from the agencies' own CA, and the operator writes the identities file
(:mod:`bekal.serve.identity`). Keys are EC P-256, written with mode 0600.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class Agency:
    """One caller to make a certificate for, and its line in the identities file."""

    name: str  # also the certificate's common name
    role: str
    office: str | None = None
    provider: str | None = None


DEV_AGENCIES = (
    Agency("bnnk-banjarbaru", "referrer", office="BNNK Banjarbaru"),
    Agency("blk-kalsel", "training_provider", provider="BLK Provinsi Kalsel"),
    Agency("rule-author", "rule_author"),
    Agency("auditor", "auditor"),
    Agency("operator", "operator"),
)


@dataclass(frozen=True)
class DevCerts:
    """Where :func:`make_dev_certs` wrote everything."""

    directory: Path

    @property
    def ca(self) -> Path:
        return self.directory / "ca.pem"

    @property
    def server_cert(self) -> Path:
        return self.directory / "server.pem"

    @property
    def server_key(self) -> Path:
        return self.directory / "server.key"

    @property
    def identities(self) -> Path:
        return self.directory / "identities.toml"

    @property
    def serve_config(self) -> Path:
        """``bekal serve --config`` this file: mutual TLS with these certificates."""
        return self.directory / "serve.toml"

    def cert(self, agency: str) -> Path:
        return self.directory / f"{agency}.pem"

    def key(self, agency: str) -> Path:
        return self.directory / f"{agency}.key"


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "bekal development"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def issue(ca_key: ec.EllipticCurvePrivateKey, ca_cert: x509.Certificate, common_name: str, *, server: bool,
          days: int = 365) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A key and a certificate for ``common_name`` signed by the CA (a server's, or a client's)."""
    key = _key()
    now = datetime.datetime.now(datetime.UTC)
    builder = (x509.CertificateBuilder().subject_name(_name(common_name)).issuer_name(ca_cert.subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True))
    if server:
        builder = builder.add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.IPAddress(ipaddress.ip_address("::1"))]), critical=False)
        usage = ExtendedKeyUsageOID.SERVER_AUTH
    else:
        usage = ExtendedKeyUsageOID.CLIENT_AUTH
    builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    return key, builder.sign(ca_key, hashes.SHA256())


def make_ca(common_name: str = "bekal development CA", days: int = 730
            ) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = _key()
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(_name(common_name)).issuer_name(_name(common_name))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False),
                           critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def identities_toml(agencies: Sequence[Agency], unauthenticated: str = "public") -> str:
    lines = ["# Which client certificate is which agency (bekal serve --identities).",
             f'unauthenticated = "{unauthenticated}"  # callers without a certificate: "public" or "refuse"', ""]
    for agency in agencies:
        lines += ["[[agency]]", f'name = "{agency.name}"', f'role = "{agency.role}"']
        if agency.office:
            lines.append(f'office = "{agency.office}"')
        if agency.provider:
            lines.append(f'provider = "{agency.provider}"')
        lines += [f'common_name = "{agency.name}"', ""]
    return "\n".join(lines)


def make_dev_certs(directory: Path, agencies: Sequence[Agency] = DEV_AGENCIES) -> DevCerts:
    """Write a CA, a server certificate for localhost and a client certificate per agency to ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    out = DevCerts(directory)
    ca_key, ca_cert = make_ca()
    out.ca.write_bytes(_pem(ca_cert))
    _write_key(directory / "ca.key", ca_key)
    key, cert = issue(ca_key, ca_cert, "localhost", server=True)
    out.server_cert.write_bytes(_pem(cert))
    _write_key(out.server_key, key)
    for agency in agencies:
        key, cert = issue(ca_key, ca_cert, agency.name, server=False)
        out.cert(agency.name).write_bytes(_pem(cert))
        _write_key(out.key(agency.name), key)
    out.identities.write_text(identities_toml(agencies), encoding="utf-8")
    out.serve_config.write_text(
        "# bekal serve --config this file: mutual TLS with the development certificates beside it\n[serve]\n"
        f'tls_cert = "{out.server_cert.name}"\ntls_key = "{out.server_key.name}"\n'
        f'tls_client_ca = "{out.ca.name}"\nidentities = "{out.identities.name}"\n', encoding="utf-8")
    return out
