"""Each topic on the facility is what the stack declared."""

from __future__ import annotations

import pytest
from confluent_kafka.admin import ConfigResource, ResourceType

from alertdist_common.outputs import StackOutputs

from .clients import admin

# Who may describe a topic of each role (the suite holds no admin login).
DESCRIBER = {
    "alerts": "community-broker",
    "canary": "community-broker",
    "dead-letter": "archive-ingester",
    "registry": "schema-registry",
}


def test_topic_matches_the_declaration(outputs: StackOutputs, topic: str) -> None:
    declared = outputs.topics[topic]
    describers = [
        u for u in outputs.users_with_role(DESCRIBER.get(declared.role, "")) if outputs.has_password(u)
    ]
    if not describers:
        pytest.skip(f"no user in the outputs may describe a {declared.role} topic")
    client = admin(outputs, describers[0])
    found = client.list_topics(topic, timeout=30).topics[topic]
    assert found.error is None, found.error
    partitions = found.partitions.values()
    assert len(partitions) == declared.partitions
    assert {len(p.replicas) for p in partitions} == {declared.replication_factor}
    assert all(p.leader >= 0 for p in partitions), "a partition has no leader"
    assert min(len(p.isrs) for p in partitions) >= declared.min_insync_replicas, "under-replicated"
    if DESCRIBER.get(declared.role) != "community-broker":
        return  # only the brokers' topics grant DescribeConfigs
    resource = ConfigResource(ResourceType.TOPIC, topic)
    configs = client.describe_configs([resource])[resource].result(timeout=30)
    expected = {
        "min.insync.replicas": str(declared.min_insync_replicas),
        "retention.ms": str(declared.retention_ms),
        "retention.bytes": str(declared.retention_bytes),
        "max.message.bytes": str(declared.max_message_bytes),
        "message.timestamp.type": declared.timestamp_type,
    }
    assert {name: configs[name].value for name in expected} == expected
