"""Policy rules over declared resources, as plain functions: (type, props) -> violations."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from infra.tables import ARCHIVE_INGESTER_USER, PRODUCER_USER, REGISTRY_TOPIC, REGISTRY_USER

STRIMZI_PREFIX = "kubernetes:kafka.strimzi.io/"
DYNAMIC_RESOURCE = "pulumi-python:dynamic:Resource"
BROKER_USERNAME = re.compile(r"^[a-z][a-z0-9]*-(idf|usdf|local)$")
NAMESPACED = re.compile(
    r"^kubernetes:(kafka\.strimzi\.io/[^:]+|apps/v1|batch/v1|core/v1|networking\.k8s\.io/v1|policy/v1"
    r"|gateway\.networking\.k8s\.io/v1|monitoring\.coreos\.com/v1):"
    r"(Kafka|KafkaNodePool|KafkaTopic|KafkaUser|Deployment|Job|Secret|Service|ServiceAccount|Ingress"
    r"|NetworkPolicy|PodDisruptionBudget|ConfigMap|HTTPRoute|PodMonitor|PrometheusRule)$"
)
SENSITIVE_ENV = re.compile(r"PASSWORD|SECRET|ACCESS_KEY|TOKEN", re.IGNORECASE)
FACILITY_MIN_REPLICAS = 3
FACILITY_MIN_ISR = 2

Props = Mapping[str, Any]


@dataclass(frozen=True)
class Grant:
    username: str
    resource_type: str  # Topic | Group | Cluster | ...
    resource_name: str
    pattern: str  # Literal | Prefixed
    operation: str


def _strimzi_kind(resource_type: str) -> str | None:
    return resource_type.rsplit(":", 1)[1] if resource_type.startswith(STRIMZI_PREFIX) else None


def grants(resource_type: str, props: Props) -> list[Grant]:
    """The ACL grants a resource creates: a Strimzi KafkaUser, or a user's ACL set on a Kafka
    managed directly (infra.providers.kafka_admin.UserAcls)."""
    if _strimzi_kind(resource_type) == "KafkaUser":
        username = props["metadata"]["name"]
        found = []
        for acl in (props.get("spec", {}).get("authorization") or {}).get("acls", []):
            resource = acl["resource"]
            pattern = "Prefixed" if resource.get("patternType") == "prefix" else "Literal"
            for operation in acl.get("operations", []):
                found.append(
                    Grant(username, resource["type"].title(), resource.get("name", "*"), pattern, operation)
                )
        return found
    if resource_type == DYNAMIC_RESOURCE and "principal" in props and "acls" in props:
        username = props["principal"].removeprefix("User:")
        return [
            Grant(username, acl["resourceType"], acl["resourceName"], acl["patternType"], acl["operation"])
            for acl in props["acls"]
        ]
    return []


def _is_service(username: str, base: str) -> bool:
    """One of our services' users, plain or suffixed with its facility on a shared cluster."""
    return re.fullmatch(rf"{re.escape(base)}(-(idf|usdf|local))?", username) is not None


def _grant_violation(grant: Grant) -> str | None:
    where = f"{grant.operation} on {grant.resource_type} {grant.resource_name!r} ({grant.pattern})"
    if grant.resource_type not in ("Topic", "Group"):
        return f"{grant.username} may not hold {where}: only topic and group ACLs are granted"
    if grant.resource_name == "*":
        return f"{grant.username} may not hold a wildcard grant: {where}"
    topic, group = grant.resource_type == "Topic", grant.resource_type == "Group"
    if _is_service(grant.username, PRODUCER_USER):
        allowed = topic and grant.pattern == "Literal" and grant.operation in ("Write", "Describe")
    elif _is_service(grant.username, ARCHIVE_INGESTER_USER):
        allowed = (
            (topic and grant.operation in ("Read", "Describe"))
            or (topic and grant.operation == "Write" and "dead-letter" in grant.resource_name)
            or (group and grant.resource_name == grant.username and grant.pattern == "Prefixed")
        ) and grant.operation != "All"
    elif _is_service(grant.username, REGISTRY_USER):
        allowed = (topic and grant.resource_name == REGISTRY_TOPIC and grant.pattern == "Literal") or (
            group and grant.resource_name == grant.username and grant.operation in ("Read", "Describe")
        )
    elif BROKER_USERNAME.match(grant.username):
        allowed = (
            topic
            and grant.pattern == "Literal"
            and grant.operation in ("Read", "Describe", "DescribeConfigs")
        ) or (group and grant.pattern == "Prefixed" and grant.resource_name == grant.username)
    else:
        return f"{grant.username} is not a known user: its ACLs need a rule"
    return None if allowed else f"{grant.username} may not hold {where}"


def least_privilege_acls(resource_type: str, props: Props) -> list[str]:
    """Brokers read alert topics and own their prefixed groups; services hold only their own rights."""
    return [v for grant in grants(resource_type, props) if (v := _grant_violation(grant))]


def facility_topics_replicated(resource_type: str, props: Props) -> list[str]:
    """A facility topic keeps three replicas with two in sync."""
    if _strimzi_kind(resource_type) != "KafkaTopic":
        return []
    spec = props.get("spec", {})
    name = spec.get("topicName", props["metadata"]["name"])
    found = []
    if int(spec.get("replicas", 0)) < FACILITY_MIN_REPLICAS:
        found.append(
            f"topic {name} has {spec.get('replicas')} replicas; facilities need {FACILITY_MIN_REPLICAS}"
        )
    if int(spec.get("config", {}).get("min.insync.replicas", 0)) < FACILITY_MIN_ISR:
        found.append(f"topic {name} needs min.insync.replicas >= {FACILITY_MIN_ISR}")
    return found


def namespaced_objects_have_a_namespace(resource_type: str, props: Props) -> list[str]:
    """Namespaced objects name their namespace; nothing lands in `default` by accident."""
    if NAMESPACED.match(resource_type) and not (props.get("metadata") or {}).get("namespace"):
        return [f"{resource_type} {(props.get('metadata') or {}).get('name')} has no namespace"]
    return []


def _containers(resource_type: str, props: Props) -> list[Props]:
    if resource_type == "kubernetes:apps/v1:Deployment" or resource_type == "kubernetes:batch/v1:Job":
        pod = props.get("spec", {}).get("template", {}).get("spec", {})
    else:
        return []
    return [*pod.get("initContainers", []), *pod.get("containers", [])]


def credentials_come_from_secrets(resource_type: str, props: Props) -> list[str]:
    """A container gets passwords and keys from a Secret, never as a literal env value."""
    return [
        f"container {container.get('name')} sets {env['name']} as a literal; use valueFrom.secretKeyRef"
        for container in _containers(resource_type, props)
        for env in container.get("env", [])
        if SENSITIVE_ENV.search(env["name"]) and "value" in env
    ]


RULES: dict[str, tuple[str, Callable[[str, Props], list[str]]]] = {
    "least-privilege-kafka-acls": (
        "Brokers read alert topics and own their prefixed groups; services are least-privilege.",
        least_privilege_acls,
    ),
    "facility-topics-replicated": (
        "Facility topics: replication factor 3, min.insync.replicas 2.",
        facility_topics_replicated,
    ),
    "namespaced-objects-have-a-namespace": (
        "Every namespaced object names its namespace.",
        namespaced_objects_have_a_namespace,
    ),
    "credentials-come-from-secrets": (
        "Passwords and keys reach containers from Secrets, never as literal values.",
        credentials_come_from_secrets,
    ),
}
