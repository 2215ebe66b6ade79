"""Confluent's registry Deployment and the schema sync Job. Pure."""

from __future__ import annotations

from infra.components.kubernetes import Manifest, app_labels, container, deployment, meta, secret_env
from infra.config import RegistrySpec
from infra.naming import INTERNAL_TLS_PORT, REGISTRY_APP, REGISTRY_PORT, SCHEMA_SYNC_APP, ClusterAddress
from infra.tables import REGISTRY_GROUP, REGISTRY_TOPIC, REGISTRY_USER

USER_SECRET_VOLUME = "kafka-user"  # noqa: S105 - a volume name
CLUSTER_CA_VOLUME = "cluster-ca"


def registry_deployment(spec: RegistrySpec, address: ClusterAddress) -> Manifest:
    """Confluent's registry, storing in `_schemas` over the internal mTLS listener."""
    cluster_ca = f"{address.kafka_cluster}-cluster-ca-cert"
    env = [
        {"name": "SCHEMA_REGISTRY_HOST_NAME", "value": REGISTRY_APP},
        {"name": "SCHEMA_REGISTRY_LISTENERS", "value": f"http://0.0.0.0:{REGISTRY_PORT}"},
        {
            "name": "SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS",
            "value": f"SSL://{address.kafka_bootstrap(INTERNAL_TLS_PORT)}",
        },
        {"name": "SCHEMA_REGISTRY_KAFKASTORE_SECURITY_PROTOCOL", "value": "SSL"},
        {"name": "SCHEMA_REGISTRY_KAFKASTORE_TOPIC", "value": REGISTRY_TOPIC},
        {"name": "SCHEMA_REGISTRY_KAFKASTORE_GROUP_ID", "value": REGISTRY_GROUP},
        {"name": "SCHEMA_REGISTRY_SCHEMA_COMPATIBILITY_LEVEL", "value": "none"},
        {"name": "SCHEMA_REGISTRY_KAFKASTORE_SSL_KEYSTORE_LOCATION", "value": "/kafka-user/user.p12"},
        {"name": "SCHEMA_REGISTRY_KAFKASTORE_SSL_KEYSTORE_TYPE", "value": "PKCS12"},
        secret_env("SCHEMA_REGISTRY_KAFKASTORE_SSL_KEYSTORE_PASSWORD", REGISTRY_USER, "user.password"),
        {"name": "SCHEMA_REGISTRY_KAFKASTORE_SSL_TRUSTSTORE_LOCATION", "value": "/cluster-ca/ca.p12"},
        {"name": "SCHEMA_REGISTRY_KAFKASTORE_SSL_TRUSTSTORE_TYPE", "value": "PKCS12"},
        secret_env("SCHEMA_REGISTRY_KAFKASTORE_SSL_TRUSTSTORE_PASSWORD", cluster_ca, "ca.password"),
    ]
    volumes = [
        {"name": USER_SECRET_VOLUME, "secret": {"secretName": REGISTRY_USER}},
        {"name": CLUSTER_CA_VOLUME, "secret": {"secretName": cluster_ca}},
    ]
    mounts = [
        {"name": USER_SECRET_VOLUME, "mountPath": "/kafka-user", "readOnly": True},
        {"name": CLUSTER_CA_VOLUME, "mountPath": "/cluster-ca", "readOnly": True},
    ]
    registry = container(
        REGISTRY_APP, spec.image, env, port=REGISTRY_PORT, readiness_path="/subjects", mounts=mounts
    )
    return deployment(address.namespace, REGISTRY_APP, spec.replicas, registry, volumes)


def schema_sync_job(spec: RegistrySpec, address: ClusterAddress) -> Manifest:
    """Loads every LSST alert schema with id MAJOR*100+MINOR (IMPORT mode), then READWRITE."""
    app = SCHEMA_SYNC_APP
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": meta(app, address.namespace, **app_labels(app)),
        "spec": {
            "backoffLimit": 6,
            "ttlSecondsAfterFinished": 86400,
            "template": {
                "metadata": {"labels": app_labels(app)},
                "spec": {
                    "restartPolicy": "OnFailure",
                    "containers": [
                        {
                            "name": app,
                            "image": spec.sync_image,
                            "args": [
                                "python",
                                "-m",
                                "services.schema_sync.cli",
                                "--registry-url",
                                address.registry_url,
                            ],
                            "securityContext": {"allowPrivilegeEscalation": False, "runAsNonRoot": True},
                        }
                    ],
                },
            },
        },
    }
