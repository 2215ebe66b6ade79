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
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from confluent_kafka import Consumer, KafkaError, Producer

from localfacility.deploy import LocalDeployment
from localfacility.facility import LocalFacility
from localfacility.kafka import admin_client_config
from localfacility.process import ServiceSpec
from localfacility.services import ArchiveServices
from services.common.storage import ObjectStore, alert_key
from services.common.wire import decode

from .kafka_helpers import QUIET, committed_offsets, delete_groups, end_offsets, start_group_at
from .test_archive import FACTORY, TOPIC, expected_object, produce, read_metrics_file
from .test_services import consume_all, kafka_settings

DEAD_LETTER = "alert-archive-dead-letter"


def service(facility: LocalFacility, name: str) -> ServiceSpec:
    return next(spec for spec in facility.specs() if spec.name == name)


def wait_until(condition: Any, timeout: float, what: str, interval: float = 0.5) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting until {what}"
        time.sleep(interval)


def archived(store: ObjectStore, ids: range) -> set[int]:
    """Which of these alerts the store holds."""
    held = {info.key for info in store.objects("v1/alerts/")}
    return {i for i in ids if alert_key(i) in held}


class Reader(threading.Thread):
    """A broker reading the alert topic in its own fresh group, counting diaSourceIds."""

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
        self.stop = threading.Event()

    def run(self) -> None:
        self.consumer.subscribe([TOPIC])
        while not self.stop.is_set():
            for message in self.consumer.consume(500, timeout=0.5):
                if message.error() is None:
                    self.seen[decode(message.value(), FACTORY.parsed_schema)["diaSourceId"]] += 1
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
    kafka = service(facility, "kafka")
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
            lambda: read_metrics_file(archive).get("alertdist_archive_retries_total", 0) >= 2,
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
    wait_until(
        lambda: (
            committed_offsets(facility, archive.ingester_name)
            == end_offsets(facility, local_stack["alertTopics"])
        ),
        30,
        "the ingester commits up to the end",
    )


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
            lambda: read_metrics_file(archive).get("alertdist_archive_retries_total", 0) >= 2,
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
    facility: LocalFacility, local_stack: dict[str, Any]
) -> None:
    """Above the 10 MiB limit a write is refused with a clear error and nothing enters the topic;
    a 9 MiB message that is no alert is dead-lettered whole, and the ingester carries on."""
    producer = Producer(
        {**kafka_settings(local_stack, "alert-producer").client_config(), "message.max.bytes": 20 * 2**20},
        logger=QUIET,
    )
    refused: list[KafkaError] = []
    before = end_offsets(facility, [TOPIC])
    producer.produce(TOPIC, os.urandom(11 * 2**20), on_delivery=lambda err, _m: refused.append(err))
    producer.flush(60)
    assert [error.code() for error in refused] == [KafkaError.MSG_SIZE_TOO_LARGE]
    assert end_offsets(facility, [TOPIC]) == before

    marker = uuid.uuid4().bytes
    garbage = marker + os.urandom(9 * 2**20)
    after_it = time.time_ns() // 1000
    producer.produce(TOPIC, garbage)
    producer.produce(TOPIC, FACTORY.encoded(after_it))
    assert producer.flush(60) == 0
    store = ArchiveServices(LocalDeployment(facility)).store()
    wait_until(lambda: archived(store, range(after_it, after_it + 1)), 60, "the next alert is archived")
    letters = consume_all(
        {
            **admin_client_config(facility.settings, facility.credentials),
            "group.id": f"dlq-{uuid.uuid4().hex[:6]}",
            "fetch.max.bytes": 64 * 2**20,
            "max.partition.fetch.bytes": 16 * 2**20,
        },
        DEAD_LETTER,
        10**9,
        timeout=20,
    )
    found = [m for m in letters if (m.value() or b"").startswith(marker)]
    assert len(found) == 1
    assert found[0].value() == garbage
    assert dict(found[0].headers())["reason"].decode()


def test_the_archive_server_answers_a_crowd_of_clients(local_stack: dict[str, Any]) -> None:
    """400 concurrent connections, valid, unknown and malformed ids mixed: every request gets
    its exact answer, and the server stays healthy."""
    first_id = produce(local_stack, 20)
    url = local_stack["archiveUrl"]
    wait_until(
        lambda: httpx.get(f"{url}/v1/alerts/{first_id + 19}").status_code == 200,
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
