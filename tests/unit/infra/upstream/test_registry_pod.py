"""What the registry's pod meets at a facility that no render shows: the environment the kubelet
injects, the checks of Confluent's image, and the consumer groups the registry joins, against the
ACLs its user is given. Each rule is transcribed from the source named beside it."""

from __future__ import annotations

from typing import Any

import pytest

from infra.components.registry.manifests import ENV_PREFIX, registry_property
from infra.naming import REGISTRY_APP
from infra.stackfile import load_stack
from infra.tables import UserRole, kafka_users
from tests.unit.infra.test_program import REGISTRY_STACKS, program


def env_name(name: str) -> str:
    """kubernetes pkg/kubelet/envvars/envvars.go, makeEnvVariableName (v1.33)."""
    return name.upper().replace("-", "_")


def service_link_variables(service: dict[str, Any]) -> set[str]:
    """The variables the kubelet injects for one Service (envvars.go FromServices and
    makeLinkVariables): `<NAME>_SERVICE_HOST`, `_SERVICE_PORT[_<port name>]`, `<NAME>_PORT` and
    `<NAME>_PORT_<port>_<PROTO>[_PROTO|_PORT|_ADDR]`."""
    name = env_name(service["metadata"]["name"])
    found = {f"{name}_SERVICE_HOST", f"{name}_SERVICE_PORT", f"{name}_PORT"}
    for port in service["spec"]["ports"]:
        if port.get("name"):
            found.add(f"{name}_SERVICE_PORT_{env_name(port['name'])}")
        link = f"{name}_PORT_{port['port']}_{port.get('protocol', 'TCP')}"
        found |= {link, f"{link}_PROTO", f"{link}_PORT", f"{link}_ADDR"}
    return found


def injected(pod_spec: dict[str, Any], services: list[dict[str, Any]]) -> set[str]:
    """pkg/kubelet/kubelet_pods.go getServiceEnvVarMap: every Service of the pod's namespace unless
    `enableServiceLinks` is false (it defaults to true)."""
    if pod_spec.get("enableServiceLinks", True) is False:
        return set()
    return {variable for service in services for variable in service_link_variables(service)}


def configure_exits(env: set[str]) -> list[str]:
    """The exits of the image's configure script (schema-registry-images v7.9.2,
    schema-registry/include/etc/confluent/docker/configure)."""
    exits = []
    if "SCHEMA_REGISTRY_PORT" in env:
        exits.append("PORT is deprecated. Please use SCHEMA_REGISTRY_LISTENERS instead.")
    if "SCHEMA_REGISTRY_HOST_NAME" not in env:
        exits.append("SCHEMA_REGISTRY_HOST_NAME is required.")
    if not env & {
        "SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS",
        "SCHEMA_REGISTRY_KAFKASTORE_CONNECTION_URL",
    }:
        exits.append("one of (SCHEMA_REGISTRY_KAFKASTORE_CONNECTION_URL,...) is required.")
    return exits


def registry_pod(stack: str) -> dict[str, Any]:
    (deployment,) = [
        d.inputs
        for d in program(stack).of_type("kubernetes:apps/v1:Deployment")
        if d.inputs["metadata"]["name"] == REGISTRY_APP
    ]
    pod: dict[str, Any] = deployment["spec"]["template"]["spec"]
    return pod


def services(stack: str) -> list[dict[str, Any]]:
    return [s.inputs for s in program(stack).of_type("kubernetes:core/v1:Service")]


@pytest.mark.parametrize("stack", REGISTRY_STACKS)
def test_the_registry_container_starts_in_the_environment_the_kubelet_gives_it(stack: str) -> None:
    pod = registry_pod(stack)
    (container,) = pod["containers"]
    env = {variable["name"] for variable in container["env"]} | injected(pod, services(stack))
    assert configure_exits(env) == []
    assert not {name for name in env if name.startswith(ENV_PREFIX)} - {v["name"] for v in container["env"]}


def test_with_service_links_the_registry_service_would_stop_the_registry() -> None:
    """The blocker: a Service named `schema-registry` injects SCHEMA_REGISTRY_PORT=tcp://..."""
    pod = dict(registry_pod("idf"))
    pod.pop("enableServiceLinks")
    (container,) = pod["containers"]
    env = {variable["name"] for variable in container["env"]} | injected(pod, services("idf"))
    assert "PORT is deprecated. Please use SCHEMA_REGISTRY_LISTENERS instead." in configure_exits(env)


def groups_granted(stack: str, username: str) -> list[tuple[str, str]]:
    """(pattern, name) of the groups the user may Read."""
    (user,) = [u for u in kafka_users(load_stack(stack)) if u.username == username]
    return [
        (rule.pattern.value, rule.resource_name)
        for rule in user.acls
        if rule.resource_type.value == "Group" and rule.operation.value in ("Read", "All")
    ]


def may_read(granted: list[tuple[str, str]], group: str) -> bool:
    return any(
        (pattern == "Literal" and name == group) or (pattern == "Prefixed" and group.startswith(name))
        for pattern, name in granted
    )


@pytest.mark.parametrize("stack", REGISTRY_STACKS)
def test_the_registry_user_may_join_every_group_the_registry_uses(stack: str) -> None:
    """SchemaRegistryConfig (schema-registry v7.9.2): `schema.registry.group.id` defaults to
    `schema-registry`, `kafkastore.group.id` to `schema-registry-<host>-<port>`."""
    (container,) = registry_pod(stack)["containers"]
    properties = {registry_property(v["name"]): v.get("value") for v in container["env"]}
    groups = [
        properties.get("schema.registry.group.id") or "schema-registry",
        properties.get("kafkastore.group.id") or "schema-registry-<pod ip>-8081",
    ]
    (registry_user,) = [
        u.username for u in kafka_users(load_stack(stack)) if u.role is UserRole.SCHEMA_REGISTRY
    ]
    granted = groups_granted(stack, registry_user)
    assert [group for group in groups if not may_read(granted, group)] == []


def test_the_pairing_check_finds_a_group_the_user_may_not_join() -> None:
    """On a shared cluster the registry's user is `schema-registry-<facility>`: the default
    election group `schema-registry` is not its own."""
    granted = [("Literal", "schema-registry-usdf")]
    assert not may_read(granted, "schema-registry")
    assert may_read(granted, "schema-registry-usdf")
    assert may_read([("Prefixed", "schema-registry")], "schema-registry-10.0.0.1-8081")
