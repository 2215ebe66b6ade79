"""Canary alerts: real alerts with diaSourceIds in a range no survey alert uses."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from confluent_kafka import KafkaException, Message, TopicPartition
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

from alertdist_common.outputs import StackOutputs
from services.common.offsets import topic_end_offsets
from services.common.wire import PRODUCER_TIMESTAMP_HEADER
from services.producer.alerts import AlertFactory
from services.producer.producer import AlertProducer

from .clients import consumer

CANARY_ID_BASE = 9_000_000_000_000_000_000  # diaSourceIds from here up are post-deploy canaries


def first_canary_id() -> int:
    """A fresh block of ids in the canary range for this run."""
    return CANARY_ID_BASE + (time.time_ns() // 1000) % 10**14 * 10


def position_group(outputs: StackOutputs, user: str, group: str, topic: str) -> None:
    """Commit the topic's current end for this user's new group, so it reads from there on."""
    client = consumer(outputs, user, group)
    try:
        ends = topic_end_offsets(client, topic)
        client.commit(offsets=[TopicPartition(topic, p, end) for p, end in ends.items()], asynchronous=False)
    finally:
        client.close()


def produce_canaries(
    outputs: StackOutputs, topic: str, first_id: int, count: int, factory: AlertFactory
) -> float:
    """Produce as the producer's own user; returns the wall time when all were acknowledged."""
    producer = AlertProducer(outputs.kafka_settings(outputs.users_with_role("producer")[0]), topic, factory)
    producer.check_connection()
    producer.produce_visit(0, first_id, count)
    return time.time()


@dataclass
class Delivery:
    """What one broker identity received of the canaries."""

    user: str
    received: dict[int, bytes] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    decode_errors: list[str] = field(default_factory=list)
    error: str | None = None


class BrokerReader:
    """Reads the canaries as one broker identity, in its own prefixed group, decoding every
    message through the schema registry as the brokers do."""

    def __init__(self, outputs: StackOutputs, user: str, group: str, registry_conf: dict[str, str]) -> None:
        self.delivery = Delivery(user)
        self.assigned = threading.Event()
        self.deadline = 0.0
        self._consumer = consumer(outputs, user, group)
        self._deserialize = AvroDeserializer(SchemaRegistryClient(registry_conf))

    def subscribe(self, topic: str) -> None:
        self._consumer.subscribe([topic], on_assign=lambda *_: self.assigned.set())

    def stop_at(self, deadline: float) -> None:
        """Move the reading deadline (once the canaries' production time is known)."""
        self.deadline = deadline

    def read(self, topic: str, wanted: set[int], deadline: float) -> Delivery:
        """Poll (which also joins the group) until every wanted canary arrived or the deadline."""
        self.deadline = deadline
        context = SerializationContext(topic, MessageField.VALUE)
        try:
            while not wanted <= self.delivery.received.keys() and time.time() < self.deadline:
                for message in self._consumer.consume(100, timeout=0.5):
                    self._take(message, context, wanted)
            if self.delivery.received:
                self._consumer.commit(asynchronous=False)  # a broker's group keeps its position
        except KafkaException as exc:
            self.delivery.error = str(exc.args[0])
        finally:
            self._consumer.close()
        return self.delivery

    def _take(self, message: Message, context: SerializationContext, wanted: set[int]) -> None:
        error = message.error()
        if error is not None:
            if error.fatal() or not error.retriable():
                raise KafkaException(error)
            return
        arrived_ms = time.time() * 1000
        value = message.value() or b""
        try:
            alert = self._deserialize(value, context)
        except Exception as exc:  # every decode failure is a finding
            self.delivery.decode_errors.append(f"offset {message.offset()}: {type(exc).__name__}: {exc}")
            return
        dia_source_id = alert["diaSourceId"] if alert else None
        if dia_source_id in wanted:
            self.delivery.received[dia_source_id] = value
            sent_ms = int(dict(message.headers() or []).get(PRODUCER_TIMESTAMP_HEADER, b"0"))
            self.delivery.latencies_ms.append(arrived_ms - sent_ms)


@dataclass
class CanaryRun:
    """One run's canaries and what each broker identity received of them."""

    topic: str
    ids: list[int]
    encoded: dict[int, bytes]
    groups: dict[str, str]
    produced_at: float = 0.0
    deliveries: dict[str, Delivery] = field(default_factory=dict)
