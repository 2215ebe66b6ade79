"""Faults on the real local facility: a broker killed mid-visit, the object store and the registry
down, oversized messages, and a crowd of clients. Every test counts alerts by diaSourceId: nothing
lost, nothing delivered twice. Each is bounded in count and time."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from confluent_kafka import Consumer, KafkaError, Producer
from confluent_kafka.admin import (
    AclOperation,
    ResourceType,
)

from alertdist_common.layout import ALERTS_PREFIX
from infra.providers.kafka_admin import exact_filter
from localfacility import objectstore
from localfacility.deploy import LocalDeployment
from localfacility.facility import LocalFacility
from localfacility.ports import free_port
from localfacility.process import ServiceSpec
from localfacility.services import ArchiveServices
from services.common.storage import ObjectStore, alert_key
from services.common.wire import decode

from .archives import separate_archive_on
from .conftest import BadInput
from .kafka_helpers import (
    QUIET,
    admin,
    allow,
    committed_offsets,
    delete_groups,
    end_offsets,
    read_from,
    start_group_at,
)
from .test_archive import FACTORY, TOPIC, expected_object, produce
from .test_services import kafka_settings

DEAD_LETTER = "alert-archive-dead-letter"


def service(facility: LocalFacility, name: str) -> ServiceSpec:
    return next(spec for spec in facility.specs() if spec.name == name)


def wait_until(condition: Any, timeout: float, what: str, interval: float = 0.5) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting until {what}"
        time.sleep(interval)


def wait_until_committed_to_end(
    facility: LocalFacility, archive: ArchiveServices, topics: list[str], timeout: float
) -> None:
    wait_until(
        lambda: committed_offsets(facility, archive.ingester_name) == end_offsets(facility, topics),
        timeout,
        f"{archive.ingester_name} commits up to the end of {', '.join(topics)}",
    )


def archived(store: ObjectStore, ids: range) -> set[int]:
    """Which of these alerts the store holds."""
    held = {info.key for info in store.objects(ALERTS_PREFIX)}
    return {i for i in ids if alert_key(i) in held}


class Reader(threading.Thread):
    """A broker reading the alert topic in its own fresh group, counting diaSourceIds and noting
    when each arrived."""

    def __init__(self, outputs: dict[str, Any], user: str, facility: LocalFacility) -> None:
        super().__init__(daemon=True)
        self.group = f"{user}-faults-{uuid.uuid4().hex[:6]}"
        start_group_at(facility, self.group, end_offsets(facility, [TOPIC]))
        self.consumer = Consumer(
            {
                **kafka_settings(outputs, user).client_config(),
                "group.id": self.group,
                "enable.auto.commit": True,
                "auto.offset.reset": "earliest",
            },
            logger=QUIET,
        )
        self.seen: Counter[int] = Counter()
        self.arrivals: dict[int, float] = {}  # diaSourceId -> time.monotonic() of its first read
        self.stop = threading.Event()

    def run(self) -> None:
        self.consumer.subscribe([TOPIC])
        while not self.stop.is_set():
            for message in self.consumer.consume(500, timeout=0.5):
                if message.error() is None:
                    dia_source_id = decode(message.value(), FACTORY.parsed_schema)["diaSourceId"]
                    self.seen[dia_source_id] += 1
                    self.arrivals.setdefault(dia_source_id, time.monotonic())
        self.consumer.close()


def test_kafka_killed_mid_visit_loses_and_duplicates_nothing(
    facility: LocalFacility, local_stack: dict[str, Any]
) -> None:
    """SIGKILL the broker while the producer's CLI streams a visit; restart it. The producer
    finishes on its own, each broker group reads every alert once, the archive holds them all."""
    alerts, first_id = 3_000, time.time_ns() // 1000
    ids = range(first_id, first_id + alerts)
    readers = [Reader(local_stack, user, facility) for user in ("alerce-local", "lasair-local")]
    for reader in readers:
        reader.start()
    env = {
        **os.environ,
        "ALERTDIST_KAFKA_BOOTSTRAP": local_stack["bootstrapServers"],
        "ALERTDIST_KAFKA_USERNAME": "alert-producer",
        "ALERTDIST_KAFKA_PASSWORD": local_stack["passwords"]["alert-producer"],
    }
    producer = subprocess.Popen(
        [
            *(sys.executable, "-m", "services.producer.cli", "--topic", TOPIC),
            *("--alerts-per-visit", str(alerts), "--rate", "300", "--first-id", str(first_id)),
        ],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    kafka = service(facility, "kafka-1")
    try:
        wait_until(lambda: sum(r.seen.total() for r in readers) > 600, 60, "the visit is under way")
        pid = facility.supervisor.running_pid(kafka)
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        killed_at = readers[0].seen.total()
        time.sleep(2)
        facility.supervisor.start(kafka)
        _, errors = producer.communicate(timeout=240)
        assert producer.returncode == 0, errors[-2000:]
        assert killed_at < alerts, "the broker was killed after the visit had been read"
        for reader in readers:
            wait_until(lambda r=reader: set(ids) <= r.seen.keys(), 120, f"{reader.group} read the visit")
    finally:
        if producer.poll() is None:
            producer.kill()
        for reader in readers:
            reader.stop.set()
            reader.join(timeout=30)
        delete_groups(facility, [reader.group for reader in readers])
    for reader in readers:
        twice = {i: n for i, n in reader.seen.items() if i in ids and n != 1}
        assert twice == {}, f"{reader.group} read these alerts more than once"
    store = ArchiveServices(LocalDeployment(facility)).store()
    wait_until(lambda: archived(store, ids) == set(ids), 120, "the stack's archive holds the visit", 2)


@pytest.mark.parametrize("separate_archive", [("s3", "store-outage")], indirect=True)
def test_object_store_outage_pauses_the_ingester_and_loses_nothing(
    facility: LocalFacility, local_stack: dict[str, Any], separate_archive: ArchiveServices
) -> None:
    """With the S3 server stopped, the ingester retries and commits nothing; once it is back,
    every alert is archived, byte-identical."""
    archive, s3 = separate_archive, service(facility, "s3")
    archive.up()
    before = committed_offsets(facility, archive.ingester_name)
    assert facility.supervisor.stop(s3)
    try:
        first_id = produce(local_stack, 400)
        wait_until(
            lambda: archive.ingester_metrics().get("alertdist_archive_retries_total", 0) >= 2,
            60,
            "the ingester retries the store",
        )
        assert committed_offsets(facility, archive.ingester_name) == before
    finally:
        facility.supervisor.start(s3)
    ids = range(first_id, first_id + 400)
    store = archive.store()
    wait_until(lambda: archived(store, ids) == set(ids), 90, "every alert is archived", 1)
    for dia_source_id in (ids[0], ids[len(ids) // 2], ids[-1]):
        assert store.get(alert_key(dia_source_id)) == expected_object(dia_source_id)
    wait_until_committed_to_end(facility, archive, local_stack["alertTopics"], 30)


@pytest.mark.parametrize("separate_archive", [("gcs", "registry-outage")], indirect=True)
def test_registry_outage_pauses_the_ingester_and_loses_nothing(
    facility: LocalFacility, local_stack: dict[str, Any], separate_archive: ArchiveServices
) -> None:
    """A fresh ingester cannot learn the schema while the registry is down: it retries, archives
    nothing, commits nothing, dead-letters nothing; when the registry is back it archives all."""
    archive, registry = separate_archive, service(facility, "schema-registry")
    dead_letters_before = end_offsets(facility, [DEAD_LETTER])
    assert facility.supervisor.stop(registry)
    try:
        archive.up()
        before = committed_offsets(facility, archive.ingester_name)
        first_id = produce(local_stack, 200)
        wait_until(
            lambda: archive.ingester_metrics().get("alertdist_archive_retries_total", 0) >= 2,
            60,
            "the ingester retries the registry",
        )
        store = archive.store()
        assert archived(store, range(first_id, first_id + 200)) == set()
        assert committed_offsets(facility, archive.ingester_name) == before
    finally:
        facility.supervisor.start(registry)
    ids = range(first_id, first_id + 200)
    wait_until(lambda: archived(store, ids) == set(ids), 90, "every alert is archived", 1)
    assert end_offsets(facility, [DEAD_LETTER]) == dead_letters_before
    log = (facility.settings.log_dir / f"{archive.ingester_name}.log").read_text()
    assert "schema registry unavailable; retrying" in log


def test_oversized_messages_are_refused_or_dead_lettered(
    facility: LocalFacility, bad_input: BadInput
) -> None:
    """Above the 10 MiB limit a write is refused with a clear error and nothing enters the topic;
    a 9 MiB message that is no alert is dead-lettered whole, and the ingester carries on. On the
    tests' own bad-input topic (configured as the alert topics), so brokers never meet it."""
    topic, archive = bad_input.topic, bad_input.archive
    producer = Producer(
        {**bad_input.kafka.client_config(), "message.max.bytes": 20 * 2**20},
        logger=QUIET,
    )
    refused: list[KafkaError] = []
    before = end_offsets(facility, [topic])
    producer.produce(topic, os.urandom(11 * 2**20), on_delivery=lambda err, _m: refused.append(err))
    producer.flush(60)
    assert [error.code() for error in refused] == [KafkaError.MSG_SIZE_TOO_LARGE]
    assert end_offsets(facility, [topic]) == before

    dead_letters_before = end_offsets(facility, [DEAD_LETTER])
    garbage = uuid.uuid4().bytes + os.urandom(9 * 2**20)
    after_it = time.time_ns() // 1000
    producer.produce(topic, garbage)
    producer.produce(topic, FACTORY.encoded(after_it))
    assert producer.flush(60) == 0
    store = archive.store()
    wait_until(lambda: archived(store, range(after_it, after_it + 1)), 60, "the next alert is archived")
    letters = read_from(
        facility,
        dead_letters_before,
        settings={"fetch.max.bytes": 64 * 2**20, "max.partition.fetch.bytes": 16 * 2**20},
    )
    assert [m.value() for m in letters] == [garbage]
    assert dict(letters[0].headers())["reason"].decode()


