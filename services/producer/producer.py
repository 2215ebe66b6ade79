"""Replay alerts into Kafka at visit cadence: idempotent, acks=all, snappy, no key."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from alertdist_common.kafka import KafkaSettings
from services.common.wire import PRODUCER_TIMESTAMP_HEADER
from services.producer.alerts import AlertFactory

log = logging.getLogger("alertdist.producer")
MAX_MESSAGE_BYTES = 10 * 1024 * 1024


class DeliveryError(RuntimeError):
    """Kafka did not accept every alert of a visit."""


def producer_config(kafka: KafkaSettings) -> dict[str, str | int | bool]:
    return {
        **kafka.client_config(),
        "enable.idempotence": True,
        "acks": "all",
        "compression.type": "snappy",
        "linger.ms": 20,
        "batch.size": 4 * 1024 * 1024,
        "message.max.bytes": MAX_MESSAGE_BYTES,
        "queue.buffering.max.kbytes": 1024 * 1024,
        "delivery.timeout.ms": 300_000,
    }


@dataclass
class VisitReport:
    visit: int
    alerts: int
    bytes: int
    seconds: float
    first_id: int
    failed: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.alerts / self.seconds if self.seconds else 0.0


class AlertProducer:
    """Produces visits of alerts with consecutive diaSourceIds, each visit flushed and checked."""

    def __init__(self, kafka: KafkaSettings, topic: str, factory: AlertFactory) -> None:
        self.topic = topic
        self.factory = factory
        self._producer = Producer(producer_config(kafka), logger=log)
        self._failed: list[str] = []
        self._delivered = 0

    def _on_delivery(self, error: KafkaError | None, _message: Message) -> None:
        if error is None:
            self._delivered += 1
        else:
            self._failed.append(str(error))

    def check_connection(self, timeout: float = 30.0) -> None:
        """Fail fast with a clear error when Kafka refuses the credentials or the topic is missing."""
        try:
            metadata = self._producer.list_topics(self.topic, timeout=timeout)
        except KafkaException as exc:
            raise DeliveryError(f"cannot reach Kafka or log in: {exc.args[0]}") from exc
        topic = metadata.topics.get(self.topic)
        if topic is None or topic.error is not None:
            reason = topic.error if topic is not None else "missing"
            raise DeliveryError(f"topic {self.topic!r} is not available to this user: {reason}")

    def produce_visit(
        self,
        visit: int,
        first_id: int,
        count: int,
        rate: float = 0.0,
        progress: Callable[[int], object] | None = None,
    ) -> VisitReport:
        """Produce `count` alerts with ids first_id.. and wait until Kafka acknowledged all."""
        self._failed = []
        self._delivered = 0
        started = time.monotonic()
        total_bytes = 0
        for index in range(count):
            if rate > 0:
                ahead = started + index / rate - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)
            value = self.factory.encoded(first_id + index)
            total_bytes += len(value)
            headers: list[tuple[str, str | bytes | None]] = [
                (PRODUCER_TIMESTAMP_HEADER, str(time.time_ns() // 1_000_000).encode())
            ]
            while True:
                try:
                    self._producer.produce(self.topic, value, headers=headers, on_delivery=self._on_delivery)
                    break
                except BufferError:
                    self._producer.poll(0.05)
            self._producer.poll(0)
            if progress is not None:
                progress(1)
        remaining = self._producer.flush(300)
        seconds = time.monotonic() - started
        report = VisitReport(visit, count, total_bytes, seconds, first_id, list(self._failed))
        if remaining or self._failed or self._delivered != count:
            raise DeliveryError(
                f"visit {visit}: {self._delivered}/{count} alerts acknowledged, {remaining} undelivered, "
                f"errors: {sorted(set(self._failed))[:3]}"
            )
        log.info(
            "visit produced",
            extra={
                "visit": visit,
                "alerts": count,
                "megabytes": round(total_bytes / 1e6, 1),
                "seconds": round(seconds, 2),
                "alerts_per_second": round(report.rate),
            },
        )
        return report
