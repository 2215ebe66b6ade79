"""Small helpers for talking to the local Kafka as different principals."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, Message, TopicPartition
from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    NewTopic,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialUpsertion,
)

from infra.providers.kafka_admin import exact_filter
from localfacility.facility import LocalFacility
from localfacility.kafka import admin_client_config
from services.common import logs
from services.common.offsets import topic_end_offsets

QUIET = logs.silent("tests.kafka")


def client_config(facility: LocalFacility, user: str, password: str) -> dict[str, str]:
    """Config for a SCRAM-SHA-512 client on the brokers' external listener."""
    return {
        **admin_client_config(facility.settings, facility.credentials),
        "sasl.username": user,
        "sasl.password": password,
    }


def admin(facility: LocalFacility) -> AdminClient:
    """An admin client authenticated as the facility's super user."""
    return admin_client(admin_client_config(facility.settings, facility.credentials))


def admin_client(config: dict[str, str]) -> AdminClient:
    return AdminClient(config, logger=QUIET)


def delete_acls_of(facility: LocalFacility, user: str) -> None:
    """Remove every ACL naming this user."""
    everything = AclBindingFilter(
        ResourceType.ANY,
        None,
        ResourcePatternType.ANY,
        f"User:{user}",
        None,
        AclOperation.ANY,
        AclPermissionType.ANY,
    )
    client = admin(facility)
    for future in client.delete_acls([everything]).values():
        future.result(timeout=30)


def create_scram_user(facility: LocalFacility, user: str) -> str:
    """Create (or reset) a SCRAM-SHA-512 user with a fresh password; return the password."""
    password = secrets.token_urlsafe(16)
    upsert = UserScramCredentialUpsertion(
        user, ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096), password.encode()
    )
    client = admin(facility)
    for future in client.alter_user_scram_credentials([upsert]).values():
        future.result(timeout=30)
    return password


def retire_scram_user(facility: LocalFacility, user: str) -> None:
    """Lock a test user out by giving it a password nobody knows.

    Not a deletion: on Kafka 4.3.1 (single combined KRaft node) replaying a
    RemoveUserScramCredentialRecord at restart leaves the admin unable to log in.
    """
    create_scram_user(facility, user)


def end_offsets(facility: LocalFacility, topics: list[str]) -> dict[tuple[str, int], int]:
    """The high watermark of every partition of these topics, read as the super user."""
    consumer = Consumer(
        {**admin_client_config(facility.settings, facility.credentials), "group.id": "admin-watermarks"},
        logger=QUIET,
    )
    try:
        return {
            (topic, partition): high
            for topic in topics
            for partition, high in topic_end_offsets(consumer, topic, timeout=10).items()
        }
    finally:
        consumer.close()


def start_group_at(facility: LocalFacility, group: str, offsets: dict[tuple[str, int], int]) -> None:
    """Commit these offsets for a (not yet running) consumer group, so it starts exactly there."""
    request = ConsumerGroupTopicPartitions(
        group, [TopicPartition(topic, partition, offset) for (topic, partition), offset in offsets.items()]
    )
    client = admin(facility)  # held until the futures complete
    for future in client.alter_consumer_group_offsets([request]).values():
        future.result(timeout=30)


def committed_offsets(facility: LocalFacility, group: str) -> dict[tuple[str, int], int]:
    """What the group has committed, per partition."""
    client = admin(facility)  # held until the futures complete
    futures = client.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)])
    result = next(iter(futures.values())).result(timeout=30)
    return {(tp.topic, tp.partition): tp.offset for tp in result.topic_partitions if tp.offset >= 0}


def delete_groups(facility: LocalFacility, groups: list[str]) -> None:
    """Remove consumer groups a test made (they must have no active member)."""
    client = admin(facility)  # held until the futures complete
    for future in client.delete_consumer_groups(groups, request_timeout=30).values():
        future.result()


@contextmanager
def topic_of_its_own(
    facility: LocalFacility, topic: str, config: dict[str, str] | None = None
) -> Iterator[str]:
    """A topic a test makes for itself, deleted afterwards."""
    client = admin(facility)
    client.create_topics([NewTopic(topic, 1, 1, config=config or {})])[topic].result(timeout=30)
    try:
        yield topic
    finally:
        client.delete_topics([topic])[topic].result(timeout=30)


def allow(user: str, kind: ResourceType, name: str, *operations: AclOperation) -> list[AclBinding]:
    return [
        AclBinding(kind, name, ResourcePatternType.LITERAL, f"User:{user}", "*", op, AclPermissionType.ALLOW)
        for op in operations
    ]


@contextmanager
def granted(facility: LocalFacility, bindings: list[AclBinding]) -> Iterator[None]:
    """ACLs a test adds, removed afterwards. Give them to a user of the test's own: the stack's
    deploy owns all of its users' ACLs and removes any added by hand."""
    client = admin(facility)
    for future in client.create_acls(bindings).values():
        future.result(timeout=30)
    try:
        yield
    finally:
        for future in client.delete_acls([exact_filter(b) for b in bindings]).values():
            future.result(timeout=30)


def read_from(
    facility: LocalFacility,
    start: dict[tuple[str, int], int],
    timeout: float = 30,
    settings: dict[str, Any] | None = None,
) -> list[Message]:
    """Every message from these offsets to the partitions' current ends, read as the super user
    by assignment: no consumer group is made."""
    stop = end_offsets(facility, sorted({topic for topic, _ in start}))
    wanted = {tp: end for tp, end in stop.items() if end > start.get(tp, end)}
    consumer = Consumer(
        {
            **admin_client_config(facility.settings, facility.credentials),
            "group.id": "admin-reads",
            **(settings or {}),
        },
        logger=QUIET,
    )
    consumer.assign(
        [TopicPartition(topic, partition, start[(topic, partition)]) for topic, partition in wanted]
    )
    found: list[Message] = []
    deadline = time.monotonic() + timeout
    try:
        while wanted and time.monotonic() < deadline:
            for message in consumer.consume(100, timeout=0.5):
                if message.error() is not None:
                    continue
                found.append(message)
                key = (message.topic() or "", message.partition() or 0)
                if (message.offset() or 0) + 1 >= wanted.get(key, 0):
                    wanted.pop(key, None)
    finally:
        consumer.close()
    assert not wanted, f"timed out reading {sorted(wanted)}"
    return found
