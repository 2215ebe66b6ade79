"""Every Kubernetes object the facility stacks declare, validated against its real API schema:
Strimzi's CRDs (from ../shared/strimzi-crds/<chart version>/) and the core Kubernetes API."""

from __future__ import annotations

import copy
import os
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from infra.render import Registered
from infra.stackfile import load_stack
from tests.unit.infra.test_program import FACILITY_STACKS, program

KUBERNETES_VERSION = "1.33.0"
REPO = Path(__file__).resolve().parents[3]


def crd_dir(chart_version: str) -> Path | None:
    """The Strimzi CRD files for a chart version, where this machine has them."""
    roots = [os.environ.get("ALERTDIST_STRIMZI_CRDS"), REPO.parent / "shared" / "strimzi-crds"]
    for root in filter(None, roots):
        candidate = Path(root) / chart_version
        if candidate.is_dir():
            return candidate
    return None


def _closed(schema: Any) -> Any:
    """The API server prunes unknown fields silently; treat them as errors instead."""
    if isinstance(schema, dict):
        schema = {key: _closed(value) for key, value in schema.items()}
        if (
            "properties" in schema
            and "additionalProperties" not in schema
            and not schema.get("x-kubernetes-preserve-unknown-fields")
        ):
            schema["additionalProperties"] = False
        return schema
    if isinstance(schema, list):
        return [_closed(item) for item in schema]
    return schema


@cache
def crd_schemas(chart_version: str) -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> the served openAPIV3Schema, closed against unknown fields."""
    directory = crd_dir(chart_version)
    assert directory is not None
    schemas = {}
    for path in sorted(directory.glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            if version.get("served"):
                schemas[(f"{group}/{version['name']}", kind)] = _closed(version["schema"]["openAPIV3Schema"])
    return schemas


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
        if r.custom and r.type.startswith("kubernetes:") and "strimzi" not in r.type and "helm" not in r.type
    ]


@pytest.mark.parametrize("stack", FACILITY_STACKS)
def test_strimzi_resources_match_the_crds(stack: str) -> None:
    strimzi = load_stack(stack).kafka.strimzi  # type: ignore[union-attr]
    if crd_dir(strimzi.chart_version) is None:
        pytest.skip(f"Strimzi {strimzi.chart_version} CRDs are not on this machine")
    schemas = crd_schemas(strimzi.chart_version)
    objects = strimzi_objects(stack)
    assert {o["kind"] for o in objects} == {"Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser"}
    for manifest in objects:
        schema = schemas.get((manifest["apiVersion"], manifest["kind"]))
        assert schema is not None, f"Strimzi {strimzi.chart_version} does not serve {manifest['apiVersion']}"
        body = {key: value for key, value in manifest.items() if key != "metadata"}
        jsonschema.validate(body, schema)


def test_crd_check_catches_a_misspelt_field() -> None:
    if crd_dir("1.2.0") is None:
        pytest.skip("Strimzi 1.2.0 CRDs are not on this machine")
    (user,) = [o for o in strimzi_objects("idf") if o["kind"] == "KafkaUser"][:1]
    user["spec"]["authorization"]["acls"][0]["operation"] = "Read"  # removed in kafka.strimzi.io/v1
    body = {key: value for key, value in user.items() if key != "metadata"}
    with pytest.raises(jsonschema.ValidationError, match="operation"):
        jsonschema.validate(body, crd_schemas("1.2.0")[("kafka.strimzi.io/v1", "KafkaUser")])


@pytest.mark.parametrize("stack", FACILITY_STACKS)
def test_core_objects_match_the_kubernetes_api(stack: str) -> None:
    objects = core_objects(stack)
    kinds = {o["kind"] for o in objects}
    assert {"Deployment", "Service", "Ingress", "Job", "Secret", "ServiceAccount", "Namespace"} <= kinds
    for manifest in objects:
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)


def test_kubernetes_check_catches_a_wrong_type() -> None:
    deployment = next(o for o in core_objects("usdf") if o["kind"] == "Deployment")
    deployment["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)
