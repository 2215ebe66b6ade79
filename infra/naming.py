"""Names, ports and in-cluster addresses that the parts of a facility agree on. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass

INTERNAL_SCRAM_PORT = 9092
INTERNAL_TLS_PORT = 9093
EXTERNAL_PORT = 9094
REGISTRY_PORT = 8081
ARCHIVE_SERVER_PORT = 8080
METRICS_PORT = 9100  # every service's Prometheus metrics, apart from its API
PASSWORD_KEY = "password"  # noqa: S105 - a Secret key name

REGISTRY_APP = "schema-registry"
SCHEMA_SYNC_APP = "schema-sync"
INGESTER_APP = "archive-ingester"
SERVER_APP = "archive-server"
PRODUCER_APP = "alert-producer"


def k8s_name(name: str) -> str:
    """A DNS-1123 name for a Kafka name (topics may hold `_` and `.`)."""
    cleaned = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
    return cleaned[:63].rstrip("-")


def password_secret_name(username: str) -> str:
    """The Secret we write a SCRAM user's password into (Strimzi writes its own `<username>`)."""
    return f"{username}-scram-password"


@dataclass(frozen=True)
class ServiceUsers:
    """The Kafka usernames of our services (the registry's is also its consumer group)."""

    producer: str = "alert-producer"
    archive_ingester: str = "archive-ingester"
    schema_registry: str = "schema-registry"


@dataclass(frozen=True)
class ClusterAddress:
    """Where a facility's parts find each other inside Kubernetes, and who they log in as."""

    namespace: str
    kafka_cluster: str
    users: ServiceUsers = ServiceUsers()
    facility_registry: str | None = None  # the facility's own registry, where it runs one

    def kafka_bootstrap(self, port: int = INTERNAL_SCRAM_PORT) -> str:
        return f"{self.kafka_cluster}-kafka-bootstrap.{self.namespace}.svc:{port}"

    @property
    def registry_url(self) -> str:
        return self.facility_registry or f"http://{REGISTRY_APP}.{self.namespace}.svc:{REGISTRY_PORT}"
