"""The services on the real local facility: produce, deliver, decode, archive, serve, dead-letter."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import fastavro
import httpx
import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

from alertdist_common.kafka import KafkaSettings
from alertdist_common.outputs import StackOutputs
from alertdist_common.schemas import same_schema
from localfacility.facility import LocalFacility
from services.common.offsets import topic_end_offsets
from services.common.storage import compress_alert
from services.common.wire import WireFormatError, decode, frame
from services.producer.alerts import AlertFactory
from services.producer.producer import AlertProducer

from .conftest import BadInput
from .kafka_helpers import end_offsets, read_from

TOPIC = "alerts-simulated"
DEAD_LETTER = "alert-archive-dead-letter"


def kafka_settings(outputs: dict[str, Any], user: str) -> KafkaSettings:
    return StackOutputs.model_validate(outputs).kafka_settings(user)


def wait_for_archive(archive_url: str, dia_source_id: int, timeout: float = 60) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        response = httpx.get(
            f"{archive_url}/v1/alerts/{dia_source_id}", headers={"Accept-Encoding": "identity"}
        )
        if response.status_code != 404 or time.monotonic() > deadline:
            return response
        time.sleep(0.5)


def raw_get(url: str) -> bytes:
    with httpx.stream("GET", url) as response:
        response.raise_for_status()
        return b"".join(response.iter_raw())


@pytest.fixture(scope="module")
def start_offsets(local_stack: dict[str, Any]) -> dict[int, int]:
    """Where the topic ended before this module produced anything."""
    return _end_offsets_as(local_stack, "fink-local")


@pytest.fixture(scope="module")
def produced(local_stack: dict[str, Any], start_offsets: dict[int, int]) -> tuple[int, int]:
    """One visit of 200 realistic alerts by the producer's own user; returns (first id, count)."""
    first_id = time.time_ns() // 1000
    producer = AlertProducer(
        kafka_settings(local_stack, "alert-producer"), TOPIC, AlertFactory.from_package()
    )
    producer.check_connection()
    report = producer.produce_visit(0, first_id, 200)
    assert report.alerts == 200
    return first_id, 200


def test_a_broker_reads_and_decodes_through_the_registry(
    local_stack: dict[str, Any], produced: tuple[int, int], start_offsets: dict[int, int]
) -> None:
    first_id, count = produced
    user = "fink-local"
    consumer = Consumer(
        {
            **kafka_settings(local_stack, user).client_config(),
            "group.id": f"{user}-test-{uuid.uuid4().hex[:6]}",
            "enable.auto.commit": False,
        }
    )
    consumer.assign([TopicPartition(TOPIC, p, offset) for p, offset in start_offsets.items()])
    ours: list[Any] = []
    deadline = time.monotonic() + 60
    try:
        while len(ours) < count and time.monotonic() < deadline:
            batch = [m for m in consumer.consume(500, timeout=1.0) if m.error() is None]
            ours += [m for m in batch if first_id <= _id_of(m.value()) < first_id + count]
    finally:
        consumer.close()
    assert len(ours) == count
    registry = SchemaRegistryClient({"url": local_stack["registryUrl"]})  # anonymous, as brokers read
    deserialize = AvroDeserializer(registry)
    alert = deserialize(ours[0].value(), SerializationContext(TOPIC, MessageField.VALUE))
    assert first_id <= alert["diaSourceId"] < first_id + count
    assert alert["cutoutScience"].startswith(b"SIMPLE")
    assert ours[0].key() is None
    headers = dict(ours[0].headers() or [])
    assert abs(int(headers["producer_timestamp"]) - time.time() * 1000) < 600_000


_FACTORY = AlertFactory.from_package()


def _id_of(value: bytes) -> int:
    try:
        return int(decode(value, _FACTORY.parsed_schema)["diaSourceId"])
    except WireFormatError:
        return -1  # the dead-letter test's deliberate garbage


