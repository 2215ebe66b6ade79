"""The policy pack, called directly on every stack's resources and on deliberately bad ones."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pulumi_policy import EnforcementLevel, PolicyResourceOptions, ResourceValidationArgs

from infra.policy.pack import policies
from infra.policy.rules import DYNAMIC_RESOURCE, NAMESPACED, RULES
from infra.render import run_program
from infra.stackfile import stack_names
from tests.unit.infra.test_program import FACILITY_STACKS, gateway_routes, program

POLICIES = {policy.name: policy for policy in policies()}


def violations(resource_type: str, props: dict[str, Any], only: str | None = None) -> list[str]:
    """Run every policy (or one) the way the engine would, collecting reported violations."""
    found: list[str] = []
    args = ResourceValidationArgs(
        resource_type=resource_type,
        props=props,
        urn=f"urn:pulumi:test::alert-distribution::{resource_type}::x",
        name="x",
        opts=PolicyResourceOptions(
            protect=False,
            ignore_changes=[],
            delete_before_replace=None,
            aliases=[],
            additional_secret_outputs=[],
            custom_timeouts=None,
            parent=None,
        ),
        provider=None,
    )
    for name, policy in POLICIES.items():
        if only in (None, name):
            policy.validate(args, lambda message, _urn=None: found.append(message))
    return found


def first(stack: str, resource_type: str, name: str | None = None) -> dict[str, Any]:
    for resource in program(stack).of_type(resource_type):
        if name is None or resource.inputs.get("metadata", {}).get("name") == name:
            return copy.deepcopy(resource.inputs)
    raise LookupError(resource_type)


def test_every_rule_is_a_mandatory_policy() -> None:
    assert set(POLICIES) == set(RULES)
    assert all(p.enforcement_level is EnforcementLevel.MANDATORY for p in POLICIES.values())


@pytest.mark.parametrize("stack", stack_names())
def test_every_real_stack_passes_every_policy(stack: str) -> None:
    run = program(stack)
    for resource in run.resources:
        assert violations(resource.type, resource.inputs) == [], resource.urn
    kinds = {resource.type.rsplit(":", 1)[1] for resource in run.resources}
    assert {"KafkaUser", "Deployment"} <= kinds or {"ScramUser", "UserAcls"} & kinds or stack == "local"


def test_a_broker_that_can_write_is_refused() -> None:
    user = first("idf", "kubernetes:kafka.strimzi.io/v1:KafkaUser", "fink-idf")
    user["spec"]["authorization"]["acls"][0]["operations"] = ["Write"]
    assert violations("kubernetes:kafka.strimzi.io/v1:KafkaUser", user) == [
        "fink-idf may not hold Write on Topic 'alerts-simulated' (Literal)"
    ]


def local_acl_set(
    principal: str, resource_type: str, name: str, pattern: str, operation: str
) -> dict[str, Any]:
    """The local stack's ACL set of a user, holding the one grant given."""
    acl_set = next(
        copy.deepcopy(r.inputs) for r in program("local").of_type(DYNAMIC_RESOURCE) if "principal" in r.inputs
    )
    entry = {
        "resourceType": resource_type,
        "resourceName": name,
        "patternType": pattern,
        "operation": operation,
    }
    return {**acl_set, "principal": principal, "acls": [{**entry, "host": "*"}]}


def test_a_broker_joining_another_brokers_group_is_refused() -> None:
    acl = local_acl_set("User:fink-local", "Group", "lasair-local", "Prefixed", "All")
    assert violations(DYNAMIC_RESOURCE, acl, "least-privilege-kafka-acls")
    allowed = local_acl_set("User:fink-local", "Group", "fink-local", "Prefixed", "All")
    assert violations(DYNAMIC_RESOURCE, allowed, "least-privilege-kafka-acls") == []


@pytest.mark.parametrize(
    ("principal", "resource_type", "name", "operation"),
    [
        ("User:alert-producer", "Topic", "alerts-simulated", "Read"),
        ("User:alert-producer", "Group", "alert-producer", "Read"),
        ("User:archive-ingester", "Topic", "alerts-simulated", "Write"),
        ("User:fink-local", "Cluster", "kafka-cluster", "Alter"),
        ("User:fink-local", "Topic", "*", "Read"),
        ("User:stranger", "Topic", "alerts-simulated", "Read"),
    ],
)
def test_service_and_broker_overreach_is_refused(
    principal: str, resource_type: str, name: str, operation: str
) -> None:
    acl = local_acl_set(principal, resource_type, name, "Literal", operation)
    assert len(violations(DYNAMIC_RESOURCE, acl)) == 1


def test_an_under_replicated_facility_topic_is_refused() -> None:
    topic = first("usdf", "kubernetes:kafka.strimzi.io/v1:KafkaTopic")
    topic["spec"]["replicas"] = 1
    topic["spec"]["config"]["min.insync.replicas"] = "1"
    assert len(violations("kubernetes:kafka.strimzi.io/v1:KafkaTopic", topic)) == 2


def test_an_object_without_namespace_is_refused() -> None:
    deployment = first("usdf", "kubernetes:apps/v1:Deployment")
    del deployment["metadata"]["namespace"]
    assert violations("kubernetes:apps/v1:Deployment", deployment) == [
        f"kubernetes:apps/v1:Deployment {deployment['metadata']['name']} has no namespace"
    ]


def test_a_literal_password_in_a_container_is_refused() -> None:
    deployment = first("usdf", "kubernetes:apps/v1:Deployment", "archive-ingester")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["env"].append({"name": "ALERTDIST_KAFKA_PASSWORD", "value": "hunter2"})
    assert len(violations("kubernetes:apps/v1:Deployment", deployment, "credentials-come-from-secrets")) == 1


def test_every_kind_a_facility_stack_declares_is_held_to_a_namespace() -> None:
    """The namespace rule knows every namespaced kind the program can declare, HTTPRoutes included."""
    runs = [program(stack) for stack in FACILITY_STACKS] + [run_program("idf", gateway_routes("idf"))]
    declared = {
        r.type for run in runs for r in run.resources if r.custom and r.type.startswith("kubernetes:")
    }
    assert "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute" in declared
    assert [kind for kind in sorted(declared) if not NAMESPACED.match(kind)] == []
