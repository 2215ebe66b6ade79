"""Copy every alert from Kafka into the object store; commit offsets only after the writes.

Each alert is stored gzipped under its diaSourceId, each schema under its id. A message that is
not a decodable alert goes to the dead-letter topic with the reason; an outage of the store or
the registry pauses the ingester (with backoff) and nothing is committed until it recovers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from confluent_kafka import (
    TIMESTAMP_NOT_AVAILABLE,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)

from alertdist_common.kafka import KafkaSettings
from alertdist_common.layout import SCHEMAS_PREFIX
from services.common.registry import RegistrySchemas, RegistryUnavailableError, UnknownSchemaError
from services.common.storage import (
    ArchiveStores,
    StoreUnavailableError,
    alert_key,
    canary_key,
    compress_alert,
    schema_key,
    stored_metadata,
)
from services.common.wire import WireFormatError, decode, unframe

log = logging.getLogger("alertdist.archive_ingester")
DEFAULT_GROUP = "archive-ingester"


@dataclass(frozen=True)
class StoredObject:
    """An object to write, uncompressed; its key says its type, and alerts are gzipped on the way."""

    key: str
    data: bytes


@dataclass(frozen=True)
class DeadLetter:
    message: Message
    reason: str


@dataclass
class BatchPlan:
    """What one batch of messages becomes: objects to write and messages to dead-letter."""

    objects: list[StoredObject] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    new_schemas: set[int] = field(default_factory=set)
    alerts: int = 0
    timestamps_ms: list[int] = field(default_factory=list)  # the alerts' Kafka timestamps, where set


# Upper bounds of the alert-age histogram's buckets, in seconds, around the 60 s delivery target.
AGE_BUCKETS = (1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 45.0, 60.0, 90.0, 120.0, 300.0, 600.0)


@dataclass
class AlertAges:
    """How old each alert was when archived and committed, from its Kafka timestamp (the producer's
    CreateTime): the delivery latency a consumer in the brokers' place sees. A histogram's counts."""

    counts: list[int] = field(default_factory=lambda: [0] * len(AGE_BUCKETS))  # per bucket, not cumulative
    count: int = 0
    total_seconds: float = 0.0

    def observe(self, seconds: float) -> None:
        self.count += 1
        self.total_seconds += seconds
        for index, bound in enumerate(AGE_BUCKETS):
            if seconds <= bound:
                self.counts[index] += 1
                return

    def cumulative(self) -> list[tuple[str, int]]:
        """(upper bound, alerts at most that old) for each bucket, +Inf last, as Prometheus reads them."""
        running, buckets = 0, []
        for bound, count in zip(AGE_BUCKETS, self.counts, strict=True):
            running += count
            buckets.append((str(bound), running))
        return [*buckets, ("+Inf", self.count)]


@dataclass
class IngestStats:
    alerts: int = 0
    dead_letters: int = 0
    schemas: int = 0
    batches: int = 0
    retries: int = 0
    ages: AlertAges = field(default_factory=AlertAges)


class Backoff:
    """Exponential backoff between retries, capped."""

    def __init__(self, first: float = 0.5, cap: float = 30.0) -> None:
        self.cap, self.delay = cap, first

    def next_delay(self) -> float:
        delay, self.delay = self.delay, min(self.cap, self.delay * 2)
        return delay


class ArchiveIngester:
    def __init__(
        self,
        kafka: KafkaSettings,
        topics: list[str],
        dead_letter_topic: str,
        stores: ArchiveStores,
        schemas: RegistrySchemas,
        batch_size: int = 500,
        writers: int = 16,
        gzip_level: int = 1,
        group: str = DEFAULT_GROUP,
        max_poll_interval_s: float = 300.0,
        canary_topic: str | None = None,
    ) -> None:
        self.topics = topics + ([canary_topic] if canary_topic else [])
        self.canary_topic = canary_topic
        self.group = group
        self.dead_letter_topic = dead_letter_topic
        self.stores = stores
        self.schemas = schemas
        self.batch_size = batch_size
        self.gzip_level = gzip_level
        self.stats = IngestStats()
        self._on_stats: Callable[[IngestStats], object] | None = None
        self._stored_schemas: set[int] = set()
        self._paused = False
        self._pool = ThreadPoolExecutor(max_workers=writers, thread_name_prefix="archive-writer")
        self._consumer = Consumer(
            {
                **kafka.client_config(),
                "group.id": group,
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                "fetch.max.bytes": 64 * 1024 * 1024,
                "max.partition.fetch.bytes": 16 * 1024 * 1024,
                # polled through every outage (paused), so this bounds only a stuck process
                "max.poll.interval.ms": int(max_poll_interval_s * 1000),
                "session.timeout.ms": min(45_000, int(max_poll_interval_s * 1000)),
            },
            logger=log,
        )
        self._dead_letter_producer = Producer(
            {
                **kafka.client_config(),
                "enable.idempotence": True,
                "acks": "all",
                "message.max.bytes": 16 * 1024 * 1024,
                "message.timeout.ms": 30_000,  # each send has its delivery report within 30 s
            },
            logger=log,
        )

    # -- planning: pure apart from registry look-ups ---------------------------------------
    def plan(self, messages: list[Message]) -> BatchPlan:
        """Decode each message; valid alerts become objects, the rest dead letters."""
        plan = BatchPlan()
        for message in messages:
            value = message.value() or b""
            try:
                schema_id, _ = unframe(value)
                schema = self.schemas.get(schema_id)
                alert = decode(value, schema.parsed)
                dia_source_id = alert["diaSourceId"]
                if not isinstance(dia_source_id, int):
                    raise WireFormatError("alert has no integer diaSourceId")
                key = (
                    canary_key(dia_source_id)
                    if message.topic() == self.canary_topic
                    else alert_key(dia_source_id)
                )
            except (WireFormatError, UnknownSchemaError, KeyError, ValueError) as exc:
                plan.dead_letters.append(DeadLetter(message, f"{type(exc).__name__}: {exc}"))
                continue
            if schema_id not in self._stored_schemas and schema_id not in plan.new_schemas:
                plan.new_schemas.add(schema_id)
                plan.objects.append(StoredObject(schema_key(schema_id), schema.avro_json))
            plan.objects.append(StoredObject(key, value))
            plan.alerts += 1
            timestamp_type, timestamp_ms = message.timestamp()
            if timestamp_type != TIMESTAMP_NOT_AVAILABLE:
                plan.timestamps_ms.append(timestamp_ms)
        return plan

    # -- effects ---------------------------------------------------------------------------
    def _put(self, obj: StoredObject) -> None:
        """Compress and write, on one of the writer threads."""
        content_type, content_encoding = stored_metadata(obj.key)
        data = obj.data
        if content_encoding == "gzip":
            data = compress_alert(data, self.gzip_level)
        bucket = self.stores.schemas if obj.key.startswith(SCHEMAS_PREFIX) else self.stores.alerts
        bucket.put(obj.key, data, content_type, content_encoding)

    def _write_all(self, objects: list[StoredObject], stop: threading.Event) -> bool:
        """Write every object, retrying the failed ones with backoff. False if stopped first."""
        pending = objects
        backoff = Backoff()
        while pending:
            futures = [(obj, self._pool.submit(self._put, obj)) for obj in pending]
            failed = []
            for obj, future in futures:
                try:
                    future.result()
                except StoreUnavailableError as exc:
                    failed.append(obj)
                    error = exc
            if failed and not self._retry_after(
                "object store unavailable; retrying", backoff, stop, pending=len(failed), error=str(error)
            ):
                return False
            pending = failed
        return True

    def _dead_letter(self, letters: list[DeadLetter], stop: threading.Event) -> bool:
        """Send each letter once, wait for every delivery report, and send again only those whose
        delivery failed: a retry never repeats a letter that arrived."""
        backoff = Backoff()
        pending = letters
        while pending:
            failed: list[DeadLetter] = []
            errors: list[str] = []
            for letter in pending:
                source = letter.message

                def on_delivery(
                    error: KafkaError | None,
                    _msg: Message,
                    letter: DeadLetter = letter,
                    failed: list[DeadLetter] = failed,
                    errors: list[str] = errors,
                ) -> None:
                    if error is not None:
                        failed.append(letter)
                        errors.append(str(error))

                try:
                    self._dead_letter_producer.produce(
                        self.dead_letter_topic,
                        source.value(),
                        headers=[
                            ("reason", letter.reason.encode()),
                            ("source_topic", (source.topic() or "").encode()),
                            ("source_partition", str(source.partition()).encode()),
                            ("source_offset", str(source.offset()).encode()),
                        ],
                        on_delivery=on_delivery,
                    )
                except (KafkaException, BufferError) as exc:  # refused at once: never sent
                    failed.append(letter)
                    errors.append(str(exc))
            while self._dead_letter_producer.flush(0.5) > 0:  # message.timeout.ms bounds this
                self._keep_in_group()
            if not failed:
                return True
            if not self._retry_after(
                "dead-letter topic unavailable; retrying",
                backoff,
                stop,
                pending=len(failed),
                errors=errors[:3],
            ):
                return False
            pending = failed
        return True

    def _keep_in_group(self) -> None:
        """Poll with every partition paused, so the group keeps this member through an outage
        longer than max.poll.interval.ms. A message read anyway (a partition assigned meanwhile)
        is sought back, to be read again after the outage: nothing is skipped."""
        self._consumer.pause(self._consumer.assignment())
        message = self._consumer.poll(0)
        if message is not None and message.error() is None:
            self._consumer.seek(
                TopicPartition(message.topic() or "", message.partition() or 0, message.offset() or 0)
            )
        self._paused = True

    def _retry_after(self, event: str, backoff: Backoff, stop: threading.Event, **details: object) -> bool:
        """An outage met: log it, count the retry and wait in the group; False when stopping."""
        log.warning(event, extra=details)
        self._count_retry()
        if stop.is_set():
            return False
        self._wait_in_group(backoff, stop)
        return True

    def _wait_in_group(self, backoff: Backoff, stop: threading.Event) -> None:
        deadline = time.monotonic() + backoff.next_delay()
        while not stop.is_set() and (left := deadline - time.monotonic()) > 0:
            self._keep_in_group()
            stop.wait(min(left, 0.5))

    def _resume(self) -> None:
        if self._paused:
            self._consumer.resume(self._consumer.assignment())
            self._paused = False

    def _count_retry(self) -> None:
        """Count a retry and report it at once: an outage shows in the metrics while it lasts."""
        self.stats.retries += 1
        self._report_stats()

    def _report_stats(self) -> None:
        if self._on_stats is not None:
            self._on_stats(self.stats)

    def _commit(self, messages: list[Message], stop: threading.Event) -> None:
        """Commit what the batch archived; a passing failure (a coordinator loading after a Kafka
        restart) is retried in the group. If the partitions moved to another member meanwhile,
        the commit is dropped: that member archives them again, as identical objects."""
        positions: dict[tuple[str, int], int] = {}
        for message in messages:
            tp = (message.topic() or "", message.partition() or 0)
            positions[tp] = max(positions.get(tp, -1), (message.offset() or 0) + 1)
        offsets = [
            TopicPartition(topic, partition, offset) for (topic, partition), offset in positions.items()
        ]
        backoff = Backoff()
        while True:
            try:
                self._consumer.commit(offsets=offsets, asynchronous=False)
                return
            except KafkaException as exc:
                error: KafkaError = exc.args[0]
                if not error.retriable() or stop.is_set():
                    log.warning(
                        "commit dropped; the batch will be archived again", extra={"error": error.str()}
                    )
                    return
                self._retry_after("commit failed; retrying", backoff, stop, error=error.str())

    def process(self, messages: list[Message], stop: threading.Event) -> bool:
        """Archive one batch and commit it; False (nothing committed) if stopped during an outage."""
        backoff = Backoff()
        while True:
            try:
                plan = self.plan(messages)
                break
            except RegistryUnavailableError as exc:
                if not self._retry_after(
                    "schema registry unavailable; retrying", backoff, stop, error=str(exc)
                ):
                    return False
        if not self._write_all(plan.objects, stop):
            return False
        if plan.dead_letters and not self._dead_letter(plan.dead_letters, stop):
            return False
        self._stored_schemas |= plan.new_schemas
        self._commit(messages, stop)
        self._resume()
        committed_ms = time.time() * 1000
        for timestamp_ms in plan.timestamps_ms:
            self.stats.ages.observe(max(0.0, (committed_ms - timestamp_ms) / 1000))
        self.stats.batches += 1
        self.stats.alerts += plan.alerts
        self.stats.schemas = len(self._stored_schemas)
        self.stats.dead_letters += len(plan.dead_letters)
        for letter in plan.dead_letters:
            log.warning(
                "dead-lettered a message",
                extra={
                    "reason": letter.reason,
                    "topic": letter.message.topic(),
                    "partition": letter.message.partition(),
                    "offset": letter.message.offset(),
                },
            )
        return True

    def run(self, stop: threading.Event, on_stats: Callable[[IngestStats], object] | None = None) -> None:
        """Consume until `stop` is set; every committed offset is archived or dead-lettered.
        `on_stats` is called after each batch and each retry."""
        self._on_stats = on_stats
        self._consumer.subscribe(self.topics)
        log.info("ingesting", extra={"topics": self.topics, "group": self.group})
        try:
            while not stop.is_set():
                messages = self._consumer.consume(self.batch_size, timeout=1.0)
                errors = [m for m in messages if m.error() is not None]
                for message in errors:
                    log.warning("consumer error", extra={"error": str(message.error())})
                messages = [m for m in messages if m.error() is None]
                if not messages:
                    continue
                started = time.monotonic()
                if not self.process(messages, stop):
                    log.warning("stopped during an outage; the uncommitted batch will be replayed")
                    return
                log.info(
                    "batch archived",
                    extra={
                        "messages": len(messages),
                        "seconds": round(time.monotonic() - started, 3),
                        "alerts_total": self.stats.alerts,
                        "dead_letters_total": self.stats.dead_letters,
                    },
                )
                self._report_stats()
        finally:
            self.close()

    def close(self) -> None:
        self._consumer.close()
        self._dead_letter_producer.flush(10)
        self._pool.shutdown(wait=True)
