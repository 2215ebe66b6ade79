"""The connection test a broker runs from its own machine: every step from reaching the address to
comparing an alert with the archive's copy, each with PASS/FAIL and, on failure, cause and fix.

It needs only the broker's own credentials, reads without committing, and deletes the consumer
group it used.
"""

from __future__ import annotations

import gzip
import socket
import ssl
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition, libversion, version
from confluent_kafka.admin import AdminClient
from confluent_kafka.admin._metadata import ClusterMetadata

from alertdist_common.clients import MIN_LIBRDKAFKA, ErrorLog, bootstrap_addresses, librdkafka_supported
from services.common import logs
from services.common.registry import RegisteredSchema, RegistrySchemas, UnknownSchemaError
from services.common.settings import RegistrySettings
from services.common.wire import WireFormatError, decode, unframe

from .kit import CA_FILE, LIBRDKAFKA_FILE, read_kit, read_librdkafka_properties

QUIET = logs.silent("brokerkit.kafka")
FAIL_FAST_MS = "10000"


@dataclass(frozen=True)
class Target:
    """What to connect to, and as whom: from a kit or from flags."""

    bootstrap_servers: str
    username: str
    password: str = field(repr=False)
    topics: list[str]
    registry_url: str
    archive_url: str
    group: str
    group_prefix: str
    security_protocol: str = "SASL_PLAINTEXT"
    sasl_mechanism: str = "SCRAM-SHA-512"
    tls_bootstrap_servers: str | None = None
    ca_file: Path | None = None
    alert_topics: list[str] = field(default_factory=list)
    kafka_settings: dict[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def from_kit(cls, folder: Path, **overrides: Any) -> Target:
        """The kit's settings; its librdkafka.properties is the Kafka client's configuration."""
        kit, password = read_kit(folder)
        values: dict[str, Any] = {
            "bootstrap_servers": kit.bootstrap_servers,
            "username": kit.username,
            "password": password,
            "topics": kit.alert_topics,
            "alert_topics": kit.alert_topics,
            "registry_url": kit.registry_url,
            "archive_url": kit.archive_url,
            "group": default_group(kit.group_prefix),
            "group_prefix": kit.group_prefix,
            "security_protocol": kit.security_protocol,
            "sasl_mechanism": kit.sasl_mechanism,
            "tls_bootstrap_servers": kit.tls_bootstrap_servers,
            "ca_file": folder / CA_FILE if kit.ca_file else None,
            "kafka_settings": read_librdkafka_properties(folder / LIBRDKAFKA_FILE),
        }
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**values)

    def kafka_config(self, errors: Callable[[KafkaError], None]) -> dict[str, Any]:
        config: dict[str, Any] = {
            **self.kafka_settings,
            "bootstrap.servers": self.bootstrap_servers,
            "security.protocol": self.security_protocol,
            "sasl.mechanism": self.sasl_mechanism,
            "sasl.username": self.username,
            "sasl.password": self.password,
            "socket.timeout.ms": FAIL_FAST_MS,
            "logger": QUIET,
            "error_cb": errors,
        }
        for consumer_only in ("group.id", "enable.auto.commit", "auto.offset.reset"):
            config.pop(consumer_only, None)
        if self.security_protocol == "SASL_SSL" and self.ca_file is not None:
            config["ssl.ca.location"] = str(self.ca_file)
        return config


def default_group(prefix: str) -> str:
    return f"{prefix}-connection-test-{uuid.uuid4().hex[:8]}"


@dataclass
class Step:
    name: str
    status: str  # PASS, FAIL, or NOT RUN (an earlier step failed)
    detail: str
    fix: str | None = None

    @property
    def passed(self) -> bool:
        return self.status == "PASS"

    def line(self) -> str:
        text = f"{self.status:<8}{self.name:<10}{self.detail}"
        return f"{text}\n{'':18}fix: {self.fix}" if self.fix else text


class StepError(Exception):
    def __init__(self, detail: str, fix: str) -> None:
        super().__init__(detail)
        self.detail, self.fix = detail, fix


def client_versions() -> str:
    return f"librdkafka {libversion()[0]}, confluent-kafka {version()}"


def login_failure(librdkafka: str, username: str) -> StepError:
    """Why SCRAM was refused: an old librdkafka looks exactly like a wrong password to Kafka 4.x."""
    if not librdkafka_supported(librdkafka):
        return StepError(
            f"login refused; librdkafka {librdkafka} is older than {MIN_LIBRDKAFKA}, whose SCRAM "
            "logins Kafka 4.x refuses",
            f"upgrade: pip install 'confluent-kafka>={MIN_LIBRDKAFKA}' (or librdkafka {MIN_LIBRDKAFKA}+)",
        )
    return StepError(
        f"login refused for {username}: wrong username or password (librdkafka {librdkafka} is new enough)",
        "use the password file of your kit; if it is the current one, ask Rubin to check your user",
    )