def test_the_archive_server_answers_a_crowd_of_clients(local_stack: dict[str, Any]) -> None:
    """400 concurrent connections, valid, unknown and malformed ids mixed: every request gets
    its exact answer, and the server stays healthy."""
    first_id = produce(local_stack, 20)
    url = local_stack["archiveUrl"]
    # every one: the alerts spread over 12 partitions, archived in no fixed order
    wait_until(
        lambda: all(httpx.get(f"{url}/v1/alerts/{first_id + i}").status_code == 200 for i in range(20)),
        60,
        "the alerts are archived",
    )
    expected = {f"/v1/alerts/{first_id + i}": 200 for i in range(20)}
    expected |= {
        "/v1/alerts/1": 404,
        "/v1/schemas/1101": 200,
        "/v1/schemas/77": 404,
        "/v1/alerts/-5": 400,
        "/v1/alerts/" + "9" * 5000: 400,
        "/v1/alerts/..%2F..%2Fetc%2Fpasswd": 404,
        "/v1/alerts/%00": 400,
        "/metrics": 404,
    }
    paths = [path for path in expected for _ in range(400 // len(expected) + 1)][:400]

    def get(path: str) -> tuple[str, int]:
        with httpx.Client(base_url=url, timeout=60) as client:  # one connection per request
            return path, client.get(path).status_code

    with ThreadPoolExecutor(400) as pool:
        answers = list(pool.map(get, paths))
    wrong = [(path, status) for path, status in answers if status != expected[path]]
    assert wrong == []
    assert httpx.get(f"{url}/v1/health").json()["status"] == "ok"


POLL_INTERVAL_S = 10  # the ingester's max.poll.interval for the test (300 s in production)


def test_an_outage_longer_than_the_poll_interval_keeps_the_ingester_in_its_group(
    facility: LocalFacility, local_stack: dict[str, Any]
) -> None:
    """The S3 server stopped for 2.5 poll intervals: the ingester keeps polling with its partitions
    paused, so it is still the group's member when the store returns; it archives everything and
    commits, without a restart and without leaving the group."""
    s3 = service(facility, "s3")
    with separate_archive_on(
        facility,
        local_stack["alertTopics"],
        "s3",
        "long-outage",
        ingester_args=("--max-poll-interval", str(POLL_INTERVAL_S)),
    ) as archive:
        archive.up()
        pid = facility.supervisor.running_pid(archive.ingester_spec())
        assert facility.supervisor.stop(s3)
        try:
            first_id = produce(local_stack, 300)
            time.sleep(2.5 * POLL_INTERVAL_S)
            assert facility.supervisor.running_pid(archive.ingester_spec()) == pid
        finally:
            facility.supervisor.start(s3)
        ids = range(first_id, first_id + 300)
        store = archive.store()
        wait_until(lambda: archived(store, ids) == set(ids), 90, "every alert is archived", 1)
        wait_until_committed_to_end(facility, archive, local_stack["alertTopics"], 30)
        assert facility.supervisor.running_pid(archive.ingester_spec()) == pid
        log = (facility.settings.log_dir / f"{archive.ingester_name}.log").read_text()
        assert "object store unavailable; retrying" in log
        for left_the_group in ("max.poll.interval", "MAX_POLL_EXCEEDED", "commit dropped"):
            assert left_the_group not in log


def test_dead_letters_are_sent_once_through_a_dead_letter_outage(
    facility: LocalFacility, bad_input: BadInput
) -> None:
    """The ingester's write to the dead-letter topic refused (its ACL removed) while three bad
    messages wait: it retries only what failed, and once the ACL is back each letter is in the
    topic exactly once; the alert after them is archived."""
    topic, archive = bad_input.topic, bad_input.archive
    [write] = allow(bad_input.kafka.username, ResourceType.TOPIC, DEAD_LETTER, AclOperation.WRITE)
    client = admin(facility)
    before = end_offsets(facility, [DEAD_LETTER])
    retries = archive.ingester_metrics().get("alertdist_archive_retries_total", 0)
    markers = [uuid.uuid4().bytes for _ in range(3)]
    good_id = time.time_ns() // 1000
    for future in client.delete_acls([exact_filter(write)]).values():
        future.result(timeout=30)
    try:
        producer = Producer(bad_input.kafka.client_config(), logger=QUIET)
        for marker in markers:
            producer.produce(topic, marker + b" is no alert")
        producer.produce(topic, FACTORY.encoded(good_id))
        assert producer.flush(30) == 0
        wait_until(
            lambda: archive.ingester_metrics().get("alertdist_archive_retries_total", 0) >= retries + 2,
            90,
            "the ingester retries the dead-letter topic",
        )
    finally:
        for future in client.create_acls([write]).values():
            future.result(timeout=30)
    store = archive.store()
    wait_until(lambda: archived(store, range(good_id, good_id + 1)), 90, "the alert after them is archived")
    wait_until_committed_to_end(facility, archive, [topic], 120)
    letters = [m.value() for m in read_from(facility, before)]
    assert sorted(letters) == sorted(marker + b" is no alert" for marker in markers)


@contextmanager
def small_filesystem(path: Path, size_mb: int) -> Iterator[Path]:
    """A tmpfs of its own, so a test can fill it; skipped where this machine may not mount one."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(path)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small filesystem here: {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=True)


def test_a_full_object_store_commits_nothing_unwritten_and_recovers_when_space_returns(
    facility: LocalFacility, local_stack: dict[str, Any], tmp_path: Path
) -> None:
    """A second S3 server (versitygw) on an 8 MB filesystem takes an archive of its own; 300 alerts
    (about 19 MB) fill it. While it is full, every alert the ingester committed is in the store;
    once the filesystem grows, all 300 are archived byte-identical and committed."""
    topics = local_stack["alertTopics"]
    with small_filesystem(tmp_path / "s3-root", 8) as root:
        port = free_port()
        s3 = objectstore.s3_spec(facility.settings, facility.credentials, "s3-full-disk", root, port)
        endpoint = f"http://{facility.settings.host}:{port}"
        archive = ArchiveServices(
            LocalDeployment(facility),
            label="full-disk",
            bucket="alert-archive-full-disk",
            s3_endpoint=endpoint,
            server_port=free_port(),
            metrics_port=free_port(),
            topics=tuple(topics),
        )
        archive.metrics_file.unlink(missing_ok=True)
        facility.supervisor.start(s3)
        start = end_offsets(facility, topics)
        start_group_at(facility, archive.ingester_name, start)
        try:
            objectstore.s3_client(facility.settings, facility.credentials, endpoint).create_bucket(
                Bucket=archive.bucket
            )
            facility.supervisor.start(archive.ingester_spec())
            first_id = produce(local_stack, 300)
            wait_until(
                lambda: archive.ingester_metrics().get("alertdist_archive_retries_total", 0) >= 2,
                90,
                "the ingester meets the full store and retries",
            )
            committed = committed_offsets(facility, archive.ingester_name)
            assert committed != end_offsets(facility, topics), "all committed although the store is full"
            store = archive.store()
            held = {info.key for info in store.objects(ALERTS_PREFIX)}
            messages = read_from(facility, start, settings={"max.partition.fetch.bytes": 16 * 2**20})
            committed_ids = [
                decode(m.value(), FACTORY.parsed_schema)["diaSourceId"]
                for m in messages
                if (m.offset() or 0) < committed.get((m.topic() or "", m.partition() or 0), 0)
            ]
            assert [i for i in committed_ids if alert_key(i) not in held] == []
            subprocess.run(["mount", "-o", "remount,size=64m", str(root)], check=True)
            ids = range(first_id, first_id + 300)
            wait_until(lambda: archived(store, ids) == set(ids), 120, "every alert is archived", 1)
            for dia_source_id in (ids[0], ids[150], ids[-1]):
                assert store.get(alert_key(dia_source_id)) == expected_object(dia_source_id)
            wait_until_committed_to_end(facility, archive, topics, 30)
        finally:
            archive.down()
            delete_groups(facility, [archive.ingester_name])
            facility.supervisor.stop(s3)
