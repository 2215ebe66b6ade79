"""A Kubernetes of the facility's own, on loopback: etcd, kube-apiserver, kube-controller-manager
and kube-scheduler of Kubernetes v1.33.3, with KWOK standing in for the kubelets (it makes nodes
Ready and pods Running without containers). The facility stacks are previewed on it and their
workloads run on it (tests/kubernetes).

Every server binds 127.0.0.1 on ports from `FacilitySettings.kubernetes_port`, keeps its state
under `<run_dir>/kubernetes`, and is started and stopped by its pid."""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from localfacility.install import kwok_stages_file
from localfacility.process import ServiceError, ServiceSpec, Supervisor
from localfacility.settings import FacilitySettings
from localfacility.tls import PEM, CertificateAuthority, private_pem, write_private

SERVICE_CIDR = "10.96.0.0/16"
API_SERVICE_IP = "10.96.0.1"  # the first address of SERVICE_CIDR: the `kubernetes` Service's
NODES = 3  # the facilities' brokers spread one a node (a hard topology spread)
# Each simulated node's capacity: room for every pod the idf and usdf stacks declare.
NODE_CAPACITY = {"cpu": "64", "memory": "512Gi", "pods": "110", "ephemeral-storage": "1Ti"}
ADMIN = "alertdist-admin"
# Who logs in with a client certificate, by kubeconfig; their groups (the subject's O).
CLIENTS = {
    "admin": ADMIN,
    "controller-manager": "system:kube-controller-manager",
    "scheduler": "system:kube-scheduler",
}
GROUPS = {ADMIN: "system:masters"}


@dataclass(frozen=True)
class KubernetesPorts:
    """Six consecutive loopback ports from the first."""

    first: int

    @property
    def etcd_client(self) -> int:
        return self.first

    @property
    def etcd_peer(self) -> int:
        return self.first + 1

    @property
    def apiserver(self) -> int:
        return self.first + 2

    @property
    def controller_manager(self) -> int:
        return self.first + 3

    @property
    def scheduler(self) -> int:
        return self.first + 4

    @property
    def kwok(self) -> int:
        return self.first + 5


