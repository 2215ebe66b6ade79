"""Kubernetes and Strimzi manifests for a facility, as plain dicts built from the stack config.

Pure functions: the components turn these into resources, the tests validate them against
the Strimzi CRD schemas and the Kubernetes API schemas without Pulumi.
"""

from __future__ import annotations

import re
from typing import Any

from infra.config import IngressSpec, KafkaClusterSpec, StackConfig, StorageSpec, TopicRole, TopicSpec
from infra.tables import (
    ARCHIVE_INGESTER_USER,
    PRODUCER_USER,
    REGISTRY_GROUP,
    REGISTRY_TOPIC,
    AclRule,
    KafkaUserSpec,
    PatternType,
    UserRole,
    min_insync_replicas,
    topic_config,
)

Manifest = dict[str, Any]

INTERNAL_SCRAM_PORT = 9092
INTERNAL_TLS_PORT = 9093
EXTERNAL_PORT = 9094
BROKER_NODE_IDS = "[0-99]"
CONTROLLER_NODE_IDS = "[100-199]"
ADMIN_USER = "alertdist-admin"
REGISTRY_PORT = 8081
ARCHIVE_SERVER_PORT = 8080
PASSWORD_KEY = "password"  # noqa: S105 - a Secret key name


def k8s_name(name: str) -> str:
    """A DNS-1123 name for a Kafka name (topics may hold `_` and `.`)."""
    cleaned = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
    return cleaned[:63].rstrip("-")


def password_secret_name(username: str) -> str:
    """The Secret we write a SCRAM user's password into (Strimzi writes its own `<username>`)."""
    return f"{username}-scram-password"


def _cluster(config: StackConfig) -> KafkaClusterSpec:
    if config.kafka is None:
        raise ValueError(f"the {config.facility} stack declares no Kafka cluster")
    return config.kafka


def _meta(name: str, namespace: str, **labels: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    meta["labels"] = {"app.kubernetes.io/part-of": "alert-distribution", **labels}
    return meta


def _strimzi_meta(config: StackConfig, name: str) -> dict[str, Any]:
    return _meta(name, config.namespace, **{"strimzi.io/cluster": _cluster(config).name})


def _storage(storage: StorageSpec) -> dict[str, Any]:
    return {
        "type": "jbod",
        "volumes": [
            {
                "id": 0,
                "type": "persistent-claim",
                "size": storage.size,
                "class": storage.storage_class,
                "deleteClaim": False,
                "kraftMetadata": "shared",
            }
        ],
    }


def node_pools(config: StackConfig) -> list[Manifest]:
    """A controller pool and a broker pool; broker ids 0.. match the external broker hosts."""
    cluster = _cluster(config)
    pools = []
    for name, roles, replicas, storage, ids in (
        (
            "controller",
            ["controller"],
            cluster.controller_replicas,
            cluster.controller_storage,
            CONTROLLER_NODE_IDS,
        ),
        ("broker", ["broker"], cluster.replicas, cluster.broker_storage, BROKER_NODE_IDS),
    ):
        meta = _strimzi_meta(config, name)
        meta["annotations"] = {"strimzi.io/next-node-ids": ids}
        pools.append(
            {
                "apiVersion": cluster.strimzi.api_version,
                "kind": "KafkaNodePool",
                "metadata": meta,
                "spec": {"replicas": replicas, "roles": roles, "storage": _storage(storage)},
            }
        )
    return pools


def kafka(config: StackConfig) -> Manifest:
    """The Kafka CR: KRaft, SCRAM inside and out, mTLS for services, simple authorization."""
    cluster = _cluster(config)
    external = cluster.external
    bootstrap: dict[str, Any] = {"host": external.bootstrap_host}
    if external.bootstrap_ip:
        bootstrap["loadBalancerIP"] = external.bootstrap_ip
    brokers = []
    for broker_id, host in enumerate(external.broker_hosts):
        entry: dict[str, Any] = {"broker": broker_id, "advertisedHost": host, "host": host}
        if external.broker_ips:
            entry["loadBalancerIP"] = external.broker_ips[broker_id]
        brokers.append(entry)
    rf = config.replication_factor
    isr = cluster.min_insync_replicas
    return {
        "apiVersion": cluster.strimzi.api_version,
        "kind": "Kafka",
        "metadata": _meta(cluster.name, config.namespace),
        "spec": {
            "kafka": {
                "version": cluster.version,
                "listeners": [
                    {
                        "name": "internal",
                        "port": INTERNAL_SCRAM_PORT,
                        "type": "internal",
                        "tls": False,
                        "authentication": {"type": "scram-sha-512"},
                    },
                    {
                        "name": "tls",
                        "port": INTERNAL_TLS_PORT,
                        "type": "internal",
                        "tls": True,
                        "authentication": {"type": "tls"},
                    },
                    {
                        "name": "external",
                        "port": EXTERNAL_PORT,
                        "type": "loadbalancer",
                        "tls": False,
                        "authentication": {"type": "scram-sha-512"},
                        "configuration": {"bootstrap": bootstrap, "brokers": brokers},
                    },
                ],
                "authorization": {"type": "simple", "superUsers": [ADMIN_USER]},
                "config": {
                    "auto.create.topics.enable": False,
                    "default.replication.factor": rf,
                    "min.insync.replicas": isr,
                    "offsets.topic.replication.factor": rf,
                    "transaction.state.log.replication.factor": rf,
                    "transaction.state.log.min.isr": isr,
                    "message.max.bytes": max(t.max_message_bytes for t in config.topics),
                    "replica.fetch.max.bytes": max(t.max_message_bytes for t in config.topics),
                    "allow.everyone.if.no.acl.found": False,
                },
            },
            "entityOperator": {"topicOperator": {}, "userOperator": {}},
        },
    }


def kafka_topic(config: StackConfig, topic: TopicSpec) -> Manifest:
    cluster = _cluster(config)
    return {
        "apiVersion": cluster.strimzi.api_version,
        "kind": "KafkaTopic",
        "metadata": _strimzi_meta(config, k8s_name(topic.name)),
        "spec": {
            "topicName": topic.name,
            "partitions": topic.partitions,
            "replicas": config.replication_factor,
            "config": topic_config(topic, min_insync_replicas(config)),
        },
    }


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


def kafka_user(config: StackConfig, user: KafkaUserSpec) -> Manifest:
    """A KafkaUser: SCRAM with our password Secret, or mTLS for the registry; simple ACLs."""
    cluster = _cluster(config)
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
        "apiVersion": cluster.strimzi.api_version,
        "kind": "KafkaUser",
        "metadata": _strimzi_meta(config, user.username),
        "spec": spec,
    }


