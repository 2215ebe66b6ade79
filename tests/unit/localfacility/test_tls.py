"""The generated CA signs a broker certificate valid for the facility's host."""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

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


def test_a_strict_client_verifies_the_broker(tmp_path: Path) -> None:
    """Python 3.13's default context verifies with OpenSSL's X509_STRICT: a TLS handshake here with
    that flag set, as a broker's client on 3.13 does (the first CA lacked its key identifiers)."""
    ca_pem, keystore = ensure_broker_tls(tmp_path, "127.0.0.1")
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(keystore)
    client = ssl.create_default_context(cafile=str(ca_pem))
    client.verify_flags |= ssl.VERIFY_X509_STRICT
    left, right = socket.socketpair()
    with server.wrap_socket(left, server_side=True, do_handshake_on_connect=False) as served:
        answered = threading.Thread(target=served.do_handshake, daemon=True)
        answered.start()
        with client.wrap_socket(right, server_hostname="localhost") as connected:
            assert connected.version() is not None
        answered.join(timeout=10)


def test_a_ca_made_before_without_key_identifiers_is_made_again(tmp_path: Path) -> None:
    ca_pem, _ = ensure_broker_tls(tmp_path, "127.0.0.1")
    old = x509.load_pem_x509_certificate(ca_pem.read_bytes())
    builder = (
        x509.CertificateBuilder()
        .subject_name(old.subject)
        .issuer_name(old.issuer)
        .public_key(old.public_key())
        .serial_number(1)
        .not_valid_before(old.not_valid_before_utc)
        .not_valid_after(old.not_valid_after_utc)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
    )
    key = ec.generate_private_key(ec.SECP256R1())
    ca_pem.write_bytes(builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))
    renewed = x509.load_pem_x509_certificate(ensure_broker_tls(tmp_path, "127.0.0.1")[0].read_bytes())
    renewed.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
