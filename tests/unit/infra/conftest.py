"""Pulumi mocks that record what a component or program declares, for testing one part at a time."""

from __future__ import annotations

import itertools
from typing import Any

import pulumi
import pytest
from pulumi.runtime import MockCallArgs, MockResourceArgs, Mocks

from infra.config import KafkaClusterSpec
from infra.naming import ClusterAddress


class RecordingMocks(Mocks):
    def __init__(self) -> None:
        self.declared: list[MockResourceArgs] = []

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[Any, Any]]:
        self.declared.append(args)
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: MockCallArgs) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
        return {}, None

    def inputs_of(self, resource_type: str) -> list[dict[str, Any]]:
        """Inputs of every declared resource of one type token."""
        return [a.inputs for a in self.declared if a.typ == resource_type]

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        """Inputs of every declared Kubernetes object of one kind (`Deployment`, `KafkaTopic`, ...)."""
        return [
            a.inputs for a in self.declared if a.typ.startswith("kubernetes:") and a.typ.endswith(f":{kind}")
        ]


def when_declared(component: pulumi.Resource) -> pulumi.Output[str]:
    """Resolves once every child of `component` is declared (depending on a component waits for
    its children; its own URN resolves before them)."""
    probe = pulumi.CustomResource(
        "test:index:Probe", f"probe-{next(_PROBES)}", {}, opts=pulumi.ResourceOptions(depends_on=[component])
    )
    return probe.urn


_PROBES = itertools.count()


@pytest.fixture
def mocks() -> RecordingMocks:
    recording = RecordingMocks()
    pulumi.runtime.set_mocks(recording, project="alert-distribution", stack="component-test", preview=False)
    return recording


ADDRESS = ClusterAddress(namespace="alerts-test", kafka_cluster="test-broker")


def cluster_spec(replicas: int = 3) -> KafkaClusterSpec:
    """A small hand-built cluster, min ISR 2."""
    values: dict[str, Any] = {
        "name": "test-broker",
        "version": "4.2.0",
        "replicas": replicas,
        "minInsyncReplicas": 2,
        "brokerStorage": {"class": "fast", "size": "100Gi"},
        "controllerStorage": {"class": "fast", "size": "10Gi"},
        "external": {
            "bootstrapHost": "kafka.example.org",
            "brokerHosts": [f"broker-{i}.example.org" for i in range(replicas)],
        },
        "strimzi": {"chartVersion": "1.2.0"},
    }
    return KafkaClusterSpec.model_validate(values)
