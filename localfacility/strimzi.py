"""Strimzi's own operators, built from their source (install.install_strimzi) and run outside a
cluster against the local Kubernetes, as a facility's Strimzi runs inside one: the cluster operator
validates and reconciles Kafka and KafkaNodePool resources, the user operator turns KafkaUsers into
SCRAM credentials, ACLs and Secrets on a real Kafka, the topic operator KafkaTopics into topics.

Their health servers bind 0.0.0.0 on fixed ports with no setting (user operator 8081, cluster and
topic operators 8080: Strimzi 1.2.0 HealthCheckAndMetricsServer.java, cluster-operator Main.java,
TopicOperator.java). So each runs in a network and PID namespace of its own (`unshare`), where
socat relays the API server's and Kafka's loopback ports to the host's through Unix sockets; on
the host those ports are served by socat relays too. Stopping an operator's `unshare` (by pid)
ends everything in its namespaces."""

from __future__ import annotations

import json
import shlex
import signal
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from pydantic import SecretStr

from localfacility.install import MAIN_CLASS_FILE, STRIMZI_RELEASES, java_home, strimzi_dir
from localfacility.kubernetes import LocalKubernetes
from localfacility.process import ServiceSpec, Supervisor
from localfacility.tls import write_private

# Each operator's health port (the classes above; the same in 0.51.0). Its main class is its
# release's own (install.main_class).
HEALTH_PORTS = {"cluster-operator": 8080, "user-operator": 8081, "topic-operator": 8080}
# No hsperfdata file in /tmp; the cluster operator's openssl work files (CA keys) in its own 0700
# folder, not the machine's /tmp.
JVM_OPTIONS = ("-Xmx384m", "-XX:-UsePerfData")


@dataclass(frozen=True)
class KafkaAccess:
    """A Kafka on the host's loopback as its super user sees it: every broker's address."""

    ports: tuple[int, ...]
    username: str
    password: SecretStr
    host: str = "127.0.0.1"

    @property
    def bootstrap(self) -> str:
        return ",".join(f"{self.host}:{port}" for port in self.ports)


