"""The user and ACL tables, topic settings and names, without Pulumi."""

from __future__ import annotations

from infra.config import Facility
from infra.stackfile import load_stack
from infra.tables import (
    ARCHIVE_INGESTER_USER,
    PRODUCER_USER,
    Operation,
    PatternType,
    ResourceType,
    UserRole,
    broker_username,
    kafka_users,
    stack_users,
    topic_config,
)


def test_broker_usernames_carry_the_facility() -> None:
    assert broker_username("fink", Facility.USDF) == "fink-usdf"
    assert broker_username("pittgoogle", Facility.IDF) == "pittgoogle-idf"


def test_one_user_per_broker_plus_services() -> None:
    users = {u.username: u.role for u in kafka_users(load_stack("usdf"))}
    brokers = [name for name, role in users.items() if role is UserRole.COMMUNITY_BROKER]
    assert len(brokers) == 9  # phalanx's seven community brokers, SNAPS and POI/Variables
    assert all(name.endswith("-usdf") for name in brokers)
    # on USDF's shared cluster the services' users carry the facility too
    assert users[f"{ARCHIVE_INGESTER_USER}-usdf"] is UserRole.ARCHIVE_INGESTER
    # the facility's registry, and its producer (prompt processing, as phalanx's prompt-alert)
    assert not {UserRole.SCHEMA_REGISTRY, UserRole.PRODUCER} & set(users.values())
    assert {u.username for u in stack_users(load_stack("usdf"))} == {f"{ARCHIVE_INGESTER_USER}-usdf"}
    idf = {u.username for u in kafka_users(load_stack("idf"))}
    assert {PRODUCER_USER, ARCHIVE_INGESTER_USER, "schema-registry"} <= idf


def test_local_stack_has_no_registry_kafka_user() -> None:
    # the local registry stores schemas in PostgreSQL, not in a `_schemas` topic
    assert "schema-registry" not in {u.username for u in kafka_users(load_stack("local"))}


def test_broker_group_rule_is_prefixed_by_its_own_name() -> None:
    fink = next(u for u in kafka_users(load_stack("idf")) if u.username == "fink-idf")
    groups = [r for r in fink.acls if r.resource_type is ResourceType.GROUP]
    assert [(r.resource_name, r.pattern, r.operation) for r in groups] == [
        ("fink-idf", PatternType.PREFIXED, Operation.ALL)
    ]
    assert {r.principal for r in fink.acls} == {"User:fink-idf"}


def test_removing_a_broker_removes_its_user() -> None:
    config = load_stack("idf").model_copy(update={"brokers": ["fink", "lasair"]})
    brokers = [u.username for u in kafka_users(config) if u.role is UserRole.COMMUNITY_BROKER]
    assert brokers == ["fink-idf", "lasair-idf"]


def test_producer_cannot_read_and_ingester_cannot_write_alerts() -> None:
    users = {u.username: u for u in kafka_users(load_stack("idf"))}
    alert_topics = {t.name for t in load_stack("idf").alert_topics}
    producer_ops = {r.operation for r in users[PRODUCER_USER].acls}
    assert producer_ops == {Operation.WRITE, Operation.DESCRIBE}
    ingester_writes = {
        r.resource_name for r in users[ARCHIVE_INGESTER_USER].acls if r.operation is Operation.WRITE
    }
    assert ingester_writes == {"alert-archive-dead-letter"}
    assert not ingester_writes & alert_topics


def test_topic_config_carries_retention_size_and_timestamp() -> None:
    topic = load_stack("idf").alert_topics[0]
    settings = topic_config(topic, 2)
    assert settings["retention.ms"] == str(topic.retention_ms)
    assert settings["retention.bytes"] == str(topic.retention_bytes)
    assert topic.retention_bytes > 0
    assert settings["message.timestamp.type"] == "LogAppendTime"
    assert settings["min.insync.replicas"] == "2"
    assert int(settings["max.message.bytes"]) >= 10 * 1024 * 1024
