"""The Prometheus operator's objects (monitoring.coreos.com/v1): PodMonitors for what the stack
runs and its rules."""

from __future__ import annotations

from typing import Any

from infra.alerting import rules_document
from infra.components.kubernetes import PART_OF, Manifest, meta
from infra.config import KafkaClusterSpec, StackConfig

MONITORING_API = "monitoring.coreos.com/v1"
# The Prometheus operator release whose CRDs (example/prometheus-operator-crd/ of its Go module)
# the monitors and rules are written for and checked against (tests/manifest_checks.py).
PROMETHEUS_OPERATOR_VERSION = "v0.94.0"
SERVICES_MONITOR = "alert-distribution-services"
RULES_NAME = "alert-distribution"
# Strimzi's Kafka, controller and Kafka exporter pods all carry strimzi.io/kind=Kafka and name their
# metrics port tcp-prometheus (Strimzi 1.2.0 KafkaCluster.java and KafkaExporter.java,
# METRICS_PORT_NAME), as phalanx's sasquatch PodMonitor `kafka-resources-metrics` selects them.
STRIMZI_METRICS_PORT = "tcp-prometheus"


def _labels(config: StackConfig) -> dict[str, str]:
    return dict(config.monitoring.labels)


def _pod_monitor(name: str, config: StackConfig, selector: dict[str, str], port: str) -> Manifest:
    return {
        "apiVersion": MONITORING_API,
        "kind": "PodMonitor",
        "metadata": meta(name, config.namespace, **_labels(config)),
        "spec": {
            "selector": {"matchLabels": selector},
            "namespaceSelector": {"matchNames": [config.namespace]},
            "podMetricsEndpoints": [{"port": port, "path": "/metrics"}],
        },
    }


def pod_monitors(config: StackConfig) -> list[Manifest]:
    """Our services' `metrics` ports; where the Kafka is the stack's own, its brokers', controllers'
    and exporter's (at USDF phalanx's PodMonitors scrape its Kafka)."""
    monitors = [_pod_monitor(SERVICES_MONITOR, config, dict(PART_OF), "metrics")]
    if isinstance(config.kafka, KafkaClusterSpec):
        selector = {"strimzi.io/cluster": config.kafka.name, "strimzi.io/kind": "Kafka"}
        monitors.append(_pod_monitor(f"{config.kafka.name}-kafka", config, selector, STRIMZI_METRICS_PORT))
    return monitors


def prometheus_rule(config: StackConfig) -> Manifest:
    spec: dict[str, Any] = rules_document(config)
    return {
        "apiVersion": MONITORING_API,
        "kind": "PrometheusRule",
        "metadata": meta(RULES_NAME, config.namespace, **_labels(config)),
        "spec": spec,
    }


def monitoring_manifests(config: StackConfig) -> list[Manifest]:
    """What the stack's `monitoring` setting asks for."""
    manifests = pod_monitors(config) if config.monitoring.pod_monitors else []
    if config.monitoring.rules:
        manifests.append(prometheus_rule(config))
    return manifests
