"""What each dynamic provider decides from old and new inputs, and how ACLs round-trip through
confluent-kafka's types (no servers: the providers' live calls are tested on the local facility)."""

from __future__ import annotations

from typing import Any

import pytest

from infra.providers.kafka_admin import (
    ScramUserProvider,
    TopicProvider,
    UserAclsProvider,
    _binding,
    _entry,
    acl_entry,
)
from infra.providers.registry import SchemaRegistrationProvider
from infra.tables import AclRule, Operation, PatternType, ResourceType

TOPIC = {"name": "alerts", "partitions": 12, "replicationFactor": 3, "config": {"retention.ms": "1"}}


@pytest.mark.parametrize(
    ("change", "changes", "replaces"),
    [
        ({}, False, []),
        ({"partitions": 24}, True, []),
        ({"partitions": 6}, True, ["partitions"]),
        ({"replicationFactor": 1}, True, ["replicationFactor"]),
        ({"config": {"retention.ms": "2"}}, True, []),
        ({"name": "other"}, True, ["name"]),
    ],
)
def test_topic_diff(change: dict[str, Any], changes: bool, replaces: list[str]) -> None:
    result = TopicProvider().diff("alerts", TOPIC, {**TOPIC, **change})
    assert result.changes is changes
    assert result.replaces == replaces


def test_a_new_password_updates_the_user_in_place() -> None:
    old = {"username": "fink-local", "password": "a"}
    assert ScramUserProvider().diff("x", old, {**old, "password": "b"}).replaces == []
    assert ScramUserProvider().diff("x", old, {**old, "password": "b"}).changes
    assert not ScramUserProvider().diff("x", old, dict(old)).changes


RULES = [
    AclRule("fink-local", ResourceType.TOPIC, "alerts", PatternType.LITERAL, Operation.DESCRIBE_CONFIGS),
    AclRule("fink-local", ResourceType.GROUP, "fink-local", PatternType.PREFIXED, Operation.ALL),
]


@pytest.mark.parametrize("rule", RULES)
def test_an_acl_round_trips_through_a_binding(rule: AclRule) -> None:
    entry = acl_entry(rule)
    assert _entry(_binding(rule.principal, entry)) == entry


def test_acl_sets_compare_without_order_and_see_extras() -> None:
    entries = [acl_entry(rule) for rule in RULES]
    olds = {"principal": "User:fink-local", "acls": list(reversed(entries))}
    news = {"principal": "User:fink-local", "acls": entries}
    assert not UserAclsProvider().diff("x", olds, news).changes
    stray = {**entries[0], "resourceName": "dead-letter"}
    drifted = UserAclsProvider().diff("x", {**olds, "acls": [*entries, stray]}, news)
    assert drifted.changes
    assert drifted.replaces == []


def test_a_schema_missing_from_the_registry_is_a_change() -> None:
    props = {"url": "u", "subject": "alert-packet", "expectedIds": [300, 1101]}
    provider = SchemaRegistrationProvider()
    assert not provider.diff("x", {**props, "schemaIds": [300, 1101]}, props).changes
    assert provider.diff("x", {**props, "schemaIds": [1101]}, props).changes
    assert provider.diff("x", {**props, "schemaIds": [300, 1101]}, {**props, "url": "v"}).replaces == ["url"]