def admin_user(config: StackConfig) -> KafkaUserSpec:
    """The operators' break-glass super user (named in the Kafka CR's superUsers)."""
    return KafkaUserSpec(username=ADMIN_USER, role=UserRole.ADMIN, acls=())


def bootstrap_internal(config: StackConfig, port: int = INTERNAL_SCRAM_PORT) -> str:
    return f"{_cluster(config).name}-kafka-bootstrap.{config.namespace}.svc:{port}"


def _labels(app: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": app, "app.kubernetes.io/part-of": "alert-distribution"}


def _deployment(
    config: StackConfig,
    app: str,
    image: str,
    args: list[str],
    env: list[dict[str, Any]],
    replicas: int,
    service_account: str,
    port: int | None = None,
    volumes: list[dict[str, Any]] | None = None,
    mounts: list[dict[str, Any]] | None = None,
) -> Manifest:
    container: dict[str, Any] = {
        "name": app,
        "image": image,
        "args": args,
        "env": env,
        "resources": {
            "requests": {"cpu": "250m", "memory": "512Mi"},
            "limits": {"memory": "2Gi"},
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        },
    }
    if port is not None:
        container["ports"] = [{"name": "http", "containerPort": port}]
        container["readinessProbe"] = {"httpGet": {"path": "/v1/health", "port": "http"}}
    if mounts:
        container["volumeMounts"] = mounts
    pod_spec: dict[str, Any] = {"serviceAccountName": service_account, "containers": [container]}
    if volumes:
        pod_spec["volumes"] = volumes
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(app, config.namespace, **_labels(app)),
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app.kubernetes.io/name": app}},
            "template": {"metadata": {"labels": _labels(app)}, "spec": pod_spec},
        },
    }


def service(config: StackConfig, app: str, port: int) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(app, config.namespace, **_labels(app)),
        "spec": {
            "selector": {"app.kubernetes.io/name": app},
            "ports": [{"name": "http", "port": port, "targetPort": port}],
        },
    }