@dataclass
class LocalKubernetes:
    """The control plane and KWOK: `up`, `down`, and a kubeconfig for whoever applies to it."""

    settings: FacilitySettings
    nodes: int = NODES

    @property
    def home(self) -> Path:
        return self.settings.run_dir / "kubernetes"

    @property
    def pki(self) -> Path:
        return self.home / "pki"

    @property
    def kubeconfig(self) -> Path:
        """The cluster administrator's kubeconfig (group system:masters)."""
        return self.home / "admin.kubeconfig"

    @property
    def ports(self) -> KubernetesPorts:
        return KubernetesPorts(self.settings.kubernetes_port)

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.ports.apiserver}"

    @cached_property
    def supervisor(self) -> Supervisor:
        return Supervisor(pid_dir=self.home / "pids", log_dir=self.home / "logs")

    def binary(self, name: str) -> str:
        return str(self.settings.bin_dir / name)

    def specs(self) -> list[ServiceSpec]:
        """Every server, in start order."""
        return [self._etcd(), self._apiserver(), self._controller_manager(), self._scheduler(), self._kwok()]

    def up(self) -> None:
        """Start what is not running, then make sure the nodes exist and are Ready."""
        self._ensure_pki()
        for spec in self.specs():
            self.supervisor.start(spec)
        self._ensure_nodes()

    def down(self, purge: bool = False) -> list[str]:
        """Stop the servers (KWOK first, etcd last); `purge` also deletes the cluster's state."""
        stopped = [spec.name for spec in reversed(self.specs()) if self.supervisor.stop(spec)]
        if purge:
            shutil.rmtree(self.home, ignore_errors=True)
        return stopped

    def is_up(self) -> bool:
        return all(self.supervisor.running_pid(spec) for spec in self.specs()) and self._api_ready()

    def kubectl(self, *args: str, stdin: str | None = None) -> str:
        """Run kubectl as the administrator; returns its output. A failure raises with its words."""
        done = self._kubectl(args, stdin)
        if done.returncode != 0:
            raise KubectlError(f"kubectl {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def apply(self, *manifests: dict[str, Any], server_side: bool = False) -> str:
        """`kubectl apply` of the manifests, as one List; server-side apply when asked."""
        document = json.dumps({"apiVersion": "v1", "kind": "List", "items": list(manifests)})
        return self.kubectl("apply", *(["--server-side"] if server_side else []), "-f", "-", stdin=document)

    def succeeds(self, *args: str) -> bool:
        """Whether kubectl, run as the administrator, exits 0."""
        return self._kubectl(args, None).returncode == 0

    def _kubectl(self, args: tuple[str, ...], stdin: str | None) -> subprocess.CompletedProcess[str]:
        argv = [self.binary("kubectl"), f"--kubeconfig={self.kubeconfig}", *args]
        return subprocess.run(argv, input=stdin, capture_output=True, text=True)

    def wait_established(self, selector: str, timeout: float = 60.0) -> None:
        """Wait until the CRDs `selector` picks serve their kinds. (kubectl wait fails at once on
        a CRD whose status has no conditions yet, so it is asked again until the deadline.)"""
        command = ("wait", "--for=condition=Established", "crd", "-l", selector, "--timeout=10s")
        if not self._succeeds_within(timeout, *command):
            raise KubectlError(f"CRDs {selector} not Established within {timeout:.0f} s")

    def _succeeds_within(self, timeout: float, *args: str) -> bool:
        """Whether kubectl `args` succeeds before `timeout` seconds, asked again until then."""
        deadline = time.monotonic() + timeout
        while not self.succeeds(*args):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.5)
        return True

    # -- the servers ---------------------------------------------------------------------------

    def _etcd(self) -> ServiceSpec:
        client = f"http://127.0.0.1:{self.ports.etcd_client}"
        peer = f"http://127.0.0.1:{self.ports.etcd_peer}"
        return ServiceSpec(
            name="etcd",
            argv=[
                self.binary("etcd"),
                "--name=local",
                f"--data-dir={self.home / 'etcd'}",
                f"--listen-client-urls={client}",
                f"--advertise-client-urls={client}",
                f"--listen-peer-urls={peer}",
                f"--initial-advertise-peer-urls={peer}",
                f"--initial-cluster=local={peer}",
                "--log-level=warn",
            ],
            ready=lambda: _http_ok(f"{client}/health"),
        )

    def _apiserver(self) -> ServiceSpec:
        pki = self.pki
        return ServiceSpec(
            name="kube-apiserver",
            argv=[
                self.binary("kube-apiserver"),
                f"--etcd-servers=http://127.0.0.1:{self.ports.etcd_client}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={self.ports.apiserver}",
                f"--tls-cert-file={pki / 'apiserver.crt'}",
                f"--tls-private-key-file={pki / 'apiserver.key'}",
                f"--client-ca-file={pki / 'ca.crt'}",
                f"--service-account-key-file={pki / 'service-accounts.pub'}",
                f"--service-account-signing-key-file={pki / 'service-accounts.key'}",
                "--service-account-issuer=https://kubernetes.default.svc",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                "--authorization-mode=Node,RBAC",
                "--allow-privileged=true",
                "--v=1",
            ],
            ready=self._api_ready,
        )

    def _controller_manager(self) -> ServiceSpec:
        pki = self.pki
        return self._manager(
            "controller-manager",
            self.ports.controller_manager,
            "--use-service-account-credentials=true",
            f"--service-account-private-key-file={pki / 'service-accounts.key'}",
            f"--root-ca-file={pki / 'ca.crt'}",
            f"--cluster-signing-cert-file={pki / 'ca.crt'}",
            f"--cluster-signing-key-file={pki / 'ca.key'}",
        )

    def _scheduler(self) -> ServiceSpec:
        return self._manager("scheduler", self.ports.scheduler)

    def _manager(self, name: str, port: int, *flags: str) -> ServiceSpec:
        """kube-<name>: logged in with its own kubeconfig, serving its health on `port`, alone
        (no leader election), with `flags` of its own."""
        config = self._kubeconfig_of(name)
        return ServiceSpec(
            name=f"kube-{name}",
            argv=[
                self.binary(f"kube-{name}"),
                f"--kubeconfig={config}",
                f"--authentication-kubeconfig={config}",
                f"--authorization-kubeconfig={config}",
                "--bind-address=127.0.0.1",
                f"--secure-port={port}",
                f"--cert-dir={self.home / name}",
                "--leader-elect=false",
                *flags,
                "--v=1",
            ],
            ready=lambda: _http_ok(f"https://127.0.0.1:{port}/healthz", insecure=True),
        )

    def _kwok(self) -> ServiceSpec:
        address = f"127.0.0.1:{self.ports.kwok}"
        return ServiceSpec(
            name="kwok",
            argv=[
                self.binary("kwok"),
                f"--kubeconfig={self.kubeconfig}",
                f"--config={kwok_stages_file(self.settings)}",
                "--manage-all-nodes=true",
                f"--server-address={address}",
                "--node-ip=127.0.0.1",
                "--node-lease-duration-seconds=40",
                "--v=WARN",
            ],
            ready=lambda: _http_ok(f"http://{address}/healthz"),
        )

    def _api_ready(self) -> bool:
        return _http_ok(
            f"{self.server}/readyz",
            ca=self.pki / "ca.crt",
            cert=(self.pki / f"{ADMIN}.crt", self.pki / f"{ADMIN}.key"),
        )

    # -- credentials ---------------------------------------------------------------------------

    def _ensure_pki(self) -> None:
        """The cluster's CA, the API server's certificate, the service-account signing key and
        the clients' certificates; made once."""
        pki = self.pki
        if (pki / "ca.crt").exists():
            return
        pki.mkdir(parents=True, exist_ok=True)
        ca = CertificateAuthority.create("alertdist-local-kubernetes-ca")
        hosts = (
            "127.0.0.1",
            "localhost",
            API_SERVICE_IP,
            "kubernetes",
            "kubernetes.default",
            "kubernetes.default.svc",
        )
        self._write_pair("apiserver", *ca.issue("kube-apiserver", hosts=hosts))
        for user in CLIENTS.values():
            self._write_pair(user, *ca.issue(user, organization=GROUPS.get(user, user), client=True))
        accounts = ec.generate_private_key(ec.SECP256R1())
        write_private(pki / "service-accounts.key", private_pem(accounts))
        (pki / "service-accounts.pub").write_bytes(
            accounts.public_key().public_bytes(PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        )
        write_private(pki / "ca.key", private_pem(ca.key))
        (pki / "ca.crt").write_bytes(ca.cert.public_bytes(PEM))
        for name, user in CLIENTS.items():
            self._write_kubeconfig(name, user)

    def _write_pair(self, name: str, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate) -> None:
        # SEC 1, not PKCS#8: the Java Kubernetes client of Strimzi's operators (fabric8 7.8.0,
        # Strimzi 1.2.0) refuses a PKCS#8 EC key in a kubeconfig ("Invalid DER: object is not
        # integer", measured); Go's clients read both.
        write_private(self.pki / f"{name}.key", private_pem(key, traditional=True))
        (self.pki / f"{name}.crt").write_bytes(cert.public_bytes(PEM))

    def _kubeconfig_of(self, name: str) -> Path:
        return self.kubeconfig if name == "admin" else self.home / f"{name}.kubeconfig"

    def _write_kubeconfig(self, name: str, user: str) -> None:
        """A kubeconfig that logs `user` in with its client certificate (files, not copies)."""
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "local",
                    "cluster": {"server": self.server, "certificate-authority": str(self.pki / "ca.crt")},
                }
            ],
            "users": [
                {
                    "name": user,
                    "user": {
                        "client-certificate": str(self.pki / f"{user}.crt"),
                        "client-key": str(self.pki / f"{user}.key"),
                    },
                }
            ],
            "contexts": [{"name": "local", "context": {"cluster": "local", "user": user}}],
            "current-context": "local",
        }
        write_private(self._kubeconfig_of(name), json.dumps(config, indent=2).encode())

    # -- nodes ---------------------------------------------------------------------------------

    def node_names(self) -> list[str]:
        return [f"kwok-node-{index}" for index in range(self.nodes)]

    def _ensure_nodes(self, timeout: float = 60.0) -> None:
        """Nodes for KWOK to run: one a zone, as a regional GKE cluster spreads them."""
        nodes = [
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {
                    "name": name,
                    "annotations": {"kwok.x-k8s.io/node": "fake"},
                    "labels": {
                        "kubernetes.io/hostname": name,
                        "kubernetes.io/os": "linux",
                        "kubernetes.io/arch": "amd64",
                        "topology.kubernetes.io/zone": f"zone-{index}",
                        "type": "kwok",
                    },
                },
                "status": {"allocatable": NODE_CAPACITY, "capacity": NODE_CAPACITY},
            }
            for index, name in enumerate(self.node_names())
        ]
        self.apply(*nodes)
        if not self._succeeds_within(
            timeout, "wait", "--for=condition=Ready", "node", "--all", "--timeout=10s"
        ):
            raise ServiceError(
                f"KWOK's nodes not Ready within {timeout:.0f} s; see {self.supervisor.log_file('kwok')}"
            )


class KubectlError(RuntimeError):
    """kubectl refused or failed; the message holds what it said."""


def _http_ok(
    url: str, ca: Path | None = None, cert: tuple[Path, Path] | None = None, insecure: bool = False
) -> bool:
    """Whether a GET of `url` answers 200: verified against `ca` with a client certificate, or
    (`insecure`) trusting a server of our own that made its certificate itself."""
    context = None
    if url.startswith("https"):
        context = ssl.create_default_context(cafile=str(ca) if ca else None)
        if insecure:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if cert is not None:
            context.load_cert_chain(*map(str, cert))
    with urllib.request.urlopen(url, timeout=2, context=context) as answer:  # noqa: S310 - loopback URLs of ours
        return bool(answer.status == 200)