class ConnectionTest:
    """Runs the steps in order; a failed step stops the ones that need it."""

    def __init__(
        self, target: Target, count: int = 10, timeout: float = 30.0, archive_wait: float = 30.0
    ) -> None:
        self.target = target
        self.count = count
        self.timeout = timeout
        self.archive_wait = archive_wait
        self.messages: list[Message] = []
        self.schemas: dict[int, RegisteredSchema] = {}
        self.alerts: list[tuple[Message, dict[str, Any]]] = []
        self.metadata: ClusterMetadata | None = None
        self.consumer: Consumer | None = None
        self.ends: dict[tuple[str, int], int] = {}
        self.group_used = False

    def steps(self) -> Iterator[tuple[str, Callable[[], str]]]:
        yield "address", self.check_address
        if self.target.tls_bootstrap_servers and self.target.ca_file is not None:
            yield "tls", self.check_tls
        yield "login", self.check_login
        yield "topics", self.check_topics
        yield "group", self.check_group
        yield "read", self.check_read
        yield "registry", self.check_registry
        yield "decode", self.check_decode
        yield "archive", self.check_archive

    def run(self) -> list[Step]:
        results: list[Step] = []
        failed: str | None = None
        try:
            for name, check in self.steps():
                if failed is not None:
                    results.append(Step(name, "NOT RUN", f"needs the {failed} step to pass"))
                    continue
                try:
                    results.append(Step(name, "PASS", check()))
                except StepError as failure:
                    results.append(Step(name, "FAIL", failure.detail, failure.fix))
                    failed = name
        finally:
            self.close_consumer()
            if self.group_used:
                results.append(self.delete_group())
        return results

    # -- the steps --------------------------------------------------------------------------------
    def check_address(self) -> str:
        servers = self.target.bootstrap_servers
        if self.target.tls_bootstrap_servers:
            servers += "," + self.target.tls_bootstrap_servers
        for host, port in bootstrap_addresses(servers):
            try:
                socket.getaddrinfo(host, port)
            except socket.gaierror as exc:
                raise StepError(
                    f"{host} does not resolve: {exc.strerror}",
                    "check the bootstrap address in your kit and your DNS",
                ) from exc
            try:
                socket.create_connection((host, port), timeout=5).close()
            except OSError as exc:
                raise StepError(
                    f"{host}:{port} resolves but does not answer: {exc.strerror or exc}",
                    f"let your network reach TCP port {port}; if it does, tell Rubin the listener is down",
                ) from exc
        return f"{servers} resolve and answer"

    def check_tls(self) -> str:
        assert self.target.tls_bootstrap_servers is not None
        assert self.target.ca_file is not None
        context = ssl.create_default_context(cafile=str(self.target.ca_file))
        for host, port in bootstrap_addresses(self.target.tls_bootstrap_servers):
            try:
                with (
                    socket.create_connection((host, port), timeout=5) as raw,
                    context.wrap_socket(raw, server_hostname=host) as tls,
                ):
                    protocol = tls.version()
            except ssl.SSLError as exc:
                raise StepError(
                    f"TLS to {host}:{port} does not verify against {self.target.ca_file.name}: {exc.reason}",
                    "use the ca.pem of a fresh kit; if it still fails, tell Rubin",
                ) from exc
        return f"{self.target.tls_bootstrap_servers} verifies against {self.target.ca_file.name} ({protocol})"

    def check_login(self) -> str:
        errors = ErrorLog()
        admin = AdminClient(self.target.kafka_config(errors))
        deadline = time.monotonic() + self.timeout
        while self.metadata is None:
            try:
                self.metadata = admin.list_topics(timeout=2)
            except KafkaException as exc:
                admin.poll(0)  # serves the error callbacks: a refused login is reported there
                if KafkaError._AUTHENTICATION in errors.codes():
                    raise login_failure(libversion()[0], self.target.username) from exc
                if time.monotonic() > deadline:
                    raise StepError(
                        f"no answer from Kafka at {self.target.bootstrap_servers}: {exc.args[0].str()}",
                        "check the address step; if it passed, tell Rubin Kafka does not answer",
                    ) from exc
        return f"logged in as {self.target.username} with {self.target.sasl_mechanism} ({client_versions()})"

    def check_topics(self) -> str:
        allowed = ", ".join(self.target.alert_topics) or "the alert topics"
        found = []
        assert self.metadata is not None
        for topic in self.target.topics:
            listed = self.metadata.topics.get(topic)
            if listed is None or listed.error is not None:
                raise StepError(
                    f"you may not read topic {topic}, or it does not exist",
                    f"brokers may read only {allowed}",
                )
            found.append(f"{topic} ({len(listed.partitions)} partitions)")
        return f"{self.target.username} may read {', '.join(found)}"

    def check_group(self) -> str:
        group, prefix = self.target.group, self.target.group_prefix
        errors = ErrorLog()
        assigned: list[TopicPartition] = []
        self.consumer = consumer = Consumer(
            {
                **self.target.kafka_config(errors),
                "group.id": group,
                "enable.auto.commit": False,
                "auto.offset.reset": "latest",
            }
        )
        self.group_used = group.startswith(prefix)

        def on_assign(consumer: Consumer, partitions: list[TopicPartition]) -> None:
            assigned.extend(self.position_newest(consumer, partitions))
            consumer.assign(assigned)

        consumer.subscribe(self.target.topics, on_assign=on_assign)
        deadline = time.monotonic() + self.timeout
        while not assigned and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                continue
            error = message.error()
            if error is not None and error.code() == KafkaError.GROUP_AUTHORIZATION_FAILED:
                if not group.startswith(prefix):
                    raise StepError(
                        f"group {group} was refused: your groups must start with your username {prefix}",
                        f"name your consumer groups {prefix}-<anything>, e.g. {prefix}-night",
                    )
                raise StepError(
                    f"group {group} was refused although it starts with {prefix}",
                    "tell Rubin: your user's group ACL is missing",
                )
            if error is None:
                self.messages.append(message)  # a message before the assignment callback ended
        if not assigned:
            raise StepError(
                f"group {group} got no partitions of {', '.join(self.target.topics)} in {self.timeout:.0f} s",
                "retry; if it persists, tell Rubin the group coordinator does not answer",
            )
        return f"group {group} joined, {len(assigned)} partitions assigned"

    def position_newest(self, consumer: Consumer, partitions: list[TopicPartition]) -> list[TopicPartition]:
        """Start each partition `count` messages before its end: the newest alerts are among those."""
        positioned = []
        for tp in partitions:
            low, high = consumer.get_watermark_offsets(tp, timeout=self.timeout, cached=False)
            if high > low:
                self.ends[(tp.topic, tp.partition)] = high
            positioned.append(TopicPartition(tp.topic, tp.partition, max(low, high - self.count)))
        return positioned

    def check_read(self) -> str:
        if not self.ends:
            raise StepError(
                f"{', '.join(self.target.topics)} hold no alerts yet",
                "the stream may not be running: ask Rubin when the next alerts are due",
            )
        assert self.consumer is not None
        remaining = dict(self.ends)
        for early in self.messages:
            self._reached(remaining, early)
        deadline = time.monotonic() + self.timeout
        while remaining and time.monotonic() < deadline:
            message = self.consumer.poll(0.5)
            if message is None:
                continue
            error = message.error()
            if error is not None:
                raise StepError(f"reading failed: {error.str()}", "retry; if it persists, tell Rubin")
            self.messages.append(message)
            self._reached(remaining, message)
        if remaining:
            raise StepError(
                f"{len(remaining)} partitions did not deliver their newest messages in {self.timeout:.0f} s",
                "retry with a longer --timeout; if it persists, tell Rubin",
            )
        self.messages.sort(key=lambda m: (m.timestamp()[1], m.topic() or "", m.partition() or 0))
        self.messages = self.messages[-self.count :]
        newest = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(self.messages[-1].timestamp()[1] / 1000))
        return f"read the newest {len(self.messages)} messages, the last appended {newest} UTC"

    @staticmethod
    def _reached(remaining: dict[tuple[str, int], int], message: Message) -> None:
        key = (message.topic() or "", message.partition() or 0)
        offset = message.offset()
        if key in remaining and offset is not None and offset + 1 >= remaining[key]:
            del remaining[key]

    def check_registry(self) -> str:
        ids = set()
        for message in self.messages:
            try:
                ids.add(unframe(message.value() or b"")[0])
            except WireFormatError:
                continue  # the decode step names it
        if not ids:
            return "no message carries a schema id to fetch (see the decode step)"
        registry = RegistrySchemas(
            RegistrySettings(url=self.target.registry_url, username=None, password=None)
        )
        try:
            for schema_id in sorted(ids):
                self.schemas[schema_id] = registry.get(schema_id)
        except UnknownSchemaError as exc:
            raise StepError(
                f"{exc} at {self.target.registry_url}",
                "tell Rubin: every id in the stream must be registered",
            ) from exc
        except (RuntimeError, ValueError) as exc:
            raise StepError(
                f"the registry at {self.target.registry_url} failed: {exc}",
                "the registry is down or out of your reach; the stream itself is fine; tell Rubin",
            ) from exc
        finally:
            registry.close()
        return (
            f"schema ids {', '.join(map(str, sorted(ids)))} fetched from {self.target.registry_url}, no login"
        )

    def check_decode(self) -> str:
        for message in self.messages:
            where = f"{message.topic()}[{message.partition()}]@{message.offset()}"
            try:
                schema_id, _ = unframe(message.value() or b"")
                schema = self.schemas.get(schema_id)
                if schema is None:
                    raise WireFormatError(f"schema id {schema_id} is not in the registry")
                alert = decode(message.value() or b"", schema.parsed, schema_id)
                if not isinstance(alert.get("diaSourceId"), int):
                    raise WireFormatError("it has no integer diaSourceId")
            except WireFormatError as exc:
                raise StepError(
                    f"the message at {where} is not an LSST alert: {exc}",
                    "tell Rubin with its topic, partition and offset; your client should skip it and read on",
                ) from exc
            self.alerts.append((message, alert))
        ids = sorted(alert["diaSourceId"] for _, alert in self.alerts)
        return f"{len(self.alerts)} alerts decoded, diaSourceIds {ids[0]} to {ids[-1]}"

    def check_archive(self) -> str:
        message, alert = self.alerts[0]  # the oldest read: the likeliest to be archived already
        dia_source_id = alert["diaSourceId"]
        url = f"{self.target.archive_url.rstrip('/')}/v1/alerts/{dia_source_id}"
        deadline = time.monotonic() + self.archive_wait
        with httpx.Client(timeout=15) as http:
            while True:
                try:
                    response = http.get(url)
                except httpx.HTTPError as exc:
                    raise StepError(
                        f"the archive at {self.target.archive_url} does not answer: {exc!r}",
                        "the archive is down or out of your reach; the stream itself is fine; tell Rubin",
                    ) from exc
                if response.status_code != 404 or time.monotonic() > deadline:
                    break
                time.sleep(1)
        if response.status_code == 404:
            raise StepError(
                f"alert {dia_source_id} is not in the archive {self.archive_wait:.0f} s after it was read",
                "retry later: the archive may lag; if it persists, tell Rubin",
            )
        if response.status_code != 200:
            raise StepError(
                f"the archive answered {response.status_code} for {dia_source_id}: {response.text[:200]}",
                "the archive cannot serve alerts now; tell Rubin",
            )
        try:
            archived = gzip.decompress(response.content)
        except (OSError, EOFError) as exc:
            raise StepError(
                f"the archive's copy of alert {dia_source_id} is not gzip: {exc}", "tell Rubin"
            ) from exc
        if archived != message.value():
            raise StepError(
                f"the archive's copy of alert {dia_source_id} differs from the stream's", "tell Rubin"
            )
        return f"alert {dia_source_id} from {self.target.archive_url} equals the stream's bytes"

    # -- clean-up ---------------------------------------------------------------------------------
    def close_consumer(self) -> None:
        if self.consumer is not None:
            self.consumer.close()
            self.consumer = None

    def delete_group(self) -> Step:
        """Delete the group this test joined, as its owner; an empty group may take a moment."""
        admin = AdminClient(self.target.kafka_config(ErrorLog()))
        reason = ""
        for _ in range(10):
            future = admin.delete_consumer_groups([self.target.group], request_timeout=15)[self.target.group]
            try:
                future.result()
                return Step("cleanup", "PASS", f"group {self.target.group} deleted")
            except KafkaException as exc:
                error: KafkaError = exc.args[0]
                if error.code() == KafkaError.GROUP_ID_NOT_FOUND:
                    return Step("cleanup", "PASS", f"group {self.target.group} left nothing behind")
                reason = error.str()
                time.sleep(0.5)
        return Step(
            "cleanup",
            "FAIL",
            f"group {self.target.group} could not be deleted: {reason}",
            f"delete it: kafka-consumer-groups --delete --group {self.target.group}",
        )


def report(steps: list[Step]) -> dict[str, Any]:
    return {"passed": all(step.passed for step in steps), "steps": [asdict(step) for step in steps]}
