"""The topics and access components alone, on a Strimzi target, from hand-built tables."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from infra.components.access import KafkaAccess
from infra.components.targets import StrimziTarget
from infra.components.topics import KafkaTopics
from infra.config import Replication, TopicRole, TopicSpec
from infra.tables import AclRule, KafkaUserSpec, Operation, PatternType, ResourceType, UserRole
from tests.unit.infra.conftest import RecordingMocks, when_declared


def _target() -> StrimziTarget:
    cluster = k8s.core.v1.Namespace("stand-in-for-the-cluster")
    return StrimziTarget([cluster], "alerts-test", "test-broker", "kafka.strimzi.io/v1")


@pulumi.runtime.test  # type: ignore[untyped-decorator]
def test_topics_become_kafka_topic_crs(mocks: RecordingMocks) -> pulumi.Output[str]:
    topics = [
        TopicSpec(name="lsst_alerts.v11", role=TopicRole.ALERTS, partitions=7),
        TopicSpec(name="dead", role=TopicRole.DEAD_LETTER, partitions=1),
    ]
    component = KafkaTopics("topics", topics, Replication(factor=3, min_insync=2), _target())

    def check(_: object) -> None:
        crs = {cr["spec"]["topicName"]: cr for cr in mocks.of_kind("KafkaTopic")}
        assert set(crs) == {"lsst_alerts.v11", "dead"}
        alerts = crs["lsst_alerts.v11"]
        assert alerts["metadata"]["name"] == "lsst-alerts-v11"  # a DNS-1123 name for the CR
        assert alerts["metadata"]["labels"]["strimzi.io/cluster"] == "test-broker"
        assert alerts["spec"]["partitions"] == 7
        assert alerts["spec"]["replicas"] == 3
        assert alerts["spec"]["config"]["min.insync.replicas"] == "2"

    return when_declared(component).apply(check)


@pulumi.runtime.test  # type: ignore[untyped-decorator]
def test_users_get_a_secret_password_and_their_acls(mocks: RecordingMocks) -> pulumi.Output[str]:
    reader = KafkaUserSpec(
        username="fink-test",
        role=UserRole.COMMUNITY_BROKER,
        acls=(AclRule("fink-test", ResourceType.GROUP, "fink-test", PatternType.PREFIXED, Operation.ALL),),
    )
    registry = KafkaUserSpec(username="schema-registry", role=UserRole.SCHEMA_REGISTRY, acls=())
    password = pulumi.Output.secret("hunter2-not-real")
    access = KafkaAccess("access", [reader, registry], {"fink-test": password}, _target())

    def check(_: object) -> None:
        users = {cr["metadata"]["name"]: cr["spec"] for cr in mocks.of_kind("KafkaUser")}
        assert users["schema-registry"]["authentication"] == {"type": "tls"}
        fink = users["fink-test"]
        assert fink["authentication"]["password"]["valueFrom"]["secretKeyRef"]["name"] == (
            "fink-test-scram-password"
        )
        assert fink["authorization"]["acls"] == [
            {
                "type": "allow",
                "host": "*",
                "resource": {"type": "group", "name": "fink-test", "patternType": "prefix"},
                "operations": ["All"],
            }
        ]
        (secret,) = mocks.of_kind("Secret")
        assert secret["metadata"] == {"name": "fink-test-scram-password", "namespace": "alerts-test"}

    return when_declared(access).apply(check)
