"""The local Kubernetes's credentials and addresses, without starting it."""

from __future__ import annotations

import json
import re
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from localfacility.kubernetes import ADMIN, LocalKubernetes
from localfacility.settings import FacilitySettings


def cluster(tmp_path: Path) -> LocalKubernetes:
    return LocalKubernetes(FacilitySettings(run_dir=tmp_path, kubernetes_port=20000))


def test_each_server_has_ports_of_its_own_on_loopback(tmp_path: Path) -> None:
    """Six ports from the first (KubernetesPorts); every address loopback."""
    ports: dict[int, set[str]] = {}
    for spec in cluster(tmp_path).specs():
        for arg in spec.argv:
            for address in re.findall(r"(?:([0-9.]+):|--secure-port=)([0-9]+)", arg):
                host, port = address
                assert host in ("", "127.0.0.1"), (spec.name, arg)
                ports.setdefault(int(port), set()).add(spec.name)
    assert set(ports) == set(range(20000, 20006))
    assert ports[20002] == {"kube-apiserver"}
    binders = [s for s in cluster(tmp_path).specs() if any(a.startswith("--secure-port") for a in s.argv)]
    assert all("--bind-address=127.0.0.1" in s.argv for s in binders)


def test_the_administrator_is_a_cluster_admin_with_a_private_kubeconfig(tmp_path: Path) -> None:
    local = cluster(tmp_path)
    local._ensure_pki()
    admin = x509.load_pem_x509_certificate((local.pki / f"{ADMIN}.crt").read_bytes())
    assert admin.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "system:masters"
    usage = admin.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    ca = x509.load_pem_x509_certificate((local.pki / "ca.crt").read_bytes())
    admin.verify_directly_issued_by(ca)
    config = json.loads(local.kubeconfig.read_text())
    assert config["clusters"][0]["cluster"]["server"] == "https://127.0.0.1:20002"
    assert (
        (local.pki / f"{ADMIN}.key").read_bytes().startswith(b"-----BEGIN EC PRIVATE KEY-----")
    )  # fabric8's
    private = [local.kubeconfig, *local.pki.glob("*.key")]
    assert {oct(path.stat().st_mode & 0o777) for path in private} == {"0o600"}


def test_the_api_server_s_certificate_names_its_in_cluster_addresses(tmp_path: Path) -> None:
    local = cluster(tmp_path)
    local._ensure_pki()
    cert = x509.load_pem_x509_certificate((local.pki / "apiserver.crt").read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {"kubernetes.default.svc", "localhost"} <= set(names.get_values_for_type(x509.DNSName))
    assert {str(ip) for ip in names.get_values_for_type(x509.IPAddress)} == {"127.0.0.1", "10.96.0.1"}
