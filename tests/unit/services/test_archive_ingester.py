"""The archive ingester's hardest paths, in seconds, with fakes for Kafka's clients, the registry
and the store: offsets committed only after the writes, dead letters with their reason, retries
through an outage of the store, the registry, the dead-letter topic or the group coordinator, and
nothing committed when the ingester stops during an outage. The integration tests run the same
on the real servers (tests/integration/test_services.py, test_faults.py)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import fastavro
import pytest
from confluent_kafka import (
    TIMESTAMP_CREATE_TIME,
    TIMESTAMP_NOT_AVAILABLE,
    KafkaError,
    KafkaException,
    TopicPartition,
)

from alertdist_common.kafka import KafkaSettings
from services.archive_ingester import ingester as ingester_module
from services.archive_ingester.ingester import ArchiveIngester
from services.common.registry import RegisteredSchema, RegistryUnavailableError, UnknownSchemaError
from services.common.storage import ArchiveStores, alert_key, canary_key, schema_key
from services.common.wire import encode
from tests.unit.services.memory_store import MemoryStore

SCHEMA_ID = 1101
SCHEMA_JSON = json.dumps(
    {"type": "record", "name": "alert", "fields": [{"name": "diaSourceId", "type": "long"}]}
).encode()
PARSED = fastavro.parse_schema(json.loads(SCHEMA_JSON))
KAFKA = KafkaSettings(bootstrap="127.0.0.1:1", username="archive-ingester", password="x")


@dataclass
class FakeMessage:
    """What the ingester reads of a confluent_kafka.Message."""

    _value: bytes
    _offset: int
    _partition: int = 0
    _topic: str = "alerts"
    _timestamp: tuple[int, int] = (TIMESTAMP_NOT_AVAILABLE, 0)

    def value(self) -> bytes:
        return self._value

    def timestamp(self) -> tuple[int, int]:
        return self._timestamp

    def topic(self) -> str:
        return self._topic

    def partition(self) -> int:
        return self._partition

    def offset(self) -> int:
        return self._offset

    def error(self) -> None:
        return None


@dataclass
class FakeConsumer:
    """Records commits (with what the store held at that moment) and pauses; `commit_errors`
    are raised by the next commits, in order."""

    store: MemoryStore
    commits: list[tuple[list[TopicPartition], set[str]]] = field(default_factory=list)
    commit_errors: list[KafkaException] = field(default_factory=list)
    paused: bool = False
    pauses: int = 0

    def commit(self, offsets: list[TopicPartition], asynchronous: bool) -> None:
        assert asynchronous is False
        if self.commit_errors:
            raise self.commit_errors.pop(0)
        self.commits.append((offsets, set(self.store.blobs)))

    def assignment(self) -> list[TopicPartition]:
        return [TopicPartition("alerts", 0)]

    def pause(self, _partitions: list[TopicPartition]) -> None:
        self.paused, self.pauses = True, self.pauses + 1

    def resume(self, _partitions: list[TopicPartition]) -> None:
        self.paused = False

    def poll(self, _timeout: float) -> None:
        return None

    def close(self) -> None:
        pass


@dataclass
class FakeProducer:
    """The dead-letter producer: `failures` deliveries fail (reported in flush), then all arrive."""

    failures: int = 0
    delivered: list[tuple[bytes, dict[str, bytes]]] = field(default_factory=list)
    attempts: int = 0
    _pending: list[tuple[bytes, dict[str, bytes], Any]] = field(default_factory=list)

    def produce(self, _topic: str, value: bytes, headers: list[tuple[str, bytes]], on_delivery: Any) -> None:
        self._pending.append((value, dict(headers), on_delivery))

    def flush(self, _timeout: float) -> int:
        for value, headers, on_delivery in self._pending:
            self.attempts += 1
            if self.failures:
                self.failures -= 1
                on_delivery(KafkaError(KafkaError._MSG_TIMED_OUT), None)
            else:
                self.delivered.append((value, headers))
                on_delivery(None, None)
        self._pending.clear()
        return 0


class FakeRegistry:
    """Knows SCHEMA_ID; `down` calls fail as an unreachable registry does."""

    def __init__(self) -> None:
        self.down = 0

    def get(self, schema_id: int) -> RegisteredSchema:
        if self.down:
            self.down -= 1
            raise RegistryUnavailableError("unreachable")
        if schema_id != SCHEMA_ID:
            raise UnknownSchemaError(f"schema id {schema_id} is not in the registry")
        return RegisteredSchema(SCHEMA_ID, SCHEMA_JSON, PARSED)


@dataclass
class Rig:
    ingester: ArchiveIngester
    store: MemoryStore
    registry: FakeRegistry
    consumer: FakeConsumer
    producer: FakeProducer


@pytest.fixture
def rig(monkeypatch: pytest.MonkeyPatch) -> Iterator[Rig]:
    store, registry, producer = MemoryStore(), FakeRegistry(), FakeProducer()
    consumer = FakeConsumer(store)
    monkeypatch.setattr(ingester_module, "Consumer", lambda *_a, **_k: consumer)
    monkeypatch.setattr(ingester_module, "Producer", lambda *_a, **_k: producer)
    monkeypatch.setattr(ingester_module.Backoff, "__init__", fast_backoff)
    ingester = ArchiveIngester(
        KAFKA,
        ["alerts"],
        "dead-letter",
        ArchiveStores(store, store),
        registry,
        writers=4,
        canary_topic="canaries",
    )
    yield Rig(ingester, store, registry, consumer, producer)
    ingester.close()


def fast_backoff(self: ingester_module.Backoff, first: float = 0.01, cap: float = 0.05) -> None:
    self.cap, self.delay = cap, first


def alert(dia_source_id: int, offset: int, partition: int = 0) -> FakeMessage:
    return FakeMessage(encode({"diaSourceId": dia_source_id}, PARSED, SCHEMA_ID), offset, partition)


def committed(consumer: FakeConsumer) -> dict[int, int]:
    return {tp.partition: tp.offset for offsets, _ in consumer.commits for tp in offsets}


def test_a_batch_is_written_then_committed_past_its_last_offset_per_partition(rig: Rig) -> None:
    batch = [alert(1, 10), alert(2, 11), alert(3, 7, partition=1)]
    assert rig.ingester.process(batch, threading.Event())
    keys = {alert_key(1), alert_key(2), alert_key(3), schema_key(SCHEMA_ID)}
    assert set(rig.store.blobs) == keys
    ((_, stored_when_committed),) = rig.consumer.commits
    assert stored_when_committed == keys  # the commit came after every write
    assert committed(rig.consumer) == {0: 12, 1: 8}
    assert rig.ingester.stats.alerts == 3
    assert rig.ingester.stats.schemas == 1


def test_each_archived_alert_s_age_since_its_kafka_timestamp_is_counted(rig: Rig) -> None:
    """The delivery-latency figure: alerts with a timestamp, once committed; not dead letters, not
    messages without one."""
    now_ms = int(time.time() * 1000)
    batch = [
        replace(alert(1, 10), _timestamp=(TIMESTAMP_CREATE_TIME, now_ms - 30_000)),
        replace(alert(2, 11), _timestamp=(TIMESTAMP_CREATE_TIME, now_ms - 75_000)),
        alert(3, 12),
        replace(FakeMessage(b"not an alert", 13), _timestamp=(TIMESTAMP_CREATE_TIME, now_ms - 30_000)),
    ]
    assert rig.ingester.process(batch, threading.Event())
    ages = dict(rig.ingester.stats.ages.cumulative())
    assert (ages["20.0"], ages["45.0"], ages["60.0"], ages["90.0"], ages["+Inf"]) == (0, 1, 1, 2, 2)
    assert 105 <= rig.ingester.stats.ages.total_seconds < 115


def test_canaries_are_archived_under_their_own_prefix_and_alerts_never_are(rig: Rig) -> None:
    """The canary topic's alerts go to v2/canaries/, so the production prefix holds survey alerts only."""
    canary = FakeMessage(encode({"diaSourceId": 2}, PARSED, SCHEMA_ID), 5, _topic="canaries")
    assert rig.ingester.topics == ["alerts", "canaries"]
    assert rig.ingester.process([alert(1, 10), canary], threading.Event())
    assert set(rig.store.blobs) == {alert_key(1), canary_key(2), schema_key(SCHEMA_ID)}
    assert canary_key(2).startswith("v2/canaries/")


