"""Confluent's registry Deployment and the schema sync Job. Pure."""

from __future__ import annotations

import hashlib
from typing import Any

from alertdist_common.schemas import available_versions, schema_json
from infra.components.kubernetes import (
    Manifest,
    app_labels,
    container,
    deployment,
    meta,
    only_from,
    pod_security,
    secret_env,
)
from infra.config import ContainerResourcesSpec, RegistrySpec
from infra.naming import (
    INGESTER_APP,
    INTERNAL_TLS_PORT,
    REGISTRY_APP,
    REGISTRY_PORT,
    SCHEMA_SYNC_APP,
    SERVER_APP,
    ClusterAddress,
)
from infra.tables import REGISTRY_TOPIC

USER_SECRET_VOLUME = "kafka-user"  # noqa: S105 - a volume name
CLUSTER_CA_VOLUME = "cluster-ca"

# Confluent's images end with `USER appuser`, a name, created by a plain `useradd --no-log-init
# --create-home --shell /bin/bash appuser` on UBI (confluentinc/common-docker v7.9.2,
# base/Dockerfile.ubi8; the 7.9.2 registry image is schema-registry-images v7.9.2
# schema-registry/Dockerfile.ubi8): the first regular user, so uid 1000 with its own group 1000
# (UBI's UID_MIN and USERGROUPS_ENAB).
CONFLUENT_IMAGE_UID = 1000
# Read by the image's start script (confluentinc/schema-registry bin/schema-registry-run-class),
# not turned into a registry property; the container's memory limit is 2Gi.
REGISTRY_HEAP_OPTS = "-Xms512m -Xmx1g"
# The heap's 1 GiB and the JVM's own beside it; the memory request is also the limit.
REGISTRY_RESOURCES = ContainerResourcesSpec(cpu="250m", memory="2Gi")
SCHEMA_SYNC_RESOURCES = ContainerResourcesSpec(cpu="250m", memory="512Mi")
# What the registry's ingress exposes: `/schemas/...`, where Confluent's API has only GET endpoints
# (schemas by id, their subjects and versions, types: SchemasResource in confluentinc/schema-registry,
# core/src/main/java/io/confluent/kafka/schemaregistry/rest/resources/SchemasResource.java). Writes
# (`/subjects/*/versions`, `/mode`, `/config`, DELETE) are on other routes and stay in the cluster.
REGISTRY_PUBLIC_ROUTES = ("schemas",)
# Where a route can match the method (an HTTPRoute), it passes reads only.
REGISTRY_PUBLIC_METHODS = ("GET",)


# The image's `configure` turns every SCHEMA_REGISTRY_* variable into a property (`dub template` of
# schema-registry.properties.template, env_to_props('SCHEMA_REGISTRY_', ''), no exclusions) and exits
# when SCHEMA_REGISTRY_PORT is set ("PORT is deprecated"; schema-registry-images v7.9.2,
# schema-registry/include/etc/confluent/docker/configure). The kubelet injects exactly that variable
# for a Service named `schema-registry` unless the pod turns service links off.
ENV_PREFIX = "SCHEMA_REGISTRY_"


def registry_property(variable: str) -> str:
    """The registry property an environment variable becomes (`SCHEMA_REGISTRY_KAFKASTORE_GROUP_ID`
    -> `kafkastore.group.id`), as the image's env_to_props does."""
    return variable.removeprefix(ENV_PREFIX).lower().replace("_", ".")


