"""A private CA and the certificates the local servers present: the Kafka broker's SASL_SSL
listener and the local Kubernetes control plane."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALIDITY = dt.timedelta(days=825)
ORGANIZATION = "alert-distribution local facility"
PEM = serialization.Encoding.PEM


def _name(common_name: str, organization: str = ORGANIZATION) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def write_private(path: Path, data: bytes) -> None:
    """Write key material readable by its owner alone."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def private_pem(key: ec.EllipticCurvePrivateKey, traditional: bool = False) -> bytes:
    """The key as PEM: PKCS#8 (`PRIVATE KEY`), or SEC 1 (`EC PRIVATE KEY`) when `traditional`."""
    form = (
        serialization.PrivateFormat.TraditionalOpenSSL if traditional else serialization.PrivateFormat.PKCS8
    )
    return key.private_bytes(PEM, form, serialization.NoEncryption())


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


@dataclass(frozen=True)
class CertificateAuthority:
    """A CA key and certificate that issue the local servers' and clients' certificates."""

    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @classmethod
    def create(cls, common_name: str) -> CertificateAuthority:
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name))
            .issuer_name(_name(common_name))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_key_usage(cert_sign=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        return cls(key, cert)

    def issue(
        self,
        common_name: str,
        *,
        organization: str = ORGANIZATION,
        hosts: tuple[str, ...] = (),
        client: bool = False,
    ) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        """A leaf key and certificate: a server's for `hosts` (DNS names or IP addresses), or a
        client's (`client=True`) whose subject names its user (CN) and group (O)."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        usage = ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name, organization))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + VALIDITY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(cert_sign=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False
            )
        )
        if hosts:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([_san(host) for host in hosts]), critical=False
            )
        return key, builder.sign(self.key, hashes.SHA256())


def _san(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def _strict(ca_pem: Path) -> bool:
    """Whether a CA made before holds what strict verification asks (Python 3.13 turns on
    OpenSSL's X509_STRICT in ssl.create_default_context: a CA's key identifier and key usage, the
    leaf's authority key identifier); one made without them is made again."""
    ca = x509.load_pem_x509_certificate(ca_pem.read_bytes())
    try:
        ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    except x509.ExtensionNotFound:
        return False
    return True


def ensure_broker_tls(tls_dir: Path, host: str) -> tuple[Path, Path]:
    """Create the CA and a broker key+chain once; return (ca.pem, broker keystore .pem)."""
    ca_pem = tls_dir / "ca.pem"
    keystore_pem = tls_dir / "broker-keystore.pem"
    if ca_pem.exists() and keystore_pem.exists() and _strict(ca_pem):
        return ca_pem, keystore_pem
    tls_dir.mkdir(parents=True, exist_ok=True)
    ca = CertificateAuthority.create("alertdist-local-ca")
    broker_key, broker_cert = ca.issue("alertdist-local-kafka", hosts=("localhost", host))
    write_private(
        keystore_pem, private_pem(broker_key) + broker_cert.public_bytes(PEM) + ca.cert.public_bytes(PEM)
    )
    ca_pem.write_bytes(ca.cert.public_bytes(PEM))
    return ca_pem, keystore_pem