def test_the_schema_is_written_once_over_batches(rig: Rig) -> None:
    for offset in range(3):
        rig.ingester.process([alert(offset, offset)], threading.Event())
    assert rig.store.puts == 4


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"\x00\x01", "WireFormatError: message of 2 bytes is too short"),
        (b"\x07" + bytes(10), "WireFormatError: wrong magic byte 7"),
        (
            encode({"diaSourceId": 5}, PARSED, 999),
            "UnknownSchemaError: schema id 999 is not in the registry",
        ),
    ],
)
def test_what_is_not_an_alert_is_dead_lettered_with_its_reason_and_committed(
    rig: Rig, value: bytes, reason: str
) -> None:
    batch = [alert(1, 0), FakeMessage(value, 1)]
    assert rig.ingester.process(batch, threading.Event())
    ((letter, headers),) = rig.producer.delivered
    assert letter == value
    assert headers["reason"].decode().startswith(reason)
    assert (headers["source_topic"], headers["source_partition"], headers["source_offset"]) == (
        b"alerts",
        b"0",
        b"1",
    )
    assert alert_key(1) in rig.store.blobs
    assert committed(rig.consumer) == {0: 2}
    assert rig.ingester.stats.dead_letters == 1


def test_a_store_outage_is_retried_and_nothing_is_committed_before_every_write(rig: Rig) -> None:
    rig.store.fail_puts = 3
    assert rig.ingester.process([alert(1, 0), alert(2, 1)], threading.Event())
    assert rig.ingester.stats.retries >= 1
    ((_, stored_when_committed),) = rig.consumer.commits
    assert {alert_key(1), alert_key(2)} <= stored_when_committed
    assert rig.consumer.pauses >= 1  # kept in the group through the outage
    assert not rig.consumer.paused  # and reading again after it


