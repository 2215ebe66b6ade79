"""The archive ingester and server Deployments. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infra.components.kubernetes import (
    ALL_INTERFACES,
    Manifest,
    container,
    deployment,
    secret_env,
    service_args,
)
from infra.config import ArchiveSpec
from infra.naming import (
    ARCHIVE_SERVER_PORT,
    INGESTER_APP,
    METRICS_PORT,
    PASSWORD_KEY,
    SERVER_APP,
    ClusterAddress,
    password_secret_name,
)

# The ingester's S3 keys may write; the server's are the facility's read-only keys.
INGESTER_S3_SECRET = "archive-ingester-s3-credentials"  # noqa: S105 - a Secret name
SERVER_S3_SECRET = "archive-server-s3-credentials"  # noqa: S105 - a Secret name
# The archive server's API is versioned under /v1 and has only GET routes (services/archive_server).
ARCHIVE_PUBLIC_ROUTES = ("v1",)


@dataclass(frozen=True)
class ArchivedTopics:
    """What the ingester reads, and where it sends what it cannot store."""

    alert_topics: list[str]
    dead_letter_topic: str | None
    canary_topic: str | None = None


def _store_env(spec: ArchiveSpec, address: ClusterAddress, s3_secret: str) -> list[dict[str, Any]]:
    bucket = spec.bucket
    env: list[dict[str, Any]] = [
        {"name": "ALERTDIST_ARCHIVE_BACKEND", "value": bucket.kind},
        {"name": "ALERTDIST_ARCHIVE_BUCKET", "value": bucket.name},
        {"name": "ALERTDIST_REGISTRY_URL", "value": address.registry_url},
    ]
    if spec.schema_bucket is not None:
        env.append({"name": "ALERTDIST_ARCHIVE_SCHEMA_BUCKET", "value": spec.schema_bucket})
    if bucket.kind == "s3":
        env += [
            {"name": "ALERTDIST_S3_ENDPOINT", "value": bucket.endpoint},
            {"name": "AWS_REGION", "value": bucket.region},
            secret_env("AWS_ACCESS_KEY_ID", s3_secret, "access_key_id"),
            secret_env("AWS_SECRET_ACCESS_KEY", s3_secret, "secret_access_key"),
        ]
    return env


def archive_ingester(
    spec: ArchiveSpec, image: str, address: ClusterAddress, topics: ArchivedTopics
) -> Manifest:
    env = [
        *_store_env(spec, address, INGESTER_S3_SECRET),
        {"name": "ALERTDIST_KAFKA_BOOTSTRAP", "value": address.kafka_bootstrap()},
        {"name": "ALERTDIST_KAFKA_USERNAME", "value": address.users.archive_ingester},
        {"name": "ALERTDIST_ARCHIVE_GROUP", "value": address.users.archive_ingester},
        secret_env(
            "ALERTDIST_KAFKA_PASSWORD", password_secret_name(address.users.archive_ingester), PASSWORD_KEY
        ),
        {"name": "ALERTDIST_TOPICS", "value": ",".join(topics.alert_topics)},
        {"name": "ALERTDIST_CANARY_TOPIC", "value": topics.canary_topic or ""},
        {"name": "ALERTDIST_DEAD_LETTER_TOPIC", "value": topics.dead_letter_topic or ""},
    ]
    args = service_args("archive_ingester")
    ingester = container(
        INGESTER_APP, image, env, spec.ingester_resources, args=args, metrics_port=METRICS_PORT
    )
    return deployment(address.namespace, INGESTER_APP, spec.ingester_replicas, ingester)


def archive_server(spec: ArchiveSpec, image: str, address: ClusterAddress) -> Manifest:
    server = container(
        SERVER_APP,
        image,
        _store_env(spec, address, SERVER_S3_SECRET),
        spec.server_resources,
        args=service_args("archive_server", "--host", ALL_INTERFACES, "--port", str(ARCHIVE_SERVER_PORT)),
        metrics_port=METRICS_PORT,
        port=ARCHIVE_SERVER_PORT,
        readiness_path="/v1/health",
    )
    return deployment(address.namespace, SERVER_APP, spec.server_replicas, server)
