"""The local stack's topic and ACL providers against a fake admin client (an in-memory cluster
answering as Kafka's admin API does): creating, adopting, growing, reconciling and deleting. The
same providers run against the real Kafka in the integration tests."""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AclBinding, AclBindingFilter

from infra.providers import kafka_admin
from infra.providers.kafka_admin import TopicProvider, UserAclsProvider, _binding, acl_entry
from infra.tables import AclRule, Operation, PatternType, ResourceType

ADMIN = {"bootstrap": "127.0.0.1:1", "adminUser": "admin", "adminPassword": "x"}
TOPIC = {
    **ADMIN,
    "name": "alerts",
    "partitions": 12,
    "replicationFactor": 1,
    "config": {"retention.ms": "100"},
}
PRINCIPAL = "User:fink-local"


def done(value: Any = None, error: Exception | None = None) -> Future[Any]:
    future: Future[Any] = Future()
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)
    return future


def kafka_error(code: int) -> KafkaException:
    return KafkaException(KafkaError(code))


@dataclass
class FakeCluster:
    """Topics (partitions, replication factor, config) and ACL bindings, as the admin API sees them."""

    topics: dict[str, dict[str, Any]] = field(default_factory=dict)
    acls: list[AclBinding] = field(default_factory=list)

    def create_topics(self, new: list[Any]) -> dict[str, Future[None]]:
        (topic,) = new
        if topic.topic in self.topics:
            return {topic.topic: done(error=kafka_error(KafkaError.TOPIC_ALREADY_EXISTS))}
        self.topics[topic.topic] = {
            "partitions": topic.num_partitions,
            "replicas": topic.replication_factor,
            "config": dict(topic.config),
        }
        return {topic.topic: done()}

    def list_topics(self, name: str, timeout: float) -> Any:
        live = self.topics.get(name)
        partitions = (
            {}
            if live is None
            else {i: SimpleNamespace(replicas=[0] * live["replicas"]) for i in range(live["partitions"])}
        )
        metadata = {} if live is None else {name: SimpleNamespace(error=None, partitions=partitions)}
        return SimpleNamespace(topics=metadata)

    def describe_configs(self, resources: list[Any]) -> dict[Any, Future[Any]]:
        (resource,) = resources
        config = self.topics[resource.name]["config"]
        return {resource: done({key: SimpleNamespace(value=value) for key, value in config.items()})}

    def create_partitions(self, grows: list[Any]) -> dict[str, Future[None]]:
        (grow,) = grows
        self.topics[grow.topic]["partitions"] = grow.new_total_count
        return {grow.topic: done()}

    def alter_configs(self, resources: list[Any]) -> dict[Any, Future[None]]:
        (resource,) = resources
        self.topics[resource.name]["config"] = dict(resource.set_config_dict)
        return {resource: done()}

    def delete_topics(self, names: list[str]) -> dict[str, Future[None]]:
        (name,) = names
        if self.topics.pop(name, None) is None:
            return {name: done(error=kafka_error(KafkaError.UNKNOWN_TOPIC_OR_PART))}
        return {name: done()}

    def describe_acls(self, acl_filter: AclBindingFilter) -> Future[list[AclBinding]]:
        return done([b for b in self.acls if b.principal == acl_filter.principal])

    def create_acls(self, bindings: list[AclBinding]) -> dict[AclBinding, Future[None]]:
        self.acls += bindings
        return {binding: done() for binding in bindings}

    def delete_acls(
        self, filters: list[AclBindingFilter]
    ) -> dict[AclBindingFilter, Future[list[AclBinding]]]:
        results = {}
        for acl_filter in filters:
            matched = [b for b in self.acls if _same(b, acl_filter)]
            self.acls = [b for b in self.acls if b not in matched]
            results[acl_filter] = done(matched)
        return results


def _same(binding: AclBinding, acl_filter: AclBindingFilter) -> bool:
    fields = ("restype", "name", "resource_pattern_type", "principal", "host", "operation", "permission_type")
    return all(getattr(binding, f) == getattr(acl_filter, f) for f in fields)


@pytest.fixture
def cluster(monkeypatch: pytest.MonkeyPatch) -> FakeCluster:
    fake = FakeCluster()
    monkeypatch.setattr(kafka_admin, "AdminClient", lambda _config: fake)
    return fake


