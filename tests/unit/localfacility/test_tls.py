"""The generated CA signs a broker certificate valid for the facility's host."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from cryptography import x509

from localfacility.tls import ensure_broker_tls


def test_broker_certificate_chains_to_ca(tmp_path: Path) -> None:
    ca_pem, keystore = ensure_broker_tls(tmp_path, "127.0.0.1")
    assert keystore.stat().st_mode & 0o077 == 0
    ca = x509.load_pem_x509_certificate(ca_pem.read_bytes())
    chain = x509.load_pem_x509_certificates(keystore.read_bytes())
    broker = chain[0]
    broker.verify_directly_issued_by(ca)
    sans = broker.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert ipaddress.ip_address("127.0.0.1") in sans.get_values_for_type(x509.IPAddress)
    assert b"PRIVATE KEY" in keystore.read_bytes()


def test_created_once(tmp_path: Path) -> None:
    first = ensure_broker_tls(tmp_path, "127.0.0.1")[0].read_bytes()
    assert ensure_broker_tls(tmp_path, "127.0.0.1")[0].read_bytes() == first
