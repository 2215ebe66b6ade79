"""The stack's PodMonitors and PrometheusRule, for a facility's Prometheus operator."""

from __future__ import annotations

import pulumi

from infra.components.kubernetes import apply_manifest
from infra.components.monitoring.manifests import monitoring_manifests
from infra.config import StackConfig


class Monitoring(pulumi.ComponentResource):
    """What `alertdist:monitoring` asks for: nothing where it is off."""

    def __init__(self, name: str, config: StackConfig, opts: pulumi.ResourceOptions | None = None):
        super().__init__("alertdist:monitoring:Monitoring", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        for manifest in monitoring_manifests(config):
            apply_manifest(manifest, child)
        self.register_outputs({})
