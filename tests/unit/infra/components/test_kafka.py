"""The Kafka cluster component alone, from a hand-built cluster spec."""

from __future__ import annotations

import re

import pulumi
import yaml

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
            "annotations": {"pulumi.com/waitFor": "condition=Ready", "pulumi.com/timeoutSeconds": "1800"},
        }
        config = kafka["spec"]["kafka"]["config"]
        assert config["message.max.bytes"] == 5_000_000
        assert config["default.replication.factor"] == 3  # capped at 3 with 4 brokers
        assert config["min.insync.replicas"] == 2
        pools = {pool["metadata"]["name"]: pool["spec"] for pool in mocks.of_kind("KafkaNodePool")}
        assert pools["broker"]["replicas"] == 4
        assert pools["controller"]["roles"] == ["controller"]
        assert mocks.of_kind("Namespace") == []  # the prerequisites make it (infra/prerequisites)
        assert not [
            a for a in mocks.declared if a.typ.startswith("kubernetes:helm")
        ]  # in infra/prerequisites

    return when_declared(cluster).apply(check)


@pulumi.runtime.test  # type: ignore[untyped-decorator]
def test_brokers_and_controllers_export_metrics_and_lag_per_group(
    mocks: RecordingMocks,
) -> pulumi.Output[str]:
    cluster = KafkaCluster("kafka", cluster_spec(), "alerts-test", 5_000_000)

    def check(_: object) -> None:
        (kafka,) = mocks.of_kind("Kafka")
        metrics = kafka["spec"]["kafka"]["metricsConfig"]
        assert metrics["type"] == "jmxPrometheusExporter"
        ref = metrics["valueFrom"]["configMapKeyRef"]
        (config_map,) = mocks.of_kind("ConfigMap")
        assert config_map["metadata"]["name"] == ref["name"]
        rules = yaml.safe_load(config_map["data"][ref["key"]])["rules"]
        assert any("ReplicaManager" in rule["pattern"] for rule in rules)  # under-replicated partitions
        for rule in rules:
            re.compile(rule["pattern"])  # the exporter would refuse a bad pattern at broker start
        exporter = kafka["spec"]["kafkaExporter"]
        for group in ("fink-usdf", "fink-usdf-night-1", "archive-ingester"):
            assert re.fullmatch(exporter["groupRegex"], group)

    return when_declared(cluster).apply(check)


@pulumi.runtime.test  # type: ignore[untyped-decorator]
def test_pools_have_resources_a_heap_that_fits_and_one_pod_per_node(
    mocks: RecordingMocks,
) -> pulumi.Output[str]:
    cluster = KafkaCluster("kafka", cluster_spec(), "alerts-test", 5_000_000)

    def check(_: object) -> None:
        for pool in mocks.of_kind("KafkaNodePool"):
            spec, name = pool["spec"], pool["metadata"]["name"]
            requests, limits = spec["resources"]["requests"], spec["resources"]["limits"]
            assert requests["cpu"]
            assert requests["memory"] == limits["memory"]
            heap = spec["jvmOptions"]["-Xmx"]
            assert spec["jvmOptions"]["-Xms"] == heap
            assert _bytes(heap) < _bytes(limits["memory"])
            (spread,) = spec["template"]["pod"]["topologySpreadConstraints"]
            assert spread["topologyKey"] == "kubernetes.io/hostname"
            assert spread["whenUnsatisfiable"] == "DoNotSchedule"
            assert spread["labelSelector"]["matchLabels"] == {
                "strimzi.io/cluster": "test-broker",
                "strimzi.io/pool-name": name,
            }

    return when_declared(cluster).apply(check)


def _bytes(quantity: str) -> int:
    units = {"m": 2**20, "g": 2**30, "Mi": 2**20, "Gi": 2**30}
    unit = quantity.lstrip("0123456789")
    return int(quantity[: len(quantity) - len(unit)]) * units[unit]