def ingress(config: StackConfig, app: str, port: int, spec: IngressSpec, read_only: bool) -> Manifest:
    """An Ingress under a path prefix; read_only lets only GET and HEAD through."""
    annotations = {
        "nginx.ingress.kubernetes.io/rewrite-target": "/$2",
        "nginx.ingress.kubernetes.io/use-regex": "true",
    }
    if read_only:
        annotations["nginx.ingress.kubernetes.io/configuration-snippet"] = (
            "limit_except GET HEAD { deny all; }"
        )
    meta = _meta(app, config.namespace, **_labels(app))
    meta["annotations"] = annotations
    prefix = spec.path_prefix.rstrip("/")
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": meta,
        "spec": {
            "ingressClassName": spec.ingress_class,
            "rules": [
                {
                    "host": spec.host,
                    "http": {
                        "paths": [
                            {
                                "path": f"{prefix}(/|$)(.*)",
                                "pathType": "ImplementationSpecific",
                                "backend": {"service": {"name": app, "port": {"number": port}}},
                            }
                        ]
                    },
                }
            ],
        },
    }


def service_account(config: StackConfig, name: str, gcp_service_account: str | None) -> Manifest:
    meta = _meta(name, config.namespace)
    if gcp_service_account:
        meta["annotations"] = {"iam.gke.io/gcp-service-account": gcp_service_account}
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta}


def _secret_env(name: str, secret: str, key: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


REGISTRY_APP = "schema-registry"
REGISTRY_USER_SECRET_VOLUME = "kafka-user"  # noqa: S105 - a volume name
CLUSTER_CA_VOLUME = "cluster-ca"


def registry_deployment(config: StackConfig) -> Manifest:
    """Confluent's registry, storing in `_schemas` over the internal mTLS listener."""
    cluster = _cluster(config)
    env = [
        {"name": "SCHEMA_REGISTRY_HOST_NAME", "value": REGISTRY_APP},
        {"name": "SCHEMA_REGISTRY_LISTENERS", "value": f"http://0.0.0.0:{REGISTRY_PORT}"},
        {
            "name": "SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS",
            "value": f"SSL://{bootstrap_internal(config, INTERNAL_TLS_PORT)}",
        },
        {"name": "SCHEMA_REGISTRY_KAFKASTORE_SECURITY_PROTOCOL", "value": "SSL"},
        {"name": "SCHEMA_REGISTRY_KAFKASTORE_TOPIC", "value": REGISTRY_TOPIC},
        {"name": "SCHEMA_REGISTRY_KAFKASTORE_GROUP_ID", "value": REGISTRY_GROUP},
        {"name": "SCHEMA_REGISTRY_SCHEMA_COMPATIBILITY_LEVEL", "value": "none"},
        {"name": "SCHEMA_REGISTRY_KAFKASTORE_SSL_KEYSTORE_LOCATION", "value": "/kafka-user/user.p12"},
        {"name": "SCHEMA_REGISTRY_KAFKASTORE_SSL_KEYSTORE_TYPE", "value": "PKCS12"},
        _secret_env("SCHEMA_REGISTRY_KAFKASTORE_SSL_KEYSTORE_PASSWORD", "schema-registry", "user.password"),
        {"name": "SCHEMA_REGISTRY_KAFKASTORE_SSL_TRUSTSTORE_LOCATION", "value": "/cluster-ca/ca.p12"},
        {"name": "SCHEMA_REGISTRY_KAFKASTORE_SSL_TRUSTSTORE_TYPE", "value": "PKCS12"},
        _secret_env(
            "SCHEMA_REGISTRY_KAFKASTORE_SSL_TRUSTSTORE_PASSWORD",
            f"{cluster.name}-cluster-ca-cert",
            "ca.password",
        ),
    ]
    volumes = [
        {"name": REGISTRY_USER_SECRET_VOLUME, "secret": {"secretName": "schema-registry"}},
        {"name": CLUSTER_CA_VOLUME, "secret": {"secretName": f"{cluster.name}-cluster-ca-cert"}},
    ]
    mounts = [
        {"name": REGISTRY_USER_SECRET_VOLUME, "mountPath": "/kafka-user", "readOnly": True},
        {"name": CLUSTER_CA_VOLUME, "mountPath": "/cluster-ca", "readOnly": True},
    ]
    manifest = _deployment(
        config,
        REGISTRY_APP,
        config.registry.image,
        [],
        env,
        config.registry.replicas,
        REGISTRY_APP,
        None,
        volumes,
        mounts,
    )
    container = manifest["spec"]["template"]["spec"]["containers"][0]
    del container["args"]
    container["ports"] = [{"name": "http", "containerPort": REGISTRY_PORT}]
    container["readinessProbe"] = {"httpGet": {"path": "/subjects", "port": "http"}}
    return manifest


def registry_url_internal(config: StackConfig) -> str:
    return f"http://{REGISTRY_APP}.{config.namespace}.svc:{REGISTRY_PORT}"


def schema_sync_job(config: StackConfig) -> Manifest:
    """Loads every LSST alert schema with id MAJOR*100+MINOR (IMPORT mode), then READWRITE."""
    app = "schema-sync"
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": _meta(app, config.namespace, **_labels(app)),
        "spec": {
            "backoffLimit": 6,
            "ttlSecondsAfterFinished": 86400,
            "template": {
                "metadata": {"labels": _labels(app)},
                "spec": {
                    "restartPolicy": "OnFailure",
                    "containers": [
                        {
                            "name": app,
                            "image": config.registry.sync_image,
                            "args": [
                                "alertdist-schema-sync",
                                "--registry-url",
                                registry_url_internal(config),
                            ],
                            "securityContext": {"allowPrivilegeEscalation": False, "runAsNonRoot": True},
                        }
                    ],
                },
            },
        },
    }


