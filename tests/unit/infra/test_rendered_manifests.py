"""Every Kubernetes object the facility stacks declare, validated against its real API schema:
Strimzi's CRDs (extracted from the release sources in ../shared/strimzi/) and the core Kubernetes API."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
import kubernetes_validate
import pytest

from infra.config import SharedKafkaSpec
from infra.render import Registered
from infra.stackfile import load_stack
from tests.manifest_checks import (
    KUBERNETES_VERSION,
    crd_schemas,
    monitoring_schemas,
    require_crds,
    validate_core,
    validate_monitoring,
    validate_strimzi,
)
from tests.unit.infra.test_program import FACILITY_STACKS, program


def as_manifest(resource: Registered) -> dict[str, Any]:
    inputs = copy.deepcopy(resource.inputs)
    group_version, kind = resource.type.removeprefix("kubernetes:").rsplit(":", 1)
    api_version = group_version.removeprefix("core/")
    return {"apiVersion": api_version, "kind": kind, **inputs}


def strimzi_objects(stack: str) -> list[dict[str, Any]]:
    return [as_manifest(r) for r in program(stack).resources if "kafka.strimzi.io" in r.type]


def core_objects(stack: str) -> list[dict[str, Any]]:
    return [
        as_manifest(r)
        for r in program(stack).resources
        if r.custom
        and r.type.startswith("kubernetes:")
        and not any(part in r.type for part in ("strimzi", "helm", "monitoring.coreos.com"))
    ]


def monitoring_objects(stack: str) -> list[dict[str, Any]]:
    return [as_manifest(r) for r in program(stack).resources if "monitoring.coreos.com" in r.type]


@pytest.mark.parametrize("stack", FACILITY_STACKS)
def test_strimzi_resources_match_the_crds(stack: str) -> None:
    strimzi = load_stack(stack).kafka.strimzi  # type: ignore[union-attr]
    require_crds(strimzi.chart_version)
    objects = strimzi_objects(stack)
    shared = isinstance(load_stack(stack).kafka, SharedKafkaSpec)  # the facility runs the cluster
    cluster = set() if shared else {"Kafka", "KafkaNodePool"}
    assert {o["kind"] for o in objects} == {"KafkaTopic", "KafkaUser"} | cluster
    for manifest in objects:
        validate_strimzi(manifest, strimzi.chart_version)


def test_crd_check_catches_a_misspelt_field() -> None:
    require_crds("1.2.0")
    (user,) = [o for o in strimzi_objects("idf") if o["kind"] == "KafkaUser"][:1]
    user["spec"]["authorization"]["acls"][0]["operation"] = "Read"  # removed in kafka.strimzi.io/v1
    body = {key: value for key, value in user.items() if key != "metadata"}
    with pytest.raises(jsonschema.ValidationError, match="operation"):
        jsonschema.validate(body, crd_schemas("1.2.0")[("kafka.strimzi.io/v1", "KafkaUser")])


@pytest.mark.parametrize("stack", FACILITY_STACKS)
def test_core_objects_match_the_kubernetes_api(stack: str) -> None:
    objects = core_objects(stack)
    kinds = {o["kind"] for o in objects}
    assert {"Deployment", "Service", "Ingress", "Secret", "ServiceAccount"} <= kinds
    assert "Namespace" not in kinds  # the prerequisites program makes it, before Strimzi's chart
    for manifest in objects:
        validate_core(manifest)


def test_kubernetes_check_catches_a_wrong_type() -> None:
    deployment = next(o for o in core_objects("usdf") if o["kind"] == "Deployment")
    deployment["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("stack", FACILITY_STACKS)
def test_monitors_and_rules_match_the_prometheus_operator_crds(stack: str) -> None:
    """What `alertdist:monitoring` asks for, valid against the Prometheus operator's CRDs."""
    monitoring = load_stack(stack).monitoring
    objects = monitoring_objects(stack)
    expected = {
        kind
        for kind, on in (("PodMonitor", monitoring.pod_monitors), ("PrometheusRule", monitoring.rules))
        if on
    }
    assert {o["kind"] for o in objects} == expected
    for manifest in objects:
        validate_monitoring(manifest)


def test_the_monitoring_check_catches_a_misspelt_field() -> None:
    (monitor, *_) = [o for o in monitoring_objects("usdf") if o["kind"] == "PodMonitor"]
    monitor["spec"]["podMetricsEndpoints"][0]["portName"] = monitor["spec"]["podMetricsEndpoints"][0].pop(
        "port"
    )
    body = {key: value for key, value in monitor.items() if key != "metadata"}
    with pytest.raises(jsonschema.ValidationError, match="portName"):
        jsonschema.validate(body, monitoring_schemas()[("monitoring.coreos.com/v1", "PodMonitor")])
