"""A broker's connection kit: everything one community broker needs to read a facility's stream,
made from the deployed stack's outputs, holding nothing of any other broker.

A kit is a folder:

- `kit.json`: addresses, listener, username, topics, group rule, registry and archive URLs, the
  client floor (no secret);
- `password`: the SCRAM password alone (mode 0600);
- `librdkafka.properties` and `java.properties`: ready-made client settings (mode 0600, they hold
  the password);
- `ca.pem`: the CA of the TLS listener, when the facility offers one.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from alertdist_common.outputs import ClientFloor, StackOutputs

KIT_FILE = "kit.json"
PASSWORD_FILE = "password"  # noqa: S105 (a file name)
LIBRDKAFKA_FILE = "librdkafka.properties"
JAVA_FILE = "java.properties"
CA_FILE = "ca.pem"
BROKER_ROLE = "community-broker"


class BrokerKit(BaseModel):
    """What `kit.json` holds."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)

    facility: str
    broker: str
    username: str
    bootstrap_servers: str
    security_protocol: str
    sasl_mechanism: str
    tls_bootstrap_servers: str | None = None
    ca_file: str | None = None  # relative to the kit folder
    alert_topics: list[str]
    canary_topic: str | None = None  # the post-deploy suite's canaries: readable, not survey alerts
    group_prefix: str
    registry_url: str
    archive_url: str
    client_floor: ClientFloor

    def rules(self) -> list[str]:
        return [
            f"read-only: you may read {', '.join(self.alert_topics)} and nothing else"
            + (
                f" (and {self.canary_topic}, where the operators' post-deploy canaries go: test alerts, "
                "not survey alerts)"
                if self.canary_topic
                else ""
            ),
            f"consumer groups must start with {self.group_prefix!r} (e.g. {self.group_prefix}-night); "
            "others are refused",
            "messages carry no key; values are Avro in Confluent wire format (byte 0, then the schema id "
            "as 4 bytes big-endian); schema id = MAJOR*100+MINOR, subject alert-packet",
            f"clients: librdkafka >= {self.client_floor.librdkafka}, Java clients >= "
            f"{self.client_floor.java_client}",
        ]


def broker_user(outputs: StackOutputs, broker: str) -> str:
    """The SCRAM username of `broker` (`fink`, or its username `fink-usdf`) on this stack."""
    brokers = outputs.users_with_role(BROKER_ROLE)
    for candidate in (broker, f"{broker}-{outputs.facility}"):
        if candidate in brokers:
            return candidate
    names = ", ".join(user.removesuffix(f"-{outputs.facility}") for user in brokers)
    raise KeyError(f"no broker {broker!r} on the {outputs.facility} stack; its brokers are {names}")


def broker_names(outputs: StackOutputs) -> list[str]:
    return [user.removesuffix(f"-{outputs.facility}") for user in outputs.users_with_role(BROKER_ROLE)]


def kit_for(outputs: StackOutputs, broker: str) -> BrokerKit:
    username = broker_user(outputs, broker)
    return BrokerKit(
        facility=outputs.facility,
        broker=username.removesuffix(f"-{outputs.facility}"),
        username=username,
        bootstrap_servers=outputs.bootstrap_servers,
        security_protocol=outputs.security_protocol,
        sasl_mechanism=outputs.sasl_mechanism,
        tls_bootstrap_servers=outputs.tls_bootstrap_servers,
        ca_file=CA_FILE if outputs.tls_bootstrap_servers and outputs.kafka_ca_file else None,
        alert_topics=list(outputs.alert_topics),
        canary_topic=next(iter(outputs.topics_with_role("canary")), None),
        group_prefix=username,
        registry_url=outputs.registry_url,
        archive_url=outputs.archive_url,
        client_floor=outputs.client_floor,
    )


def _java_escape(value: str) -> str:
    """A value as java.util.Properties reads it back."""
    escaped = value.replace("\\", "\\\\")
    for special in ("=", ":", "#", "!"):
        escaped = escaped.replace(special, "\\" + special)
    return escaped


def _properties(values: dict[str, str], escape: bool) -> str:
    """`key=value` lines; librdkafka's readers (kcat -F, its examples) take values verbatim."""
    for key, value in values.items():
        if "\n" in value or "\r" in value:
            raise ValueError(f"the value of {key} holds a line break")
    return "".join(f"{key}={_java_escape(value) if escape else value}\n" for key, value in values.items())


def librdkafka_properties(kit: BrokerKit, password: str) -> str:
    """Settings for librdkafka clients (confluent-kafka, kcat -F, ...)."""
    return _properties(
        {
            "bootstrap.servers": kit.bootstrap_servers,
            "security.protocol": kit.security_protocol,
            "sasl.mechanism": kit.sasl_mechanism,
            "sasl.username": kit.username,
            "sasl.password": password,
            "group.id": kit.group_prefix,
            "enable.auto.commit": "false",
            "auto.offset.reset": "earliest",
        },
        escape=False,
    )


def java_properties(kit: BrokerKit, password: str) -> str:
    """Settings for Java clients (`--consumer.config` of Kafka's tools, Spark, Flink)."""
    quoted = password.replace("\\", "\\\\").replace('"', '\\"')
    jaas = (
        "org.apache.kafka.common.security.scram.ScramLoginModule required "
        f'username="{kit.username}" password="{quoted}";'
    )
    return _properties(
        {
            "bootstrap.servers": kit.bootstrap_servers,
            "security.protocol": kit.security_protocol,
            "sasl.mechanism": kit.sasl_mechanism,
            "sasl.jaas.config": jaas,
            "group.id": kit.group_prefix,
            "enable.auto.commit": "false",
            "auto.offset.reset": "earliest",
            "key.deserializer": "org.apache.kafka.common.serialization.ByteArrayDeserializer",
            "value.deserializer": "org.apache.kafka.common.serialization.ByteArrayDeserializer",
        },
        escape=True,
    )


def _write(path: Path, text: str, mode: int) -> None:
    path.unlink(missing_ok=True)
    path.touch(mode=mode)
    path.chmod(mode)  # touch's mode is filtered by the umask
    path.write_text(text)


def write_kit(outputs: StackOutputs, broker: str, out: Path) -> BrokerKit:
    """Write `broker`'s kit into `out` (created 0700); returns what kit.json holds."""
    kit = kit_for(outputs, broker)
    password = outputs.password(kit.username)
    out.mkdir(parents=True, exist_ok=True)
    out.chmod(0o700)
    _write(out / KIT_FILE, kit.model_dump_json(by_alias=True, indent=2) + "\n", 0o644)
    _write(out / PASSWORD_FILE, password + "\n", 0o600)
    _write(out / LIBRDKAFKA_FILE, librdkafka_properties(kit, password), 0o600)
    _write(out / JAVA_FILE, java_properties(kit, password), 0o600)
    if kit.ca_file is not None and outputs.kafka_ca_file is not None:
        shutil.copyfile(outputs.kafka_ca_file, out / kit.ca_file)
    return kit


def read_kit(folder: Path) -> tuple[BrokerKit, str]:
    """A kit and its password, or a clear error naming what is missing."""
    try:
        kit = BrokerKit.model_validate_json((folder / KIT_FILE).read_text())
        password = (folder / PASSWORD_FILE).read_text().strip()
    except OSError as exc:
        raise ValueError(f"{folder} is not a broker kit: {exc}") from exc
    return kit, password


def read_librdkafka_properties(path: Path) -> dict[str, str]:
    """A librdkafka properties file: `key=value` lines, # comments."""
    values = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values
