"""The leaf link's TLS: a CA of the head office's own and the hub's certificate, made at
first start under `<data>/keys/` (keys 0600), or the operator's own files.

Stores trust the CA (its PEM goes into each join file), not a public one: the head
office may well sit behind an address no public CA would certify (a VPN, a shop's
router). The CA is made once and kept; the server certificate is made again from it
whenever the names it must carry change (a new `leaf_advertise`), so join files
already handed out stay valid.
"""

from __future__ import annotations

import datetime
import ipaddress
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

log = logging.getLogger(__name__)

CA_CERT = "leaf-ca.pem"
CA_KEY = "leaf-ca.key"
SERVER_CERT = "leaf-server.pem"
SERVER_KEY = "leaf-server.key"
CA_YEARS = 20
SERVER_DAYS = 825  # what browsers accept for a server certificate; renewed at start
RENEW_BEFORE = datetime.timedelta(days=30)
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


class TlsError(Exception):
    """The leaf link's TLS files cannot be used: one line naming the file."""


@dataclass(frozen=True, slots=True)
class LeafTls:
    """What the hub's leaf listener serves and what stores must trust."""

    cert_file: Path
    key_file: Path
    ca_file: Path

    def ca_pem(self) -> str:
        try:
            return self.ca_file.read_text(encoding="ascii")
        except (OSError, UnicodeError) as exc:
            raise TlsError(f"{self.ca_file}: cannot read the CA certificate ({exc})") from None


def own_files(cert: str, key: str, ca: str) -> LeafTls:
    """The operator's own certificate, key and CA (config `central.leaf_cert` ...), checked
    to exist and parse, so a typo fails the start in one line instead of the hub's."""
    files = LeafTls(Path(cert).expanduser(), Path(key).expanduser(), Path(ca).expanduser())
    for path, what in ((files.cert_file, "certificate"), (files.ca_file, "CA certificate")):
        try:
            x509.load_pem_x509_certificates(path.read_bytes())
        except OSError as exc:
            raise TlsError(f"{path}: cannot read the leaf {what} ({exc.strerror})") from None
        except ValueError:
            raise TlsError(f"{path}: not a PEM {what}") from None
    try:
        serialization.load_pem_private_key(files.key_file.read_bytes(), password=None)
    except OSError as exc:
        raise TlsError(f"{files.key_file}: cannot read the leaf key ({exc.strerror})") from None
    except (ValueError, TypeError):
        raise TlsError(f"{files.key_file}: not an unencrypted PEM private key") from None
    return files


def ensure_generated(keys_dir: Path, names: list[str]) -> LeafTls:
    """The head office's CA (made once) and a server certificate for `names` (host
    names or addresses; loopback ones always added), made again when it lacks one of
    them or nears its end."""
    keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    files = LeafTls(keys_dir / SERVER_CERT, keys_dir / SERVER_KEY, keys_dir / CA_CERT)
    wanted = list(dict.fromkeys([*(n for n in names if n and not _wildcard(n)), *LOOPBACK_NAMES]))
    try:
        ca_key, ca_cert = _ensure_ca(keys_dir)
        if not _server_fits(files.cert_file, files.key_file, ca_cert, wanted):
            _issue_server(files, ca_key, ca_cert, wanted)
            log.info("made the leaf server certificate for %s", ", ".join(wanted))
    except OSError as exc:
        raise TlsError(f"{keys_dir}: cannot write the leaf TLS files ({exc.strerror})") from None
    except ValueError as exc:
        raise TlsError(f"{keys_dir}: a leaf TLS file does not parse ({exc})") from None
    return files


def _wildcard(name: str) -> bool:
    return name in ("0.0.0.0", "::", "")  # noqa: S104 (names, not a bind)


def _ensure_ca(keys_dir: Path) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    cert_path, key_path = keys_dir / CA_CERT, keys_dir / CA_KEY
    if cert_path.exists() and key_path.exists():
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{key_path} is not an EC key")
        return key, x509.load_pem_x509_certificate(cert_path.read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "autogrocery head office CA")])
    start = _now() - datetime.timedelta(minutes=5)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=365 * CA_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
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
    _write_key(key_path, key)
    _write(cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    log.info("made the head office's leaf CA in %s", cert_path)
    return key, cert


def _server_fits(
    cert_path: Path, key_path: Path, ca_cert: x509.Certificate, names: list[str]
) -> bool:
    if not cert_path.exists() or not key_path.exists():
        return False
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    if cert.issuer != ca_cert.subject or cert.not_valid_after_utc - RENEW_BEFORE < _now():
        return False
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    held = {str(ip) for ip in sans.get_values_for_type(x509.IPAddress)}
    held |= set(sans.get_values_for_type(x509.DNSName))
    return all(_san_text(name) in held for name in names)


def _san_text(name: str) -> str:
    try:
        return str(ipaddress.ip_address(name))
    except ValueError:
        return name


def _issue_server(
    files: LeafTls, ca_key: ec.EllipticCurvePrivateKey, ca_cert: x509.Certificate, names: list[str]
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    sans: list[x509.GeneralName] = []
    for name in names:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            sans.append(x509.DNSName(name))
    start = _now() - datetime.timedelta(minutes=5)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=SERVER_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write_key(files.key_file, key)
    _write(files.cert_file, cert.public_bytes(serialization.Encoding.PEM), 0o644)


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _write(path, pem, 0o600)


def _write(path: Path, data: bytes, mode: int) -> None:
    """Write whole or not at all (a crash leaves the old file or none, never half)."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)
