"""The local facility's parts are real servers, secured as at the facilities."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer
from confluent_kafka.admin import (
    AclBinding,
    AclOperation,
    AclPermissionType,
    ConfigResource,
    NewTopic,
    ResourcePatternType,
    ResourceType,
)
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage  # type: ignore[attr-defined]

from alertdist_common.schemas import SchemaVersion, schema_json
from localfacility.credentials import REGISTRY_ADMIN_USER, REGISTRY_READER_USER
from localfacility.facility import LocalFacility
from localfacility.kafka import MAX_MESSAGE_BYTES
from localfacility.objectstore import s3_client

from .kafka_helpers import (
    QUIET,
    admin,
    admin_client,
    client_config,
    create_scram_user,
    delete_acls_of,
    retire_scram_user,
)


@pytest.fixture(scope="module")
def topic(facility: LocalFacility) -> Iterator[str]:
    """A fresh topic holding one message written by the admin."""
    name = f"test-facility-{uuid.uuid4().hex[:8]}"
    client = admin(facility)
    client.create_topics([NewTopic(name, num_partitions=1, replication_factor=1)])[name].result(30)
    producer = Producer(
        client_config(facility, "admin", facility.credentials.kafka_admin_password.get_secret_value())
    )
    producer.produce(name, b"hello")
    assert producer.flush(30) == 0
    yield name
    client.delete_topics([name])[name].result(30)


def _read_one(config: dict[str, str], topic: str, group: str, timeout: float = 20) -> bytes:
    """Read one message; raise KafkaException on any error the broker returns."""
    consumer = Consumer(
        {**config, "group.id": group, "auto.offset.reset": "earliest", "enable.auto.commit": False},
        logger=QUIET,
    )
    consumer.subscribe([topic])
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            message = consumer.poll(1)
            if message is None:
                continue
            if message.error():
                raise KafkaException(message.error())
            value: bytes = message.value()
            return value
        raise TimeoutError(f"no message from {topic} within {timeout} s")
    finally:
        consumer.close()


def test_admin_metadata_call_succeeds(facility: LocalFacility) -> None:
    metadata = admin(facility).list_topics(timeout=10)
    assert list(metadata.brokers) == [1]


def test_wrong_scram_password_is_refused(facility: LocalFacility) -> None:
    config = client_config(facility, "admin", "not-the-password")
    client = admin_client(config)
    with pytest.raises(KafkaException) as raised:
        client.list_topics(timeout=10)
    assert raised.value.args[0].code() in {KafkaError._AUTHENTICATION, KafkaError._TRANSPORT}


def test_user_without_acl_cannot_read_and_can_once_granted(facility: LocalFacility, topic: str) -> None:
    user = f"noacl-{uuid.uuid4().hex[:6]}"
    password = create_scram_user(facility, user)
    config = client_config(facility, user, password)
    group = f"{user}-group"
    try:
        with pytest.raises(KafkaException) as raised:
            _read_one(config, topic, group, timeout=15)
        assert raised.value.args[0].code() in {
            KafkaError.TOPIC_AUTHORIZATION_FAILED,
            KafkaError.GROUP_AUTHORIZATION_FAILED,
        }

        grants = [
            AclBinding(
                ResourceType.TOPIC,
                topic,
                ResourcePatternType.LITERAL,
                f"User:{user}",
                "*",
                AclOperation.READ,
                AclPermissionType.ALLOW,
            ),
            AclBinding(
                ResourceType.GROUP,
                user,
                ResourcePatternType.PREFIXED,
                f"User:{user}",
                "*",
                AclOperation.READ,
                AclPermissionType.ALLOW,
            ),
        ]
        client = admin(facility)
        for future in client.create_acls(grants).values():
            future.result(30)
        assert _read_one(config, topic, group) == b"hello"
    finally:
        delete_acls_of(facility, user)
        retire_scram_user(facility, user)


def test_sasl_ssl_listener_verifies_with_generated_ca(facility: LocalFacility) -> None:
    endpoints = facility.endpoints()
    assert endpoints.kafka_bootstrap_tls is not None
    assert endpoints.kafka_ca_file is not None
    config = {
        **client_config(facility, "admin", facility.credentials.kafka_admin_password.get_secret_value()),
        "bootstrap.servers": endpoints.kafka_bootstrap_tls,
        "security.protocol": "SASL_SSL",
        "ssl.ca.location": endpoints.kafka_ca_file,
    }
    assert 1 in admin_client(config).list_topics(timeout=15).brokers


def test_broker_allows_ten_mebibyte_messages(facility: LocalFacility) -> None:
    resource = ConfigResource(ConfigResource.Type.BROKER, "1")
    client = admin(facility)
    configs = client.describe_configs([resource])[resource].result(30)
    assert int(configs["message.max.bytes"].value) >= MAX_MESSAGE_BYTES
    assert configs["auto.create.topics.enable"].value == "false"


def test_registry_imports_schema_with_explicit_id(facility: LocalFacility) -> None:
    url = facility.endpoints().schema_registry_url
    admin_auth = (REGISTRY_ADMIN_USER, facility.credentials.registry_admin_password.get_secret_value())
    reader_auth = (
        REGISTRY_READER_USER,
        facility.credentials.registry_reader_password.get_secret_value(),
    )  # direct
    subject = f"test-import-{uuid.uuid4().hex[:6]}"
    # the real LSST alert schema 11.1, so the test coexists with the deployed `alert-packet`
    schema = json.loads(schema_json(SchemaVersion(11, 1)))
    with httpx.Client(base_url=url, timeout=10) as http:
        assert http.put(f"/mode/{subject}", json={"mode": "IMPORT"}, auth=admin_auth).status_code == 200
        registered = http.post(
            f"/subjects/{subject}/versions",
            json={"schema": json.dumps(schema), "schemaType": "AVRO", "id": 1101, "version": 1101},
            auth=admin_auth,
        )
        assert registered.status_code == 200, registered.text
        assert registered.json()["id"] == 1101
        assert http.put(f"/mode/{subject}", json={"mode": "READWRITE"}, auth=admin_auth).status_code == 200

        by_id = http.get("/schemas/ids/1101", auth=reader_auth)
        assert by_id.status_code == 200
        assert json.loads(by_id.json()["schema"]) == schema
        version = http.get(f"/subjects/{subject}/versions/1101", auth=reader_auth)
        assert version.json()["id"] == 1101

        refused = http.post(
            f"/subjects/{subject}/versions", json={"schema": json.dumps(schema)}, auth=reader_auth
        )
        assert refused.status_code == 403
        assert http.get("/subjects", auth=("reader", "wrong")).status_code == 401
        http.delete(f"/subjects/{subject}", auth=admin_auth)
        http.delete(f"/subjects/{subject}?permanent=true", auth=admin_auth)


def test_s3_object_round_trip(facility: LocalFacility) -> None:
    s3 = s3_client(facility.settings, facility.credentials)
    bucket = f"test-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    body = uuid.uuid4().bytes * 1000
    s3.put_object(Bucket=bucket, Key="alerts/1.avro.gz", Body=body)
    assert s3.get_object(Bucket=bucket, Key="alerts/1.avro.gz")["Body"].read() == body
    s3.delete_object(Bucket=bucket, Key="alerts/1.avro.gz")
    s3.delete_bucket(Bucket=bucket)


def test_gcs_emulator_object_round_trip(facility: LocalFacility) -> None:
    client = storage.Client(
        project="alertdist-test",
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": facility.endpoints().gcs_url},
    )
    bucket = client.create_bucket(f"test-{uuid.uuid4().hex[:8]}")
    body = uuid.uuid4().bytes * 1000
    bucket.blob("alerts/1.avro.gz").upload_from_string(body)
    assert client.bucket(bucket.name).blob("alerts/1.avro.gz").download_as_bytes() == body
    bucket.delete(force=True)


def test_up_again_reuses_running_processes(facility: LocalFacility) -> None:
    before = {s.name: s.pid for s in facility.status()}
    after = {s.name: s.pid for s in facility.up()}
    assert before == after
    assert all(pid is not None for pid in after.values())


def test_no_secret_in_logs_or_endpoints(facility: LocalFacility) -> None:
    secrets = [value.get_secret_value() for _, value in facility.credentials]
    texts = [facility.endpoints().model_dump_json(), repr(facility.credentials)]
    texts += [p.read_text(errors="replace") for p in facility.settings.log_dir.glob("*.log")]
    leaked = [s for s in secrets if any(s in text for text in texts)]
    assert leaked == []
