"""The Kafka cluster at a facility: its namespace, the node pools and the Kafka CR, reconciled by the
Strimzi operator the prerequisites program installs (infra/prerequisites)."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from infra.components.kafka import manifests
from infra.components.kubernetes import apply_manifest
from infra.config import KafkaClusterSpec


class KafkaCluster(pulumi.ComponentResource):
    """A KRaft Kafka cluster (controller and broker pools) in the facility's namespace."""

    def __init__(
        self,
        name: str,
        cluster: KafkaClusterSpec,
        namespace: str,
        max_message_bytes: int,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("alertdist:kafka:KafkaCluster", name, None, opts)
        self.namespace = k8s.core.v1.Namespace(
            "namespace-alert-distribution",
            metadata={"name": namespace},
            opts=pulumi.ResourceOptions(parent=self),
        )
        # Deleting the Kafka CR or a pool makes Strimzi delete the brokers (their volumes stay, as
        # deleteClaim is false, but the cluster is gone): a deploy never does it, only a person.
        kept = pulumi.ResourceOptions(retain_on_delete=True)
        after_namespace = pulumi.ResourceOptions(parent=self, depends_on=[self.namespace]).merge(kept)
        apply_manifest(
            manifests.metrics_config_map(cluster, namespace),
            pulumi.ResourceOptions(parent=self, depends_on=[self.namespace]),
        )
        self.node_pools = [
            apply_manifest(pool, after_namespace) for pool in manifests.node_pools(cluster, namespace)
        ]
        self.kafka = apply_manifest(
            manifests.kafka(cluster, namespace, max_message_bytes),
            pulumi.ResourceOptions(parent=self, depends_on=[self.namespace, *self.node_pools]).merge(kept),
        )
        self.register_outputs({"kafka": self.kafka.id})
