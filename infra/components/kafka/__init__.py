"""The Kafka cluster at a facility: Strimzi operator, node pools and the Kafka CR."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from infra.components.kafka import manifests
from infra.components.kubernetes import apply_manifest
from infra.config import KafkaClusterSpec

STRIMZI_CHART_REPO = "https://strimzi.io/charts/"


class KafkaCluster(pulumi.ComponentResource):
    """Strimzi (Helm chart, pinned) managing a KRaft Kafka cluster in the facility's namespace."""

    def __init__(
        self,
        name: str,
        cluster: KafkaClusterSpec,
        namespace: str,
        max_message_bytes: int,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("alertdist:kafka:KafkaCluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        operator_ns = k8s.core.v1.Namespace(
            "namespace-strimzi", metadata={"name": cluster.strimzi.namespace}, opts=child
        )
        self.namespace = k8s.core.v1.Namespace(
            "namespace-alert-distribution", metadata={"name": namespace}, opts=child
        )
        self.operator = k8s.helm.v4.Chart(
            "strimzi-operator",
            chart="strimzi-kafka-operator",
            version=cluster.strimzi.chart_version,
            namespace=cluster.strimzi.namespace,
            repository_opts={"repo": STRIMZI_CHART_REPO},
            values={"watchNamespaces": [namespace], "watchAnyNamespace": False},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[operator_ns, self.namespace]),
        )
        after_operator = pulumi.ResourceOptions(parent=self, depends_on=[self.operator])
        self.node_pools = [
            apply_manifest(pool, after_operator) for pool in manifests.node_pools(cluster, namespace)
        ]
        self.kafka = apply_manifest(
            manifests.kafka(cluster, namespace, max_message_bytes),
            pulumi.ResourceOptions(parent=self, depends_on=[self.operator, *self.node_pools]),
        )
        self.register_outputs({"kafka": self.kafka.id})
