"""The archive on both storage backends, its metrics, and an ingester killed mid-batch."""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import httpx
import pytest
from confluent_kafka import Consumer, TopicPartition

from alertdist_common.bulk import read_frames
from localfacility.facility import LocalFacility
from localfacility.kafka import admin_client_config
from localfacility.services import ArchiveServices
from services.common.storage import alert_key, compress_alert
from services.common.wire import decode
from services.producer.alerts import AlertFactory
from services.producer.producer import AlertProducer

from .kafka_helpers import QUIET, committed_offsets, end_offsets
from .test_services import kafka_settings, raw_get, wait_for_archive

TOPIC = "alerts-simulated"
FACTORY = AlertFactory.from_package()


def produce(outputs: dict[str, Any], count: int) -> int:
    """`count` realistic alerts by the producer's user; returns the first diaSourceId."""
    first_id = time.time_ns() // 1000
    producer = AlertProducer(kafka_settings(outputs, "alert-producer"), TOPIC, FACTORY)
    producer.produce_visit(0, first_id, count)
    return first_id


def expected_object(dia_source_id: int) -> bytes:
    return compress_alert(FACTORY.encoded(dia_source_id))


@pytest.mark.parametrize("separate_archive", [("gcs", "gcs-check"), ("s3", "s3-check")], indirect=True)
def test_each_backend_archives_and_serves_alerts_byte_identical(
    local_stack: dict[str, Any], separate_archive: ArchiveServices
) -> None:
    services = separate_archive
    services.up()
    count = 50
    first_id = produce(local_stack, count)
    url = services.archive_url()
    for dia_source_id in (first_id, first_id + count // 2, first_id + count - 1):
        assert wait_for_archive(url, dia_source_id).status_code == 200
        assert raw_get(f"{url}/v1/alerts/{dia_source_id}") == expected_object(dia_source_id)
    # The objects are in this backend's bucket itself, with the schema beside them.
    store = services.store()
    assert store.get(alert_key(first_id)) == expected_object(first_id)
    assert httpx.get(f"{url}/v1/schemas/{FACTORY.schema_id}").json()["type"] == "record"
    # Ingester metrics: exactly what it archived since it started at the topics' end.
    deadline = time.monotonic() + 30
    while services.ingester_metrics().get("alertdist_archive_alerts_total", 0) < count:
        assert time.monotonic() < deadline, services.ingester_metrics()
        time.sleep(0.5)
    metrics = services.ingester_metrics()
    assert metrics["alertdist_archive_alerts_total"] == count
    # The bulk route: the whole visit and an unknown id, in the order asked, byte for byte.
    asked = [*reversed(range(first_id, first_id + count)), 1]
    answer = httpx.post(f"{url}/v1/bulk/alerts", json={"ids": asked}, timeout=60)
    assert answer.status_code == 200
    assert read_frames(answer.content) == [(i, expected_object(i)) for i in asked[:-1]] + [(1, None)]
    assert metrics["alertdist_archive_dead_letters_total"] == 0
    assert metrics["alertdist_archive_schemas"] == 1
    # Server metrics, on their own port, by route template.
    scraped = httpx.get(services.metrics_url()).text
    assert (
        'alertdist_archive_http_requests_total{route="/v1/alerts/{dia_source_id}",status="200"} ' in scraped
    )
    assert "/v1/alerts/" + str(first_id) not in scraped
    assert httpx.get(f"{url}/metrics").status_code == 404  # not on the public port


def archived_range(
    facility: LocalFacility, start: dict[tuple[str, int], int], stop: dict[tuple[str, int], int]
) -> list[int]:
    """diaSourceIds of the messages between two offset maps of TOPIC, read as the super user."""
    partitions = [tp for tp in start if tp[0] == TOPIC and stop.get(tp, start[tp]) > start[tp]]
    consumer = Consumer(
        {
            **admin_client_config(facility.settings, facility.credentials),
            "group.id": "admin-reader",
            "enable.auto.commit": False,
        },
        logger=QUIET,
    )
    consumer.assign(
        [TopicPartition(topic, partition, start[(topic, partition)]) for topic, partition in partitions]
    )
    remaining = {tp: stop[tp] - start[tp] for tp in partitions}
    ids = []
    deadline = time.monotonic() + 60
    try:
        while any(remaining.values()) and time.monotonic() < deadline:
            for message in consumer.consume(500, timeout=1.0):
                tp = (message.topic(), message.partition())
                if message.error() is None and message.offset() < stop[tp]:
                    ids.append(int(decode(message.value(), FACTORY.parsed_schema)["diaSourceId"]))
                    remaining[tp] -= 1
    finally:
        consumer.close()
    assert not any(remaining.values()), "could not read back the committed range"
    return ids


@pytest.mark.parametrize("separate_archive", [("s3", "crash-check")], indirect=True)
def test_killing_the_ingester_mid_batch_loses_nothing_and_replays_identically(
    facility: LocalFacility,
    local_stack: dict[str, Any],
    separate_archive: ArchiveServices,
) -> None:
    services = separate_archive
    group = services.ingester_name
    start = committed_offsets(facility, group)
    count = 2000
    first_id = produce(local_stack, count)  # a backlog, so the ingester is busy when killed
    spec = services.ingester_spec()
    pid, _ = facility.supervisor.start(spec)
    deadline = time.monotonic() + 120
    while services.ingester_metrics().get("alertdist_archive_batches_total", 0) < 1:
        assert time.monotonic() < deadline, "the ingester archived no batch"
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    archived_before_kill = services.ingester_metrics()["alertdist_archive_alerts_total"]
    assert 0 < archived_before_kill < count, "the kill must land while alerts remain"

    # Never committed past what it wrote: every committed alert is in the store, intact.
    store = services.store()
    at_kill = committed_offsets(facility, group)
    committed_ids = archived_range(facility, start, at_kill)
    assert committed_ids
    assert len(committed_ids) < count
    for dia_source_id in committed_ids:
        assert store.get(alert_key(dia_source_id)) == expected_object(dia_source_id)

    # Restarted, it replays from the last commit and the archive ends up complete and identical.
    facility.supervisor.start(spec)
    end = end_offsets(facility, [TOPIC])
    deadline = time.monotonic() + 180
    while any(committed_offsets(facility, group).get(tp, 0) < high for tp, high in end.items()):
        assert time.monotonic() < deadline, "the restarted ingester did not catch up"
        time.sleep(0.5)
    for dia_source_id in range(first_id, first_id + count):
        assert store.get(alert_key(dia_source_id)) == expected_object(dia_source_id), dia_source_id
