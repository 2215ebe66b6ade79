"""Integration tests run against the real local facility."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from confluent_kafka.admin import AclOperation

from localfacility.facility import LocalFacility
from localfacility.services import ArchiveServices

from .archives import separate_archive_on
from .kafka_helpers import end_offsets, topic_of_its_own


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


@pytest.fixture(scope="session")
def bad_input(facility: LocalFacility, local_stack: dict[str, Any]) -> Iterator[tuple[str, ArchiveServices]]:
    """A topic of the tests' own for bad input (malformed, oversized), configured as the alert
    topics and read by an archive of its own, so the brokers' topics hold only alerts; removed
    afterwards with its ACLs."""
    alert_topic = local_stack["topics"][local_stack["alertTopics"][0]]
    grants = {
        "alert-producer": [AclOperation.WRITE, AclOperation.DESCRIBE],
        "archive-ingester": [AclOperation.READ, AclOperation.DESCRIBE],
    }
    config = {
        "max.message.bytes": str(alert_topic["maxMessageBytes"]),
        "message.timestamp.type": alert_topic["timestampType"],
    }
    topic = f"bad-input-{uuid.uuid4().hex[:6]}"
    with (
        topic_of_its_own(facility, topic, grants, config),
        separate_archive_on(facility, [topic], "s3", "bad-input") as archive,
    ):
        archive.up()
        yield topic, archive


@pytest.fixture(scope="session", autouse=True)
def brokers_topics_at_start(
    facility: LocalFacility, local_stack: dict[str, Any]
) -> dict[tuple[str, int], int]:
    """Where the alert topics ended when the session began: what the tests wrote lies after
    (checked by test_brokers_topics.py, last)."""
    return end_offsets(facility, local_stack["alertTopics"])
