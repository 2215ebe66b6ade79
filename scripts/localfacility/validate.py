"""Prove delivery on the deployed local stack from its outputs alone: produce a visit of canary
alerts as the producer, read them back as every community broker (in a group prefixed with its
own username), and fetch each from the archive byte-identical."""

from __future__ import annotations

import gzip
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from confluent_kafka import Consumer, TopicPartition

from services.common.settings import KafkaSettings
from services.common.wire import WireFormatError, decode
from services.producer.alerts import AlertFactory
from services.producer.producer import AlertProducer

CANARY_ID_BASE = 9_000_000_000_000_000_000  # diaSourceIds above this are validation canaries


@dataclass
class DeliveryResult:
    alerts: int
    brokers: dict[str, int]
    archived: int
    seconds_to_all_brokers: float
    seconds_to_archive: float

    @property
    def ok(self) -> bool:
        return all(n == self.alerts for n in self.brokers.values()) and self.archived == self.alerts


def _broker_users(outputs: dict[str, Any]) -> list[str]:
    return sorted(user for user, role in outputs["users"].items() if role == "community-broker")


def _settings(outputs: dict[str, Any], user: str) -> KafkaSettings:
    return KafkaSettings(
        bootstrap=outputs["bootstrapServers"], username=user, password=outputs["passwords"][user]
    )


def _end_offsets(outputs: dict[str, Any], user: str, topic: str) -> dict[int, int]:
    """Where each partition ends now: the canaries are read from here on."""
    consumer = Consumer({**_settings(outputs, user).client_config(), "group.id": f"{user}-delivery-check"})
    try:
        partitions = consumer.list_topics(topic, timeout=30).topics[topic].partitions
        return {
            p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=30)[1] for p in partitions
        }
    finally:
        consumer.close()


def _read_ids(
    outputs: dict[str, Any],
    user: str,
    topic: str,
    start: dict[int, int],
    wanted: set[int],
    factory: AlertFactory,
    deadline: float,
) -> set[int]:
    """The canary ids this broker user reads, in a fresh group prefixed with its username."""
    group = f"{user}-delivery-check-{uuid.uuid4().hex[:8]}"
    consumer = Consumer(
        {**_settings(outputs, user).client_config(), "group.id": group, "enable.auto.commit": False}
    )
    seen: set[int] = set()
    try:
        consumer.assign([TopicPartition(topic, p, offset) for p, offset in start.items()])
        while seen < wanted and time.monotonic() < deadline:
            for message in consumer.consume(500, timeout=0.5):
                if message.error() is None:
                    try:
                        seen.add(int(decode(message.value() or b"", factory.parsed_schema)["diaSourceId"]))
                    except WireFormatError:
                        continue
    finally:
        consumer.close()
    return seen & wanted


def validate_delivery(outputs: dict[str, Any], alerts: int = 100, timeout: float = 120.0) -> DeliveryResult:
    topic = outputs["alertTopics"][0]
    factory = AlertFactory.from_package()
    first_id = CANARY_ID_BASE + (time.time_ns() // 1000) % 10**14 * 10
    wanted = set(range(first_id, first_id + alerts))
    brokers = _broker_users(outputs)
    start = _end_offsets(outputs, brokers[0], topic)
    producer = AlertProducer(_settings(outputs, "alert-producer"), topic, factory)
    producer.check_connection()
    started = time.monotonic()
    producer.produce_visit(0, first_id, alerts)
    deadline = started + timeout
    delivered = {
        user: len(_read_ids(outputs, user, topic, start, wanted, factory, deadline)) for user in brokers
    }
    to_brokers = time.monotonic() - started
    archived = 0
    with httpx.Client(base_url=outputs["archiveUrl"], timeout=10) as http:
        for dia_source_id in sorted(wanted):
            while time.monotonic() < deadline:
                with http.stream("GET", f"/v1/alerts/{dia_source_id}") as response:
                    if response.status_code == 200:
                        stored = b"".join(response.iter_raw())
                        archived += gzip.decompress(stored) == factory.encoded(dia_source_id)
                        break
                time.sleep(0.5)
    return DeliveryResult(alerts, delivered, archived, to_brokers, time.monotonic() - started)
