"""The alert producer (stream simulator): a Deployment, declared only when enabled."""

from __future__ import annotations

import pulumi

from infra import manifests
from infra.components.resources import apply_manifest
from infra.config import StackConfig


class AlertProducer(pulumi.ComponentResource):
    """Replays LSST alerts at visit cadence into the simulated alert topic."""

    def __init__(
        self,
        name: str,
        config: StackConfig,
        depends_on: list[pulumi.Resource],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("alertdist:producer:AlertProducer", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, depends_on=depends_on)
        apply_manifest(manifests.service_account(config, manifests.PRODUCER_APP, None), child)
        apply_manifest(manifests.alert_producer(config), child)
        self.register_outputs({})
