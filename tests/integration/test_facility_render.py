"""The idf and usdf stacks under the real Pulumi engine, with the real Kubernetes provider in render
mode: the YAML the engine writes is what a facility would receive, validated against Strimzi's CRDs,
the Kubernetes API and the policy pack."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from pulumi import automation as auto

from infra.policy.rules import RULES
from infra.render import placeholder_secrets
from infra.stackfile import load_stack, read_config_values, stack_file
from localfacility.install import install_engine
from localfacility.render import render_stack
from tests.manifest_checks import (
    is_gateway,
    is_monitoring,
    is_strimzi,
    require_crds,
    type_token,
    validate_core,
    validate_gateway,
    validate_monitoring,
    validate_strimzi,
)
from tests.rendered import SETTINGS, rendered
from tests.unit.infra.test_program import FACILITY_STACKS, gateway_routes, program


def _names(objects: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(type_token(o), o["metadata"]["name"]) for o in objects}


@pytest.mark.parametrize("stack", FACILITY_STACKS)
def test_the_engine_writes_every_object_the_program_declares(stack: str) -> None:
    declared = {
        (r.type, r.inputs["metadata"]["name"])
        for r in program(stack).resources
        if r.custom and r.type.startswith("kubernetes:")
    }
    assert _names(rendered(stack)) == declared


@pytest.mark.parametrize("stack", FACILITY_STACKS)
def test_rendered_objects_match_strimzi_and_kubernetes(stack: str) -> None:
    chart = load_stack(stack).kafka.strimzi.chart_version  # type: ignore[union-attr]
    objects = rendered(stack)
    require_crds(chart)
    for manifest in objects:
        if is_strimzi(manifest):
            validate_strimzi(manifest, chart)
        elif is_monitoring(manifest):
            validate_monitoring(manifest)
        else:
            validate_core(manifest)


@pytest.mark.parametrize("stack", FACILITY_STACKS)
def test_rendered_objects_pass_the_policy_pack(stack: str) -> None:
    violations = [
        message
        for manifest in rendered(stack)
        for _, rule in RULES.values()
        for message in rule(type_token(manifest), manifest)
    ]
    assert violations == []


@pytest.mark.parametrize("stack", FACILITY_STACKS)
def test_passwords_reach_only_secrets(stack: str) -> None:
    _, placeholders = placeholder_secrets(stack)
    for manifest in rendered(stack):
        text = yaml.safe_dump(manifest)
        leaked = [key for key, value in placeholders.items() if value in text]
        assert manifest["kind"] == "Secret" or not leaked, (manifest["metadata"]["name"], leaked)


def test_a_broken_field_in_a_stack_file_fails_the_run() -> None:
    topics = read_config_values(stack_file("usdf"))["alertdist:topics"]
    broken = [{**topics[0], "partitions": 0}, *topics[1:]]
    install_engine(SETTINGS, kubernetes_provider=True)
    work_dir = SETTINGS.run_dir.parent / "render" / "usdf-broken"
    with pytest.raises(auto.CommandError, match="partitions"):
        render_stack("usdf", work_dir, SETTINGS.bin_dir, {"alertdist:topics": broken})
    assert not list((work_dir / "manifests").rglob("*.yaml"))  # nothing was written


def test_a_policy_violation_fails_the_deploy() -> None:
    """The policy pack runs through the engine (the host's RunPlugin), as `pulumi up --policy-pack
    infra/policy` at a facility: two-way replication breaks a mandatory rule and stops the run."""
    kafka = {
        **read_config_values(stack_file("usdf"))["alertdist:kafka"],
        "replicas": 2,
        "minInsyncReplicas": 1,
    }
    install_engine(SETTINGS, kubernetes_provider=True)
    work_dir = SETTINGS.run_dir.parent / "render" / "usdf-two-replicas"
    with pytest.raises(auto.CommandError, match=r"\[mandatory\]  facility-topics-replicated"):
        render_stack("usdf", work_dir, SETTINGS.bin_dir, {"alertdist:kafka": kafka})


def test_a_stack_on_a_gateway_renders_http_routes_the_crd_accepts() -> None:
    """idf with its public routes on a Gateway: the engine writes HTTPRoutes in place of Ingresses,
    each valid against Gateway API's CRD."""
    install_engine(SETTINGS, kubernetes_provider=True)
    work_dir = SETTINGS.run_dir.parent / "render" / "idf-gateway"
    folder = render_stack("idf", work_dir, SETTINGS.bin_dir, gateway_routes("idf"))
    objects = [doc for path in sorted(folder.rglob("*.yaml")) for doc in yaml.safe_load_all(path.read_text())]
    routes = [o for o in objects if is_gateway(o)]
    assert {r["metadata"]["name"] for r in routes} == {"schema-registry", "archive-server"}
    assert not [o for o in objects if o["kind"] == "Ingress"]
    for route in routes:
        validate_gateway(route)