def test_archive_returns_the_alert_byte_identical(
    local_stack: dict[str, Any], produced: tuple[int, int]
) -> None:
    first_id, count = produced
    archive = local_stack["archiveUrl"]
    for dia_source_id in (first_id, first_id + count - 1):
        assert wait_for_archive(archive, dia_source_id).status_code == 200
        stored = raw_get(f"{archive}/v1/alerts/{dia_source_id}")
        assert stored[:2] == b"\x1f\x8b"  # served gzipped, as stored
        assert stored == compress_alert(_FACTORY.encoded(dia_source_id))
        # Rubin's alert database recipe, with a plain client: the body is gzip, no transparent decoding
        assert gzip.decompress(httpx.get(f"{archive}/v1/alerts/{dia_source_id}").content) == (
            _FACTORY.encoded(dia_source_id)
        )
    registry = httpx.get(f"{local_stack['registryUrl']}/schemas/ids/1101")
    schema = httpx.get(f"{archive}/v1/schemas/1101")
    fastavro.parse_schema(schema.json())  # the bare Avro schema, as Rubin's server answers
    assert same_schema(schema.text, registry.json()["schema"])


def test_malformed_messages_go_to_the_dead_letter_topic(facility: LocalFacility, bad_input: BadInput) -> None:
    """On the tests' own bad-input topic, read by an archive of its own: the brokers' topics keep
    only alerts."""
    topic, archive = bad_input.topic, bad_input.archive
    good_id = time.time_ns() // 1000
    bad = {
        b"\x01" + _FACTORY.encoded(good_id)[1:]: "wrong magic byte",
        b"\x00\x00": "too short",
        frame(4242, b"\x02\x04"): "not in the registry",
        _FACTORY.encoded(good_id)[:-100]: "does not match schema",
    }
    dead_letters_before = end_offsets(facility, [DEAD_LETTER])
    producer = Producer(bad_input.kafka.client_config())
    for value in [*bad, _FACTORY.encoded(good_id)]:
        producer.produce(topic, value)
    assert producer.flush(30) == 0
    # the valid alert after the bad ones is archived: the ingester did not stop
    assert wait_for_archive(archive.archive_url(), good_id).status_code == 200
    letters = read_from(facility, dead_letters_before)
    assert {dict(m.headers())["source_topic"] for m in letters} == {topic.encode()}
    reasons = {m.value(): dict(m.headers())["reason"].decode() for m in letters}
    for value, reason in bad.items():
        assert reason in reasons.get(value, ""), (reason, reasons.get(value))


def test_producer_fails_clearly_on_wrong_password_and_bad_files(
    local_stack: dict[str, Any], tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "ALERTDIST_KAFKA_BOOTSTRAP": local_stack["bootstrapServers"],
        "ALERTDIST_KAFKA_USERNAME": "alert-producer",
        "ALERTDIST_KAFKA_PASSWORD": "wrong-password",
    }
    wrong = subprocess.run(
        [sys.executable, "-m", "services.producer.cli", "--alerts-per-visit", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert wrong.returncode == 2
    assert "cannot reach Kafka or log in" in wrong.stderr
    assert "wrong-password" not in wrong.stderr
    not_avro = tmp_path / "alerts.avro"
    not_avro.write_bytes(b"this is not avro")
    env["ALERTDIST_KAFKA_PASSWORD"] = local_stack["passwords"]["alert-producer"]
    bad_file = subprocess.run(
        [sys.executable, "-m", "services.producer.cli", "--alerts-file", str(not_avro)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad_file.returncode == 2
    assert "not an Avro container file" in bad_file.stderr


def test_facility_stream_runs_the_producer_with_the_stack_credentials(local_stack: dict[str, Any]) -> None:
    before = sum(_end_offsets_as(local_stack, "fink-local").values())
    result = subprocess.run(
        [sys.executable, "-m", "localfacility.cli", "stream", "--alerts", "25"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert sum(_end_offsets_as(local_stack, "fink-local").values()) - before == 25
    assert local_stack["passwords"]["alert-producer"] not in result.stdout + result.stderr


def _end_offsets_as(outputs: dict[str, Any], user: str) -> dict[int, int]:
    consumer = Consumer({**kafka_settings(outputs, user).client_config(), "group.id": f"{user}-offsets"})
    try:
        return topic_end_offsets(consumer, TOPIC)
    finally:
        consumer.close()