def test_a_new_topic_is_created_as_declared(cluster: FakeCluster) -> None:
    result = TopicProvider().create(TOPIC)
    assert result.id == "alerts"
    assert cluster.topics["alerts"] == {"partitions": 12, "replicas": 1, "config": {"retention.ms": "100"}}


def test_an_existing_topic_is_adopted_and_brought_to_the_declaration(cluster: FakeCluster) -> None:
    cluster.topics["alerts"] = {"partitions": 4, "replicas": 1, "config": {"retention.ms": "5"}}
    TopicProvider().create(TOPIC)
    assert cluster.topics["alerts"] == {"partitions": 12, "replicas": 1, "config": {"retention.ms": "100"}}


def test_an_existing_topic_of_another_replication_factor_is_refused_with_the_fix(
    cluster: FakeCluster,
) -> None:
    cluster.topics["alerts"] = {"partitions": 12, "replicas": 3, "config": {}}
    with pytest.raises(ValueError, match="exists with replication factor 3, not 1: delete it or declare"):
        TopicProvider().create(TOPIC)


def test_read_sees_what_was_changed_by_hand_and_a_deleted_topic(cluster: FakeCluster) -> None:
    provider = TopicProvider()
    provider.create(TOPIC)
    cluster.topics["alerts"]["config"]["retention.ms"] = "1"
    assert provider.read("alerts", TOPIC).outs["config"] == {"retention.ms": "1"}
    del cluster.topics["alerts"]
    assert provider.read("alerts", TOPIC).id is None


def test_an_update_grows_partitions_and_changes_config_only_where_asked(cluster: FakeCluster) -> None:
    provider = TopicProvider()
    provider.create(TOPIC)
    provider.update("alerts", TOPIC, {**TOPIC, "partitions": 24})
    assert cluster.topics["alerts"]["partitions"] == 24
    provider.update(
        "alerts", {**TOPIC, "partitions": 24}, {**TOPIC, "partitions": 24, "config": {"retention.ms": "7"}}
    )
    assert cluster.topics["alerts"] == {"partitions": 24, "replicas": 1, "config": {"retention.ms": "7"}}


def test_deleting_a_topic_that_is_gone_is_done(cluster: FakeCluster) -> None:
    provider = TopicProvider()
    provider.create(TOPIC)
    provider.delete("alerts", TOPIC)
    assert cluster.topics == {}
    provider.delete("alerts", TOPIC)


RULES = [
    AclRule("fink-local", ResourceType.TOPIC, "alerts", PatternType.LITERAL, Operation.READ),
    AclRule("fink-local", ResourceType.GROUP, "fink-local", PatternType.PREFIXED, Operation.ALL),
]
ACLS = {**ADMIN, "principal": PRINCIPAL, "acls": [acl_entry(rule) for rule in RULES]}


def test_a_user_s_acls_are_made_exactly_as_declared(cluster: FakeCluster) -> None:
    outs = UserAclsProvider().create(ACLS).outs
    assert sorted(map(str, cluster.acls)) == sorted(str(_binding(PRINCIPAL, e)) for e in ACLS["acls"])
    assert UserAclsProvider().read(PRINCIPAL, ACLS).outs["acls"] == outs["acls"]


def test_an_update_restores_a_deleted_acl_and_removes_a_stray_one(cluster: FakeCluster) -> None:
    provider = UserAclsProvider()
    provider.create(ACLS)
    stray = _binding(PRINCIPAL, {**ACLS["acls"][0], "resourceName": "alert-archive-dead-letter"})
    cluster.acls = [cluster.acls[1], stray]  # one deleted by hand, one added by hand
    drifted = provider.read(PRINCIPAL, ACLS).outs
    assert provider.diff(PRINCIPAL, drifted, ACLS).changes
    provider.update(PRINCIPAL, drifted, ACLS)
    assert sorted(map(str, cluster.acls)) == sorted(str(_binding(PRINCIPAL, e)) for e in ACLS["acls"])


def test_deleting_a_user_s_acls_leaves_other_users_alone(cluster: FakeCluster) -> None:
    other = _binding("User:lasair-local", ACLS["acls"][0])
    cluster.acls.append(other)
    provider = UserAclsProvider()
    provider.create(ACLS)
    provider.delete(PRINCIPAL, ACLS)
    assert cluster.acls == [other]
