"""What Rubin's phalanx runs at USDF in the `sasquatch` namespace, as its Argo CD applies it: the
community brokers' KafkaUsers (passwords from the `sasquatch` Secret), the alert topics, and the
namespace. Written out from lsst-sqre/phalanx at 650a0ef2cb4428baf8412f4f762eddb2854e00d1:
applications/sasquatch/charts/alert-brokers/templates/kafka-users.yaml and kafka-topics.yaml,
rendered with applications/sasquatch/values-usdfprod-prompt-processing.yaml (SPV) lines 1-68 and
the chart's values.yaml (cluster name `sasquatch`); the namespace from
environments/templates/applications/monitoring/sasquatch.yaml, which usdfprod-prompt-processing
gives no labels. The rehearsal seeds these; the usdf stack must leave them as they are."""

from __future__ import annotations

import base64
import secrets
from typing import Any

NAMESPACE = "sasquatch"
CLUSTER = "sasquatch"
PASSWORDS_SECRET = "sasquatch"  # each user's password under `<username>-password`
# Argo CD syncs sasquatch without the ServerSideApply option (no syncOptions in the Application
# above): a client-side apply, which records the last-applied annotation under this manager.
FIELD_MANAGER = "argocd-application-controller"

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
# SPV:4-15 (name, partitions, replicas). The template reads `retention`, which SPV does not set
# (it sets millisecondsRetained), so no retention.ms reaches the KafkaTopics.
TOPICS = (("alert-stream-test", 400, 3), ("alerts-simulated", 45, 3), ("lsst-alerts-v11", 45, 3))


def _meta(name: str) -> dict[str, Any]:
    return {"name": name, "namespace": NAMESPACE, "labels": {"strimzi.io/cluster": CLUSTER}}


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
        "spec": {"replicas": replicas, "partitions": partitions},
    }


def passwords() -> dict[str, str]:
    """A fresh password for each of phalanx's users (its Vault holds the real ones)."""
    return {username: secrets.token_urlsafe(24) for username in USERS}


def sasquatch(user_passwords: dict[str, str]) -> list[dict[str, Any]]:
    """The namespace, the passwords' Secret, the KafkaUsers and the KafkaTopics."""
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": PASSWORDS_SECRET, "namespace": NAMESPACE},
        "data": {
            f"{user}-password": base64.b64encode(password.encode()).decode()
            for user, password in user_passwords.items()
        },
    }
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
        secret,
        *(kafka_user(user, topics) for user, topics in USERS.items()),
        *(kafka_topic(*topic) for topic in TOPICS),
    ]


def owned() -> list[tuple[str, str]]:
    """Phalanx's objects in its namespace, by kind and name (the namespace itself aside)."""
    return [
        (manifest["kind"], manifest["metadata"]["name"])
        for manifest in sasquatch(dict.fromkeys(USERS, ""))
        if manifest["kind"] != "Namespace"
    ]
