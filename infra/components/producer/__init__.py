"""The alert producer (stream simulator): a Deployment, declared only when enabled."""

from __future__ import annotations

import pulumi

from infra.components.kubernetes import apply_manifest, service_account
from infra.components.producer.manifests import alert_producer
from infra.config import ProducerSpec
from infra.naming import PRODUCER_APP, ClusterAddress


class AlertProducer(pulumi.ComponentResource):
    """Replays LSST alerts at visit cadence into the simulated alert topic."""

    def __init__(
        self,
        name: str,
        spec: ProducerSpec,
        image: str,
        address: ClusterAddress,
        depends_on: list[pulumi.Resource],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("alertdist:producer:AlertProducer", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, depends_on=depends_on)
        apply_manifest(service_account(address.namespace, PRODUCER_APP), child)
        apply_manifest(alert_producer(spec, image, address), child)
        self.register_outputs({})
