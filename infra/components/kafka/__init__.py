"""The Kafka cluster at a facility: the node pools and the Kafka CR, reconciled by the Strimzi operator
the prerequisites program installs (infra/prerequisites) in the namespace it makes."""

from __future__ import annotations

import pulumi

from infra.components.kafka import manifests
from infra.components.kubernetes import apply_manifest
from infra.config import KafkaClusterSpec


class KafkaCluster(pulumi.ComponentResource):
    """A KRaft Kafka cluster (controller and broker pools) in the namespace the prerequisites made."""

    def __init__(
        self,
        name: str,
        cluster: KafkaClusterSpec,
        namespace: str,
        max_message_bytes: int,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("alertdist:kafka:KafkaCluster", name, None, opts)
        # Deleting the Kafka CR or a pool makes Strimzi delete the brokers (their volumes stay, as
        # deleteClaim is false, but the cluster is gone): protected, so `destroy` and a rename stop
        # before them, and retained should a person lift the protection.
        kept = pulumi.ResourceOptions(parent=self, protect=True, retain_on_delete=True)
        metrics = apply_manifest(
            manifests.metrics_config_map(cluster, namespace), pulumi.ResourceOptions(parent=self)
        )
        self.node_pools = [apply_manifest(pool, kept) for pool in manifests.node_pools(cluster, namespace)]
        # After what it names: Strimzi's cluster operator fails the reconciliation of a Kafka whose
        # metrics ConfigMap does not exist yet ("ConfigMap ... does not exist", 1.2.0
        # JmxPrometheusExporterModel.java:81; seen in tests/kubernetes/test_facility_up.py) until a
        # later reconciliation finds it.
        self.kafka = apply_manifest(
            manifests.kafka(cluster, namespace, max_message_bytes),
            pulumi.ResourceOptions(depends_on=[metrics, *self.node_pools]).merge(kept),
        )
        self.register_outputs({"kafka": self.kafka.id})