@dataclass
class StrimziOperators:
    """One release's operators, watching one namespace for the resources of one Kafka cluster
    (label strimzi.io/cluster), as the facility's Strimzi does; `kafka` is where the user and topic
    operators write (a Kafka of the tests' own: the user operator deletes every principal it does not
    own, except the super users it is told to ignore); `operator_namespace`, where the facility runs
    the operator (its NetworkPolicies let that namespace in); `cluster_env`, what a facility's chart
    adds to the cluster operator's environment (its extraEnvs); `home_name`, the run folder's child
    holding their pids, logs, relays and settings (one each when two sets run side by side)."""

    kubernetes: LocalKubernetes
    release: str
    namespace: str
    cluster: str
    kafka: KafkaAccess
    operator_namespace: str
    cluster_env: Mapping[str, str] = field(default_factory=dict)
    home_name: str = "strimzi-operators"

    @property
    def home(self) -> Path:
        return self.kubernetes.settings.run_dir / self.home_name

    @cached_property
    def supervisor(self) -> Supervisor:
        return Supervisor(pid_dir=self.home / "pids", log_dir=self.home / "logs")

    @property
    def operators(self) -> tuple[str, ...]:
        """The release's operators the tests build (install.STRIMZI_RELEASES)."""
        return STRIMZI_RELEASES[self.release].operators

    def up(self, *operators: str) -> None:
        """Start the relays and the named operators (all the release's by default); wait until each
        says it is ready."""
        (self.home / "relays").mkdir(parents=True, exist_ok=True)
        self._tmp_dir().mkdir(mode=0o700, exist_ok=True)
        for spec in self._relays():
            if self.supervisor.running_pid(spec) is None:  # a socket left behind is not a relay
                self._socket(int(spec.name.removeprefix("relay-"))).unlink(missing_ok=True)
            self.supervisor.start(spec)
        specs = []
        for operator in operators or self.operators:
            self._write_settings(operator)
            specs.append(self.spec(operator))
        launched = [(spec, self.supervisor.launch(spec)[0]) for spec in specs]  # side by side
        for spec, pid in launched:
            self.supervisor.wait_ready(spec, pid)

    def down(self) -> list[str]:
        """Stop the operators and relays; their settings (the Kafka password among them) go too."""
        specs = [self.spec(operator) for operator in self.operators] + self._relays()
        stopped = [spec.name for spec in specs if self.supervisor.stop(spec)]
        for path in (*(self._env_file(operator) for operator in self.operators), self._jaas_file()):
            path.unlink(missing_ok=True)
        return stopped

    def log(self, operator: str) -> str:
        return self.supervisor.log_file(operator).read_text(errors="replace")

    def spec(self, operator: str) -> ServiceSpec:
        """The operator in namespaces of its own, started from an empty environment (Strimzi's
        operators log every variable at start), its settings read from a 0600 file."""
        installed = strimzi_dir(self.kubernetes.settings, self.release)
        classpath = [str(installed / "models")] if operator == "cluster-operator" else []
        classpath += [
            str(installed / operator / f"{operator}-{self.release}.jar"),
            str(installed / operator / "lib" / "*"),
        ]
        java = [str(java_home() / "bin" / "java"), *JVM_OPTIONS, f"-Djava.io.tmpdir={self._tmp_dir()}"]
        java += self._java_options(operator)
        java += ["-cp", ":".join(classpath), (installed / operator / MAIN_CLASS_FILE).read_text().strip()]
        relays = [
            f"socat TCP-LISTEN:{port},bind=127.0.0.1,fork,reuseaddr UNIX-CONNECT:{self._socket(port)} &"
            for port in self._ports()
        ]
        script = "\n".join(
            [
                "set -e",
                "ip link set lo up",
                *relays,
                f"set -a; . {shlex.quote(str(self._env_file(operator)))}; set +a",
                f"exec {shlex.join(java)}",
            ]
        )
        return ServiceSpec(
            name=operator,
            argv=["unshare", "--net", "--pid", "--kill-child", "sh", "-c", script],
            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
            clean_env=True,
            ready=lambda: self._healthy(operator),
            stop_signal=signal.SIGKILL,  # unshare passes no signal on; its death kills the namespace
            start_timeout=120.0,
        )

    def _env_file(self, operator: str) -> Path:
        return self.home / f"{operator}.env"

    def _tmp_dir(self) -> Path:
        return self.home / "tmp"

    def _jaas_file(self) -> Path:
        return self.home / "user-operator.jaas"

    def _write_settings(self, operator: str) -> None:
        """The operator's environment (and the user operator's Kafka login), 0600, in its home."""
        lines = "".join(f"{key}={shlex.quote(value)}\n" for key, value in self._env(operator).items())
        write_private(self._env_file(operator), lines.encode())
        if operator == "user-operator":
            secret = self.kafka.password.get_secret_value()
            login = (
                "KafkaClient {\n  org.apache.kafka.common.security.scram.ScramLoginModule required\n"
                f'  username="{self.kafka.username}" password="{secret}";\n}};\n'
            )
            write_private(self._jaas_file(), login.encode())

    def _env(self, operator: str) -> dict[str, str]:
        common = {"KUBECONFIG": str(self.kubernetes.kubeconfig), "STRIMZI_NAMESPACE": self.namespace}
        selector = f"strimzi.io/cluster={self.cluster}"
        if operator == "cluster-operator":
            installed = strimzi_dir(self.kubernetes.settings, self.release)
            shipped: dict[str, str] = json.loads((installed / "cluster-operator.env.json").read_text())
            return {
                **shipped,  # the release's images by Kafka version, timeouts, feature gates
                **self.cluster_env,
                **common,
                "STRIMZI_LEADER_ELECTION_ENABLED": "false",  # one instance, no Lease to hold
                "STRIMZI_OPERATOR_NAMESPACE": self.operator_namespace,  # the chart's: its pod's own
            }
        if operator == "user-operator":
            return {
                **common,
                "STRIMZI_KAFKA_BOOTSTRAP_SERVERS": self.kafka.bootstrap,
                "STRIMZI_LABELS": selector,
                # SCRAM users only: the clients CA is read for TLS users alone (KafkaUserOperator.java)
                "STRIMZI_CA_CERT_NAME": f"{self.cluster}-clients-ca-cert",
                "STRIMZI_CA_KEY_NAME": f"{self.cluster}-clients-ca",
                # The Kafka's own super users: the operator deletes the credentials and ACLs of
                # every principal that has no KafkaUser, unless ignored (KafkaUserOperator.java).
                "STRIMZI_IGNORED_USERS_PATTERN": "^(admin|controller)$",
                # SASL without the password: the JAAS file (_java_options) keeps it out of the log.
                "STRIMZI_KAFKA_ADMIN_CLIENT_CONFIGURATION": "security.protocol=SASL_PLAINTEXT\n"
                "sasl.mechanism=SCRAM-SHA-512",
            }
        return {
            **common,
            "STRIMZI_KAFKA_BOOTSTRAP_SERVERS": self.kafka.bootstrap,
            "STRIMZI_RESOURCE_LABELS": selector,
            "STRIMZI_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
            "STRIMZI_SASL_ENABLED": "true",
            "STRIMZI_SASL_MECHANISM": "scram-sha-512",
            "STRIMZI_SASL_USERNAME": self.kafka.username,
            "STRIMZI_SASL_PASSWORD": self.kafka.password.get_secret_value(),  # masked in its log
        }

    def _java_options(self, operator: str) -> list[str]:
        return (
            [f"-Djava.security.auth.login.config={self._jaas_file()}"] if operator == "user-operator" else []
        )

    # -- the relays ----------------------------------------------------------------------------

    def _ports(self) -> list[int]:
        return [self.kubernetes.ports.apiserver, *self.kafka.ports]

    def _socket(self, port: int) -> Path:
        return self.home / "relays" / f"{port}.sock"

    def _relays(self) -> list[ServiceSpec]:
        """On the host: one socat per port, from a Unix socket (0600) to the loopback port."""
        return [
            ServiceSpec(
                name=f"relay-{port}",
                argv=[
                    "socat",
                    f"UNIX-LISTEN:{self._socket(port)},fork,unlink-early,mode=600",
                    f"TCP:127.0.0.1:{port}",
                ],
                ready=self._socket(port).exists,
                forks=True,
            )
            for port in self._ports()
        ]

    def _healthy(self, operator: str) -> bool:
        """The operator's /ready, asked from inside its network namespace."""
        pid = self.supervisor.running_pid(self.spec(operator))
        if pid is None:
            return False
        url = f"http://127.0.0.1:{HEALTH_PORTS[operator]}/ready"
        probe = f"import urllib.request; urllib.request.urlopen({url!r}, timeout=2)"
        done = subprocess.run(
            ["nsenter", f"--net=/proc/{pid}/ns/net", sys.executable, "-c", probe],
            capture_output=True,
            check=False,
        )
        return done.returncode == 0
