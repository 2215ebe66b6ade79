"""Apache Kafka in KRaft mode, listeners and authorization as at the facilities."""

from __future__ import annotations

import base64
import os
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

from confluent_kafka.admin import AdminClient

from infra.config import Replication
from localfacility.credentials import KAFKA_ADMIN_USER, KAFKA_CONTROLLER_USER, FacilityCredentials
from localfacility.process import ServiceSpec
from localfacility.settings import FacilitySettings
from localfacility.tls import ensure_broker_tls
from services.common import logs

MAX_MESSAGE_BYTES = 10 * 1024 * 1024
# Readiness probes expect connection failures while the broker starts: keep librdkafka quiet.
_SILENT = logs.silent("localfacility.kafka.probe")
LOG4J2 = """\
status = warn
appender.file.type = RollingFile
appender.file.name = file
appender.file.fileName = {log_file}
appender.file.filePattern = {log_file}.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 50MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 3
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
logger.authorizer.name = kafka.authorizer.logger
logger.authorizer.level = WARN
"""


def _scram(user: str, password: str) -> str:
    return (
        "org.apache.kafka.common.security.scram.ScramLoginModule required "
        f'username="{user}" password="{password}";'
    )


@dataclass(frozen=True)
class KafkaNode:
    """One KRaft node (broker and controller in one process) and the ports it binds."""

    node_id: int
    internal_port: int
    controller_port: int
    external_port: int
    external_tls_port: int

    @property
    def name(self) -> str:
        return f"kafka-{self.node_id}"


def kafka_nodes(settings: FacilitySettings) -> list[KafkaNode]:
    """Node n binds each configured Kafka port plus (n - 1) * kafka_port_step."""
    return [
        KafkaNode(
            node_id=node_id,
            internal_port=settings.kafka_internal_port + offset,
            controller_port=settings.kafka_controller_port + offset,
            external_port=settings.kafka_external_port + offset,
            external_tls_port=settings.kafka_external_tls_port + offset if settings.tls_enabled else 0,
        )
        for node_id in range(1, settings.kafka_nodes + 1)
        for offset in [(node_id - 1) * settings.kafka_port_step]
    ]


def bootstrap_servers(settings: FacilitySettings, tls: bool = False) -> str:
    """Every node's external (or external TLS) address, as clients are given them."""
    return ",".join(
        f"{settings.host}:{node.external_tls_port if tls else node.external_port}"
        for node in kafka_nodes(settings)
    )


