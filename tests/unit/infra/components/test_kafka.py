"""The Kafka cluster component alone, from a hand-built cluster spec."""

from __future__ import annotations

import pulumi

from infra.components.kafka import KafkaCluster
from tests.unit.infra.conftest import RecordingMocks, cluster_spec, when_declared


@pulumi.runtime.test  # type: ignore[untyped-decorator]
def test_cluster_declares_pools_and_the_kafka_cr_in_its_namespace(
    mocks: RecordingMocks,
) -> pulumi.Output[str]:
    cluster = KafkaCluster("kafka", cluster_spec(replicas=4), "alerts-test", 5_000_000)

    def check(_: object) -> None:
        (kafka,) = mocks.of_kind("Kafka")
        assert kafka["metadata"] == {
            "name": "test-broker",
            "namespace": "alerts-test",
            "labels": {"app.kubernetes.io/part-of": "alert-distribution"},
        }
        config = kafka["spec"]["kafka"]["config"]
        assert config["message.max.bytes"] == 5_000_000
        assert config["default.replication.factor"] == 3  # capped at 3 with 4 brokers
        assert config["min.insync.replicas"] == 2
        pools = {pool["metadata"]["name"]: pool["spec"] for pool in mocks.of_kind("KafkaNodePool")}
        assert pools["broker"]["replicas"] == 4
        assert pools["controller"]["roles"] == ["controller"]
        (namespace,) = mocks.of_kind("Namespace")
        assert namespace["metadata"] == {"name": "alerts-test"}
        assert not [
            a for a in mocks.declared if a.typ.startswith("kubernetes:helm")
        ]  # in infra/prerequisites

    return when_declared(cluster).apply(check)