ARCHIVE_CREDENTIALS_SECRET = "archive-s3-credentials"  # noqa: S105 - a Secret name
INGESTER_APP = "archive-ingester"
SERVER_APP = "archive-server"


def _archive_env(config: StackConfig) -> list[dict[str, Any]]:
    if config.archive is None:
        raise ValueError(f"the {config.facility} stack declares no archive")
    bucket = config.archive.bucket
    env: list[dict[str, Any]] = [
        {"name": "ALERTDIST_ARCHIVE_BACKEND", "value": bucket.kind},
        {"name": "ALERTDIST_ARCHIVE_BUCKET", "value": bucket.name},
        {"name": "ALERTDIST_REGISTRY_URL", "value": registry_url_internal(config)},
    ]
    if bucket.kind == "s3":
        env += [
            {"name": "ALERTDIST_S3_ENDPOINT", "value": bucket.endpoint},
            {"name": "AWS_REGION", "value": bucket.region},
            _secret_env("AWS_ACCESS_KEY_ID", ARCHIVE_CREDENTIALS_SECRET, "access_key_id"),
            _secret_env("AWS_SECRET_ACCESS_KEY", ARCHIVE_CREDENTIALS_SECRET, "secret_access_key"),
        ]
    return env


def archive_ingester(config: StackConfig) -> Manifest:
    assert config.archive is not None
    dead_letter = config.topic_for(TopicRole.DEAD_LETTER)
    env = [
        *_archive_env(config),
        {"name": "ALERTDIST_KAFKA_BOOTSTRAP", "value": bootstrap_internal(config)},
        {"name": "ALERTDIST_KAFKA_USERNAME", "value": ARCHIVE_INGESTER_USER},
        _secret_env("ALERTDIST_KAFKA_PASSWORD", password_secret_name(ARCHIVE_INGESTER_USER), PASSWORD_KEY),
        {"name": "ALERTDIST_TOPICS", "value": ",".join(t.name for t in config.alert_topics)},
        {"name": "ALERTDIST_DEAD_LETTER_TOPIC", "value": dead_letter.name if dead_letter else ""},
    ]
    return _deployment(
        config,
        INGESTER_APP,
        config.archive.image,
        ["alertdist-archive-ingester"],
        env,
        config.archive.ingester_replicas,
        INGESTER_APP,
    )


def archive_server(config: StackConfig) -> Manifest:
    assert config.archive is not None
    return _deployment(
        config,
        SERVER_APP,
        config.archive.image,
        ["alertdist-archive-server", "--port", str(ARCHIVE_SERVER_PORT)],
        _archive_env(config),
        config.archive.server_replicas,
        SERVER_APP,
        ARCHIVE_SERVER_PORT,
    )


PRODUCER_APP = "alert-producer"


def alert_producer(config: StackConfig) -> Manifest:
    producer = config.producer
    env = [
        {"name": "ALERTDIST_KAFKA_BOOTSTRAP", "value": bootstrap_internal(config)},
        {"name": "ALERTDIST_KAFKA_USERNAME", "value": PRODUCER_USER},
        _secret_env("ALERTDIST_KAFKA_PASSWORD", password_secret_name(PRODUCER_USER), PASSWORD_KEY),
    ]
    args = [
        "alertdist-producer",
        "--topic",
        producer.topic,
        "--alerts-per-visit",
        str(producer.alerts_per_visit),
        "--visit-interval",
        str(producer.visit_interval_seconds),
        "--forever",
    ]
    return _deployment(config, PRODUCER_APP, producer.image, args, env, 1, PRODUCER_APP)