def server_properties(
    settings: FacilitySettings, creds: FacilityCredentials, node: KafkaNode
) -> dict[str, str]:
    """One node's broker+controller configuration: SCRAM everywhere, no anonymous access, and
    the facility stacks' replication (RF min(3, nodes), min ISR one less) for every topic."""
    host = settings.host
    admin_pw = creds.kafka_admin_password.get_secret_value()
    controller_pw = creds.kafka_controller_password.get_secret_value()
    replication = Replication.on_nodes(settings.kafka_nodes)
    factor, min_isr = str(replication.factor), str(replication.min_insync)
    listeners = {
        "INTERNAL": (node.internal_port, "SASL_PLAINTEXT"),
        "CONTROLLER": (node.controller_port, "SASL_PLAINTEXT"),
        "EXTERNAL": (node.external_port, "SASL_PLAINTEXT"),
    }
    if settings.tls_enabled:
        listeners["EXTERNAL_TLS"] = (node.external_tls_port, "SASL_SSL")
    advertised = {name: port for name, (port, _) in listeners.items() if name != "CONTROLLER"}
    voters = ",".join(f"{n.node_id}@{host}:{n.controller_port}" for n in kafka_nodes(settings))
    props = {
        "process.roles": "broker,controller",
        "node.id": str(node.node_id),
        "controller.quorum.voters": voters,
        "listeners": ",".join(f"{n}://{host}:{p}" for n, (p, _) in listeners.items()),
        "advertised.listeners": ",".join(f"{n}://{host}:{p}" for n, p in advertised.items()),
        "listener.security.protocol.map": ",".join(f"{n}:{proto}" for n, (_, proto) in listeners.items()),
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "INTERNAL",
        "sasl.mechanism.controller.protocol": "PLAIN",
        "sasl.mechanism.inter.broker.protocol": "SCRAM-SHA-512",
        "listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
        "listener.name.controller.plain.sasl.jaas.config": (
            "org.apache.kafka.common.security.plain.PlainLoginModule required "
            f'username="{KAFKA_CONTROLLER_USER}" password="{controller_pw}" '
            f'user_{KAFKA_CONTROLLER_USER}="{controller_pw}";'
        ),
        "listener.name.internal.sasl.enabled.mechanisms": "SCRAM-SHA-512",
        "listener.name.internal.scram-sha-512.sasl.jaas.config": _scram(KAFKA_ADMIN_USER, admin_pw),
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "allow.everyone.if.no.acl.found": "false",
        "super.users": f"User:{KAFKA_ADMIN_USER};User:{KAFKA_CONTROLLER_USER}",
        "log.dirs": str(log_dir(settings, node)),
        "auto.create.topics.enable": "false",
        "num.partitions": "1",
        "default.replication.factor": factor,
        "min.insync.replicas": min_isr,
        "offsets.topic.replication.factor": factor,
        "transaction.state.log.replication.factor": factor,
        "transaction.state.log.min.isr": min_isr,
        "share.coordinator.state.topic.replication.factor": factor,
        "share.coordinator.state.topic.min.isr": min_isr,
        # Only a replica that was in sync becomes leader (Kafka's default, stated): nothing acked is lost
        "unclean.leader.election.enable": "false",
        "group.initial.rebalance.delay.ms": "0",
        "message.max.bytes": str(MAX_MESSAGE_BYTES),
        "replica.fetch.max.bytes": str(MAX_MESSAGE_BYTES),
        "log.retention.hours": "168",
    }
    for name in ("external", "external_tls"):
        if name.upper() in listeners:
            props[f"listener.name.{name}.sasl.enabled.mechanisms"] = "SCRAM-SHA-512"
            props[f"listener.name.{name}.scram-sha-512.sasl.jaas.config"] = (
                "org.apache.kafka.common.security.scram.ScramLoginModule required;"
            )
    if settings.tls_enabled:
        _, keystore = ensure_broker_tls(settings.conf_dir / "tls", host)
        props["listener.name.external_tls.ssl.keystore.type"] = "PEM"
        props["listener.name.external_tls.ssl.keystore.location"] = str(keystore)
    return props


def log_dir(settings: FacilitySettings, node: KafkaNode) -> Path:
    return settings.data_dir / node.name


def config_file(settings: FacilitySettings, node: KafkaNode) -> Path:
    """The node's server.properties (0600: it holds the JAAS secrets)."""
    return settings.conf_dir / "kafka" / f"{node.name}.properties"


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def write_config(settings: FacilitySettings, creds: FacilityCredentials) -> None:
    """Write each node's server.properties (0600) and log4j2 config."""
    conf = settings.conf_dir / "kafka"
    conf.mkdir(parents=True, exist_ok=True)
    for node in kafka_nodes(settings):
        props = server_properties(settings, creds, node)
        _write_private(config_file(settings, node), "".join(f"{k}={v}\n" for k, v in props.items()))
        _log4j2_file(settings, node).write_text(LOG4J2.format(log_file=server_log(settings, node)))


def server_log(settings: FacilitySettings, node: KafkaNode) -> Path:
    """Where the node's own log4j2 log goes (its stdout has only what escapes log4j2)."""
    return settings.log_dir / f"{node.name}-server.log"


def _log4j2_file(settings: FacilitySettings, node: KafkaNode) -> Path:
    return settings.conf_dir / "kafka" / f"{node.name}-log4j2.properties"


