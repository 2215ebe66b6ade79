"""The KafkaUser CR of one user: SCRAM with our password Secret, or mTLS; simple ACLs. Pure."""

from __future__ import annotations

from typing import Any

from infra.components.kafka.manifests import strimzi_meta, until_ready
from infra.components.kubernetes import Manifest
from infra.naming import PASSWORD_KEY, password_secret_name
from infra.tables import AclRule, KafkaUserSpec, PatternType, UserRole


def _strimzi_acl(rule: AclRule) -> dict[str, Any]:
    return {
        "type": "allow",
        "host": rule.host,
        "resource": {
            "type": rule.resource_type.value.lower(),
            "name": rule.resource_name,
            "patternType": "prefix" if rule.pattern is PatternType.PREFIXED else "literal",
        },
        "operations": [rule.operation.value],
    }


# pulumi-kubernetes deletes in the foreground unless told otherwise (the provider our stacks
# build, scripts/tools/pulumi-kubernetes/go.mod: pkg/metadata/overrides.go:68-78,
# pkg/await/await.go:844): it waits for the KafkaUser's dependents, the Secret that Strimzi's user
# operator owns, and the operator writes that Secret again while the KafkaUser still exists. Seen
# on the local Kubernetes with Strimzi 1.2.0: a `destroy` took 251 s, the Secret recreated again
# and again. In the background the KafkaUser goes at once, the operator removes its credentials,
# and the garbage collector takes the Secret.
DELETE_IN_BACKGROUND = {"pulumi.com/deletionPropagationPolicy": "background"}


def deleted_in_background(metadata: dict[str, Any]) -> dict[str, Any]:
    return {**metadata, "annotations": {**metadata.get("annotations", {}), **DELETE_IN_BACKGROUND}}


def kafka_user(user: KafkaUserSpec, namespace: str, cluster: str, api_version: str) -> Manifest:
    if user.role is UserRole.SCHEMA_REGISTRY:
        authentication: dict[str, Any] = {"type": "tls"}
    else:
        authentication = {
            "type": "scram-sha-512",
            "password": {
                "valueFrom": {
                    "secretKeyRef": {"name": password_secret_name(user.username), "key": PASSWORD_KEY}
                }
            },
        }
    spec: dict[str, Any] = {"authentication": authentication}
    if user.acls:
        spec["authorization"] = {"type": "simple", "acls": [_strimzi_acl(rule) for rule in user.acls]}
    return {
        "apiVersion": api_version,
        "kind": "KafkaUser",
        "metadata": until_ready(deleted_in_background(strimzi_meta(user.username, namespace, cluster))),
        "spec": spec,
    }
