"""Integration tests run against the real local facility."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from confluent_kafka.admin import AclOperation, ResourceType
from pydantic import SecretStr

from alertdist_common.kafka import KafkaSettings
from alertdist_common.outputs import StackOutputs
from localfacility.facility import LocalFacility
from localfacility.services import ArchiveServices

from .archives import separate_archive_on
from .kafka_helpers import (
    allow,
    create_scram_user,
    end_offsets,
    granted,
    retire_scram_user,
    topic_of_its_own,
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.path):
            item.add_marker(pytest.mark.integration)


@pytest.fixture
def separate_archive(
    facility: LocalFacility, local_stack: dict[str, Any], request: pytest.FixtureRequest
) -> Iterator[ArchiveServices]:
    """A second archive beside the stack's own, not started. Parametrised with (backend, label)."""
    backend, label = request.param
    with separate_archive_on(facility, local_stack["alertTopics"], backend, label) as services:
        yield services


BAD_INPUT_USER = "bad-input-tests"


@dataclass(frozen=True)
class BadInput:
    """The tests' own topic for bad input, the archive that reads it, and the login (a user of
    the tests' own) that writes and reads it."""

    topic: str
    archive: ArchiveServices
    kafka: KafkaSettings


@pytest.fixture(scope="session")
def bad_input(facility: LocalFacility, local_stack: dict[str, Any]) -> Iterator[BadInput]:
    """Malformed and oversized messages go here, never to the brokers' topics. The topic is
    configured as the alert topics; its user is the tests' own, because the stack's deploy owns
    all ACLs of the stack's users and would remove any added here. All removed afterwards."""
    alert_topic = local_stack["topics"][local_stack["alertTopics"][0]]
    dead_letter = next(
        name for name, topic in local_stack["topics"].items() if topic["role"] == "dead-letter"
    )
    config = {
        "max.message.bytes": str(alert_topic["maxMessageBytes"]),
        "message.timestamp.type": alert_topic["timestampType"],
    }
    topic = f"bad-input-{uuid.uuid4().hex[:6]}"
    password = create_scram_user(facility, BAD_INPUT_USER)
    kafka = (
        StackOutputs.model_validate(local_stack)
        .kafka_settings("alert-producer")
        .model_copy(update={"username": BAD_INPUT_USER, "password": SecretStr(password)})
    )
    bindings = [
        *allow(
            BAD_INPUT_USER,
            ResourceType.TOPIC,
            topic,
            AclOperation.WRITE,
            AclOperation.READ,
            AclOperation.DESCRIBE,
        ),
        *allow(BAD_INPUT_USER, ResourceType.TOPIC, dead_letter, AclOperation.WRITE, AclOperation.DESCRIBE),
        *allow(BAD_INPUT_USER, ResourceType.GROUP, "archive-ingester-bad-input", AclOperation.READ),
    ]
    try:
        with (
            topic_of_its_own(facility, topic, config),
            granted(facility, bindings),
            separate_archive_on(
                facility, [topic], "s3", "bad-input", kafka_login=(BAD_INPUT_USER, password)
            ) as archive,
        ):
            archive.up()
            yield BadInput(topic, archive, kafka)
    finally:
        retire_scram_user(facility, BAD_INPUT_USER)


@pytest.fixture(scope="session", autouse=True)
def brokers_topics_at_start(
    facility: LocalFacility, local_stack: dict[str, Any]
) -> dict[tuple[str, int], int]:
    """Where the alert topics ended when the session began: what the tests wrote lies after
    (checked by test_brokers_topics.py, last)."""
    return end_offsets(facility, local_stack["alertTopics"])
