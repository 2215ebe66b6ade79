"""What Rubin's phalanx runs at USDF in the `sasquatch` namespace that the usdf stack must leave as
it is: the community brokers' KafkaUsers (passwords from the `sasquatch` Secret), the alert topics,
the registry's topic, and the namespace. Written out from lsst-sqre/phalanx at
650a0ef2cb4428baf8412f4f762eddb2854e00d1: applications/sasquatch/charts/alert-brokers/templates/
kafka-users.yaml and kafka-topics.yaml rendered with
applications/sasquatch/values-usdfprod-prompt-processing.yaml (SPV) lines 1-68 and the chart's
values.yaml (cluster name `sasquatch`); charts/schema-registry/templates/kafka-topic.yaml; the
namespace from environments/templates/applications/monitoring/sasquatch.yaml, which
usdfprod-prompt-processing gives no labels.

Not seeded: phalanx's TLS users (kafka-admin, alert-database-ingester, sasquatch-schema-registry,
kafbat), which need the clients CA that phalanx's cluster operator makes and no test here reads;
SPV:70-73's `prompt-alert`, which the chart at that commit does not render (its template reads
serviceAccountsReadWrite and serviceAccountsWrite, not serviceAccounts)."""

from __future__ import annotations

import base64
import json
import secrets
from typing import Any

from confluent_kafka.admin import NewTopic

from localfacility.kubernetes import LocalKubernetes
from localfacility.strimzi import KafkaAccess
from tests.kubernetes.facility import admin

NAMESPACE = "sasquatch"
CLUSTER = "sasquatch"
PASSWORDS_SECRET = "sasquatch"  # each user's password under `<username>-password`
# Argo CD syncs sasquatch without the ServerSideApply option (no syncOptions in the Application
# above): a client-side apply, which keeps the last-applied annotation, under the manager Argo CD
# passes whether or not it applies server-side (argo-cd controller/sync.go
# WithServerSideApplyManager(ArgoCDSSAManager), common/common.go ArgoCDSSAManager).
FIELD_MANAGER = "argocd-controller"
# Argo CD tracks what it applies by this label (phalanx applications/argocd/values.yaml:150-151,
# application.resourceTrackingMethod: label), valued with the Application's name.
TRACKING = {"app.kubernetes.io/instance": "sasquatch"}

COMMUNITY_READONLY_TOPICS = ("alerts-simulated", "lsst-alerts-v11")  # SPV:17-19
BROKERS = ("alerce", "ampel", "antares", "babamul", "fink", "lasair", "pittgoogle", "poi", "snaps")
# SPV:21-64: a development user reading every topic, and the community brokers.
USERS = {
    "rubin-devel-idfint": ("*",),
    **{
        f"{broker}-usdf": COMMUNITY_READONLY_TOPICS
        for broker in (
            "alerce",
            "ampel",
            "antares",
            "babamul",
            "fink",
            "lasair",
            "pittgoogle",
            "poi",
            "snaps",
        )
    },
}
# SPV:4-15 (name, partitions, replicas). The template writes `retention.ms: {{ $topic.retention }}`
# and SPV sets no `retention` (it sets millisecondsRetained): a null reaches each KafkaTopic.
TOPICS = (("alert-stream-test", 400, 3), ("alerts-simulated", 45, 3), ("lsst-alerts-v11", 45, 3))


def _meta(name: str) -> dict[str, Any]:
    return {"name": name, "namespace": NAMESPACE, "labels": {"strimzi.io/cluster": CLUSTER, **TRACKING}}


def kafka_user(username: str, topics: tuple[str, ...]) -> dict[str, Any]:
    read = ["Read", "Describe", "DescribeConfigs"]
    acls = [
        {
            "resource": {"type": "topic", "name": topic, "patternType": "literal"},
            "type": "allow",
            "host": "*",
            "operations": read,
        }
        for topic in topics
    ]
    acls.append(
        {
            "resource": {"type": "group", "name": username, "patternType": "prefix"},
            "type": "allow",
            "host": "*",
            "operations": ["All"],
        }
    )
    password = {"valueFrom": {"secretKeyRef": {"name": PASSWORDS_SECRET, "key": f"{username}-password"}}}
    return {
        "apiVersion": "kafka.strimzi.io/v1",
        "kind": "KafkaUser",
        "metadata": _meta(username),
        "spec": {
            "authentication": {"type": "scram-sha-512", "password": password},
            "authorization": {"type": "simple", "acls": acls},
        },
    }


def kafka_topic(name: str, partitions: int, replicas: int) -> dict[str, Any]:
    return {
        "apiVersion": "kafka.strimzi.io/v1",
        "kind": "KafkaTopic",
        "metadata": _meta(name),
        "spec": {"replicas": replicas, "partitions": partitions, "config": {"retention.ms": None}},
    }


def registry_topic() -> dict[str, Any]:
    """The schema registry's own (charts/schema-registry values.yaml: topic registry-schemas)."""
    return {
        "apiVersion": "kafka.strimzi.io/v1beta2",
        "kind": "KafkaTopic",
        "metadata": _meta("registry-schemas"),
        "spec": {"partitions": 1, "replicas": 3, "config": {"cleanup.policy": "compact"}},
    }


def passwords() -> dict[str, str]:
    """A fresh password for each of phalanx's users (its Vault holds the real ones)."""
    return {username: secrets.token_urlsafe(24) for username in USERS}


def applied_by_argo() -> list[dict[str, Any]]:
    """What Argo CD applies: the namespace (the app-of-apps'), the KafkaUsers and KafkaTopics."""
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
        *(kafka_user(user, topics) for user, topics in USERS.items()),
        *(kafka_topic(*topic) for topic in TOPICS),
        registry_topic(),
    ]


def passwords_secret(user_passwords: dict[str, str]) -> dict[str, Any]:
    """The `sasquatch` Secret, which phalanx's VaultSecret (templates/vault-secrets.yaml) fills
    from Vault: not Argo CD's."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": PASSWORDS_SECRET, "namespace": NAMESPACE},
        "data": {
            f"{user}-password": base64.b64encode(password.encode()).decode()
            for user, password in user_passwords.items()
        },
    }


def owned() -> list[tuple[str, str]]:
    """Phalanx's objects, by kind and name."""
    return [(m["kind"], m["metadata"]["name"]) for m in [*applied_by_argo(), passwords_secret({})]]


def seed(
    kubernetes: LocalKubernetes, kafka: KafkaAccess, user_passwords: dict[str, str], *, served: str
) -> None:
    """Phalanx's alert topics made in Kafka (they hold alerts at USDF: made long before this
    bundle), its objects applied as Argo CD applies them, of those whose API version the cluster's
    Strimzi CRDs serve (`served`: `all`, or one version such as kafka.strimzi.io/v1), and the
    passwords' Secret."""
    client = admin(kafka)  # held: a client collected before its futures resolve fails them
    for future in client.create_topics([NewTopic(*topic) for topic in TOPICS]).values():
        future.result(timeout=60)
    objects = [
        o
        for o in applied_by_argo()
        if served == "all" or not o["apiVersion"].startswith("kafka.strimzi.io/") or o["apiVersion"] == served
    ]
    listed = json.dumps({"apiVersion": "v1", "kind": "List", "items": objects})
    kubernetes.kubectl("apply", f"--field-manager={FIELD_MANAGER}", "-f", "-", stdin=listed)
    kubernetes.apply(passwords_secret(user_passwords))