def java_argv(
    settings: FacilitySettings, main_class: str, *args: str, log4j2: Path | None = None
) -> list[str]:
    """A JVM on Kafka's jars: a node (with its own log4j2 config) or one of Kafka's tools."""
    logging = [f"-Dlog4j2.configurationFile={log4j2}"] if log4j2 is not None else []
    return [
        "java",
        "-Xms256m",
        f"-Xmx{settings.kafka_heap}",
        "-XX:+UseG1GC",
        "-Djava.awt.headless=true",
        *logging,
        "-cp",
        f"{settings.kafka_libs_dir}/*",
        main_class,
        *args,
    ]


class QuorumMismatchError(RuntimeError):
    """The facility's Kafka was formatted with another number of nodes."""


def format_storage(settings: FacilitySettings, creds: FacilityCredentials) -> list[str]:
    """Format each node's KRaft log dir once, all with one cluster id, bootstrapping the admin's
    SCRAM credential. Returns the nodes formatted now."""
    formatted = {path.parent.name for path in settings.data_dir.glob("kafka-*/meta.properties")}
    wanted = {node.name for node in kafka_nodes(settings)}
    if formatted and formatted != wanted:
        raise QuorumMismatchError(
            f"Kafka's data holds nodes {', '.join(sorted(formatted))}, but {settings.kafka_nodes} "
            "node(s) are configured: run `scripts/facility down --purge` first to change the count"
        )
    admin_pw = creds.kafka_admin_password.get_secret_value()
    cluster_id = new_cluster_id()
    done = []
    for node in kafka_nodes(settings):
        if node.name in formatted:
            continue
        argv = java_argv(
            settings,
            "kafka.tools.StorageTool",
            "format",
            "--cluster-id",
            cluster_id,
            "--config",
            str(config_file(settings, node)),
            "--add-scram",
            f"SCRAM-SHA-512=[name={KAFKA_ADMIN_USER},password={admin_pw}]",
        )
        result = subprocess.run(argv, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"kafka storage format of {node.name} failed: {result.stderr[-2000:]}")
        done.append(node.name)
    return done


def new_cluster_id() -> str:
    """A random KRaft cluster id as Kafka draws one: its text never starts with "-", which the
    storage tool's argument parser would read as an option (kafka-clients 4.3.1,
    org.apache.kafka.common.Uuid.randomUuid redraws those; 1 id in 64 does)."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


def admin_client_config(settings: FacilitySettings, creds: FacilityCredentials) -> dict[str, str]:
    """librdkafka settings for the admin super user on the external listeners."""
    return {
        "bootstrap.servers": bootstrap_servers(settings),
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": KAFKA_ADMIN_USER,
        "sasl.password": creds.kafka_admin_password.get_secret_value(),
    }


def node_spec(settings: FacilitySettings, creds: FacilityCredentials, node: KafkaNode) -> ServiceSpec:
    """One node as the supervisor runs it: ready once it serves metadata listing itself, which
    a node does only after it has joined the quorum and been unfenced."""

    def ready() -> bool:
        config: dict[str, str | int | float | bool] = {
            **admin_client_config(settings, creds),
            "bootstrap.servers": f"{settings.host}:{node.external_port}",
            "socket.timeout.ms": 2000,
        }
        metadata = AdminClient(config, logger=_SILENT).list_topics(timeout=2)
        return node.node_id in metadata.brokers

    return ServiceSpec(
        name=node.name,
        argv=java_argv(
            settings, "kafka.Kafka", str(config_file(settings, node)), log4j2=_log4j2_file(settings, node)
        ),
        ready=ready,
        start_timeout=120,
    )


def node_specs(settings: FacilitySettings, creds: FacilityCredentials) -> list[ServiceSpec]:
    return [node_spec(settings, creds, node) for node in kafka_nodes(settings)]