def test_stopping_during_a_store_outage_commits_nothing(rig: Rig) -> None:
    rig.store.down = True
    stop = threading.Event()
    stop.set()
    assert not rig.ingester.process([alert(1, 0)], stop)
    assert rig.consumer.commits == []
    assert rig.ingester.stats.alerts == 0


def test_a_registry_outage_is_waited_out(rig: Rig) -> None:
    rig.registry.down = 2
    assert rig.ingester.process([alert(1, 0)], threading.Event())
    assert rig.ingester.stats.retries == 2
    assert alert_key(1) in rig.store.blobs
    assert committed(rig.consumer) == {0: 1}


def test_a_failed_dead_letter_is_sent_again_and_a_delivered_one_is_not(rig: Rig) -> None:
    rig.producer.failures = 1
    batch = [FakeMessage(b"\x00\x01", 0), FakeMessage(b"\x00\x02", 1)]
    assert rig.ingester.process(batch, threading.Event())
    assert sorted(value for value, _ in rig.producer.delivered) == [b"\x00\x01", b"\x00\x02"]
    assert rig.producer.attempts == 3
    assert committed(rig.consumer) == {0: 2}


def test_stopping_while_dead_letters_fail_commits_nothing(rig: Rig) -> None:
    rig.producer.failures = 1
    stop = threading.Event()
    stop.set()
    assert not rig.ingester.process([FakeMessage(b"\x00\x01", 0)], stop)
    assert rig.consumer.commits == []


def test_a_passing_commit_failure_is_retried_and_a_lost_assignment_drops_the_commit(rig: Rig) -> None:
    retriable = KafkaException(KafkaError(KafkaError.COORDINATOR_LOAD_IN_PROGRESS, retriable=True))
    rig.consumer.commit_errors = [retriable]
    assert rig.ingester.process([alert(1, 0)], threading.Event())
    assert committed(rig.consumer) == {0: 1}
    rig.consumer.commit_errors = [KafkaException(KafkaError(KafkaError.UNKNOWN_MEMBER_ID))]
    assert rig.ingester.process([alert(2, 1)], threading.Event())
    assert len(rig.consumer.commits) == 1  # dropped: the partition's new owner archives it again
    assert alert_key(2) in rig.store.blobs
