"""Apache Kafka in KRaft mode, listeners and authorization as at the facilities."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

from confluent_kafka.admin import AdminClient

from localfacility.credentials import KAFKA_ADMIN_USER, KAFKA_CONTROLLER_USER, FacilityCredentials
from localfacility.process import ServiceSpec
from localfacility.settings import FacilitySettings
from localfacility.tls import ensure_broker_tls
from services.common import logs

MAX_MESSAGE_BYTES = 10 * 1024 * 1024
# Readiness probes expect connection failures while the broker starts: keep librdkafka quiet.
_SILENT = logs.silent("localfacility.kafka.probe")
NODE_ID = 1

LOG4J2 = """\
status = warn
appender.file.type = RollingFile
appender.file.name = file
appender.file.fileName = {log_dir}/kafka-server.log
appender.file.filePattern = {log_dir}/kafka-server.log.%i
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


def server_properties(settings: FacilitySettings, creds: FacilityCredentials) -> dict[str, str]:
    """The broker+controller configuration: SCRAM everywhere, no anonymous access."""
    host = settings.host
    admin_pw = creds.kafka_admin_password.get_secret_value()
    controller_pw = creds.kafka_controller_password.get_secret_value()
    listeners = {
        "INTERNAL": (settings.kafka_internal_port, "SASL_PLAINTEXT"),
        "CONTROLLER": (settings.kafka_controller_port, "SASL_PLAINTEXT"),
        "EXTERNAL": (settings.kafka_external_port, "SASL_PLAINTEXT"),
    }
    if settings.tls_enabled:
        listeners["EXTERNAL_TLS"] = (settings.kafka_external_tls_port, "SASL_SSL")
    advertised = {name: port for name, (port, _) in listeners.items() if name != "CONTROLLER"}
    props = {
        "process.roles": "broker,controller",
        "node.id": str(NODE_ID),
        "controller.quorum.voters": f"{NODE_ID}@{host}:{settings.kafka_controller_port}",
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
        "log.dirs": str(settings.data_dir / "kafka"),
        "auto.create.topics.enable": "false",
        "num.partitions": "1",
        "default.replication.factor": "1",
        "min.insync.replicas": "1",
        "offsets.topic.replication.factor": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
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


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def write_config(settings: FacilitySettings, creds: FacilityCredentials) -> Path:
    """Write server.properties (0600: it holds the JAAS secrets) and the log4j2 config."""
    conf = settings.conf_dir / "kafka"
    conf.mkdir(parents=True, exist_ok=True)
    props = server_properties(settings, creds)
    path = conf / "server.properties"
    _write_private(path, "".join(f"{k}={v}\n" for k, v in props.items()))
    (conf / "log4j2.properties").write_text(LOG4J2.format(log_dir=settings.log_dir))
    return path


def java_argv(settings: FacilitySettings, main_class: str, *args: str) -> list[str]:
    conf = settings.conf_dir / "kafka"
    return [
        "java",
        "-Xms256m",
        f"-Xmx{settings.kafka_heap}",
        "-XX:+UseG1GC",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={conf / 'log4j2.properties'}",
        "-cp",
        f"{settings.kafka_libs_dir}/*",
        main_class,
        *args,
    ]


def format_storage(settings: FacilitySettings, creds: FacilityCredentials, config: Path) -> bool:
    """Format the KRaft log dir once, bootstrapping the admin's SCRAM credential."""
    if (settings.data_dir / "kafka" / "meta.properties").exists():
        return False
    admin_pw = creds.kafka_admin_password.get_secret_value()
    argv = java_argv(
        settings,
        "kafka.tools.StorageTool",
        "format",
        "--cluster-id",
        _cluster_id(),
        "--config",
        str(config),
        "--add-scram",
        f"SCRAM-SHA-512=[name={KAFKA_ADMIN_USER},password={admin_pw}]",
    )
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"kafka storage format failed: {result.stderr[-2000:]}")
    return True


def _cluster_id() -> str:
    import base64

    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


def admin_client_config(settings: FacilitySettings, creds: FacilityCredentials) -> dict[str, str]:
    """librdkafka settings for the admin super user on the external listener."""
    return {
        "bootstrap.servers": f"{settings.host}:{settings.kafka_external_port}",
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": KAFKA_ADMIN_USER,
        "sasl.password": creds.kafka_admin_password.get_secret_value(),
    }


def kafka_spec(settings: FacilitySettings, creds: FacilityCredentials, config: Path) -> ServiceSpec:
    def ready() -> bool:
        admin = AdminClient(
            {**admin_client_config(settings, creds), "socket.timeout.ms": 2000}, logger=_SILENT
        )
        metadata = admin.list_topics(timeout=2)
        return bool(metadata.brokers)

    return ServiceSpec(
        name="kafka",
        argv=java_argv(settings, "kafka.Kafka", str(config)),
        ready=ready,
        start_timeout=120,
    )