def registry_deployment(spec: RegistrySpec, address: ClusterAddress) -> Manifest:
    """Confluent's registry, storing in `_schemas` over the internal mTLS listener. Both of its
    consumer groups carry its username, the one group its user may use: the store's reader
    (`kafkastore.group.id`) and the leader election (`schema.registry.group.id`, default
    `schema-registry`: SchemaRegistryConfig.SCHEMAREGISTRY_GROUP_ID_CONFIG, used by
    KafkaGroupLeaderElector, schema-registry v7.9.2), which joins the group through the group
    coordinator and so needs Read on it."""
    cluster_ca = f"{address.kafka_cluster}-cluster-ca-cert"
    user = address.users.schema_registry
    env: list[dict[str, Any]] = [
        # Each replica advertises its own address, so a write forwarded to the leader reaches it
        # (as Rubin's strimzi-registry-operator does); a Service name would reach any replica.
        {"name": "SCHEMA_REGISTRY_HOST_NAME", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
        {"name": "SCHEMA_REGISTRY_HEAP_OPTS", "value": REGISTRY_HEAP_OPTS},
        {"name": "SCHEMA_REGISTRY_LISTENERS", "value": f"http://0.0.0.0:{REGISTRY_PORT}"},
        {
            "name": "SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS",
            "value": f"SSL://{address.kafka_bootstrap(INTERNAL_TLS_PORT)}",
        },
        {"name": "SCHEMA_REGISTRY_KAFKASTORE_SECURITY_PROTOCOL", "value": "SSL"},
        {"name": "SCHEMA_REGISTRY_KAFKASTORE_TOPIC", "value": REGISTRY_TOPIC},
        {"name": "SCHEMA_REGISTRY_KAFKASTORE_GROUP_ID", "value": user},
        {"name": "SCHEMA_REGISTRY_SCHEMA_REGISTRY_GROUP_ID", "value": user},
        {"name": "SCHEMA_REGISTRY_SCHEMA_COMPATIBILITY_LEVEL", "value": "none"},
        {"name": "SCHEMA_REGISTRY_KAFKASTORE_SSL_KEYSTORE_LOCATION", "value": "/kafka-user/user.p12"},
        {"name": "SCHEMA_REGISTRY_KAFKASTORE_SSL_KEYSTORE_TYPE", "value": "PKCS12"},
        secret_env("SCHEMA_REGISTRY_KAFKASTORE_SSL_KEYSTORE_PASSWORD", user, "user.password"),
        {"name": "SCHEMA_REGISTRY_KAFKASTORE_SSL_TRUSTSTORE_LOCATION", "value": "/cluster-ca/ca.p12"},
        {"name": "SCHEMA_REGISTRY_KAFKASTORE_SSL_TRUSTSTORE_TYPE", "value": "PKCS12"},
        secret_env("SCHEMA_REGISTRY_KAFKASTORE_SSL_TRUSTSTORE_PASSWORD", cluster_ca, "ca.password"),
    ]
    volumes = [
        {"name": USER_SECRET_VOLUME, "secret": {"secretName": user}},  # Strimzi's, named after the user
        {"name": CLUSTER_CA_VOLUME, "secret": {"secretName": cluster_ca}},
    ]
    mounts = [
        {"name": USER_SECRET_VOLUME, "mountPath": "/kafka-user", "readOnly": True},
        {"name": CLUSTER_CA_VOLUME, "mountPath": "/cluster-ca", "readOnly": True},
    ]
    registry = container(
        REGISTRY_APP,
        spec.image,
        env,
        REGISTRY_RESOURCES,
        port=REGISTRY_PORT,
        readiness_path="/subjects",
        mounts=mounts,
        run_as=CONFLUENT_IMAGE_UID,
    )
    return deployment(address.namespace, REGISTRY_APP, spec.replicas, registry, volumes)


# Who may reach the registry's port, which takes writes without a login: its own replicas (a
# follower forwards writes to the leader), the schema sync Job that writes, the archive that reads
# schemas, and the ingress controller or Gateway that serves the public read-only routes.
REGISTRY_CLIENTS = [REGISTRY_APP, SCHEMA_SYNC_APP, INGESTER_APP, SERVER_APP]


def registry_network_policy(spec: RegistrySpec, namespace: str) -> Manifest:
    """No other pod of a shared namespace may write schemas."""
    return only_from(namespace, REGISTRY_APP, REGISTRY_PORT, REGISTRY_CLIENTS, spec.public_route)


def schema_set_digest(image: str) -> str:
    """Names one run of the schema sync: the image and every alert schema it registers. A Job's
    pod template cannot change, so a new digest means a new Job, which runs the sync again."""
    sha = hashlib.sha256(image.encode())
    for version in available_versions():
        sha.update(f"\n{version.schema_id}\n".encode())
        sha.update(schema_json(version).encode())
    return sha.hexdigest()[:10]


def schema_sync_job(image: str, address: ClusterAddress) -> Manifest:
    """Loads every LSST alert schema with id MAJOR*100+MINOR (IMPORT mode), then READWRITE; one
    Job per schema set and image, kept after it finishes (a TTL would delete it, and the next
    refresh would see drift and run it again)."""
    app = SCHEMA_SYNC_APP
    args = ["python", "-m", "services.schema_sync.cli", "--registry-url", address.registry_url]
    sync = container(app, image, [], SCHEMA_SYNC_RESOURCES, args=args)
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": meta(f"{app}-{schema_set_digest(image)}", address.namespace, **app_labels(app)),
        "spec": {
            "backoffLimit": 6,
            "template": {
                "metadata": {"labels": app_labels(app)},
                "spec": {"restartPolicy": "OnFailure", **pod_security(), "containers": [sync]},
            },
        },
    }
