"""The deployment CA and the broker's server certificate (``ioc certs init``), made with the
``cryptography`` library. Gateways trust only this CA, so a broker they reach is ours."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ioc.secrets import check_private, write_private

CA_DAYS = 3650
# Browsers and many TLS stacks refuse leaf certificates valid longer than 825 days.
SERVER_DAYS = 825
DEFAULT_SERVER_NAMES = ("localhost", "127.0.0.1", "::1")


class CertError(ValueError):
    pass


@dataclass(frozen=True)
class CertPaths:
    ca_cert: Path
    ca_key: Path
    server_cert: Path
    server_key: Path

    @classmethod
    def under(cls, directory: Path) -> CertPaths:
        d = Path(directory)
        return cls(d / "ca.crt", d / "ca.key", d / "server.crt", d / "server.key")


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ioc-telemetry"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _subject_alt_names(names: Iterable[str]) -> x509.SubjectAlternativeName:
    entries: list[x509.GeneralName] = []
    for name in dict.fromkeys(names):  # keep order, drop repeats
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            if not name or any(c in name for c in " /:@"):
                raise CertError(f"server name {name!r} is neither an IP address nor a DNS name") from None
            entries.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(entries)


def make_ca(paths: CertPaths, common_name: str = "ioc-telemetry deployment CA") -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))  # small clock skew between hosts
        .not_valid_after(now + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    write_private(paths.ca_key, _key_pem(key))
    write_private(paths.ca_cert, cert.public_bytes(serialization.Encoding.PEM), mode=0o644)


def _load_ca(paths: CertPaths) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    check_private(paths.ca_key)
    cert = x509.load_pem_x509_certificate(paths.ca_cert.read_bytes())
    key = serialization.load_pem_private_key(paths.ca_key.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise CertError(f"{paths.ca_key}: not the EC key `ioc certs init` writes")
    return cert, key


def issue_server_cert(paths: CertPaths, names: Iterable[str] = DEFAULT_SERVER_NAMES) -> None:
    """A certificate for the broker (and the API), valid for every name gateways use to reach it."""
    names = list(names)
    if not names:
        raise CertError("a server certificate needs at least one name")
    ca_cert, ca_key = _load_ca(paths)
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(names[0]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=SERVER_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_subject_alt_names(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    write_private(paths.server_key, _key_pem(key))
    write_private(paths.server_cert, cert.public_bytes(serialization.Encoding.PEM), mode=0o644)


def init_certs(directory: Path, server_names: Iterable[str] = DEFAULT_SERVER_NAMES) -> CertPaths:
    """``ioc certs init``: keep an existing CA (a new one would cut off every gateway that trusts
    the old), and (re)issue the server certificate for ``server_names`` plus the loopback names."""
    paths = CertPaths.under(directory)
    if paths.ca_cert.exists() != paths.ca_key.exists():
        raise CertError(f"{directory}: one of ca.crt/ca.key is missing; restore it or remove both")
    if not paths.ca_cert.exists():
        make_ca(paths)
    issue_server_cert(paths, [*server_names, *DEFAULT_SERVER_NAMES])
    return paths
