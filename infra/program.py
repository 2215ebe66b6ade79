"""The whole alert distribution system for one stack, from its typed config."""

from __future__ import annotations

import json
from typing import Any

import pulumi

from alertdist_common.clients import MIN_JAVA_CLIENT, MIN_LIBRDKAFKA
from alertdist_common.outputs import OUTPUTS_VERSION
from infra import provisioning
from infra.components.access import KafkaAccess
from infra.components.archive import AlertArchive, LocalArchiveBuckets
from infra.components.archive.manifests import ArchivedTopics
from infra.components.kafka import KafkaCluster
from infra.components.monitoring import Monitoring
from infra.components.producer import AlertProducer
from infra.components.registry import SchemaRegistrations, SchemaRegistry
from infra.components.targets import DirectKafkaTarget, StrimziTarget
from infra.components.topics import KafkaTopics
from infra.config import KafkaClusterSpec, StackConfig, TopicRole
from infra.naming import EXTERNAL_PORT, ClusterAddress
from infra.stack_secrets import StackSecrets, read_secrets
from infra.stackfile import model_from_values
from infra.tables import (
    ADMIN_USER,
    KafkaUserSpec,
    UserRole,
    kafka_users,
    owned_elsewhere,
    service_users,
    stack_users,
)


def load_stack_config(config: pulumi.Config) -> StackConfig:
    """Read every `alertdist:` key once into the typed model (the engine hands objects as JSON)."""
    values: dict[str, Any] = {}
    for name, field in StackConfig.model_fields.items():
        key = field.alias or name
        value = config.get(key)
        if value is None:
            continue
        try:
            values[key] = json.loads(value)
        except json.JSONDecodeError:
            values[key] = value
    return model_from_values(values)


def cluster_address(config: StackConfig) -> ClusterAddress:
    if config.kafka is None:
        raise ValueError(f"the {config.facility} stack declares no Kafka cluster")
    owned = config.facility_owned
    return ClusterAddress(
        namespace=config.namespace,
        kafka_cluster=config.kafka.name,
        users=service_users(config),
        facility_registry=owned.registry.url if owned and owned.registry else None,
    )


def public_outputs(config: StackConfig) -> dict[str, Any]:
    """What the post-deploy suite needs to find a deployed facility (no secrets)."""
    if config.local is not None:
        bootstrap, registry, archive = (
            config.local.bootstrap_servers,
            config.local.registry_url,
            config.local.archive_url,
        )
    else:
        assert config.kafka is not None
        assert config.archive is not None
        bootstrap = f"{config.kafka.bootstrap_host}:{EXTERNAL_PORT}"
        registry_route, archive_route = config.registry.public_route, config.archive.public_route
        owned = config.facility_owned
        if owned is not None and owned.registry is not None:
            registry = owned.registry.public_url
        else:
            registry = registry_route.url if registry_route else cluster_address(config).registry_url
        archive = archive_route.url if archive_route else ""
    topic_replication = config.replication
    tls: dict[str, Any] = {}
    if config.local is not None and config.local.tls_bootstrap_servers:
        tls = {
            "tlsBootstrapServers": config.local.tls_bootstrap_servers,
            "kafkaCaFile": config.local.kafka_ca_file,
        }
    return {
        **tls,
        "outputsVersion": OUTPUTS_VERSION,
        "facility": config.facility.value,
        "bootstrapServers": bootstrap,
        "securityProtocol": "SASL_PLAINTEXT",
        "saslMechanism": "SCRAM-SHA-512",
        "registryUrl": registry,
        "archiveUrl": archive,
        "alertTopics": [topic.name for topic in config.alert_topics],
        "topics": {
            topic.name: {
                "role": topic.role.value,
                "partitions": topic.partitions,
                "replicationFactor": topic_replication.factor,
                "minInsyncReplicas": topic_replication.min_insync,
                "retentionMs": topic.retention_ms,
                "retentionBytes": topic.retention_bytes,
                "maxMessageBytes": topic.max_message_bytes,
                "timestampType": topic.timestamp_type,
            }
            for topic in config.topics
        },
        "users": {user.username: user.role.value for user in kafka_users(config)},
        "passwordRefs": password_refs(config),
        "clientFloor": {"librdkafka": MIN_LIBRDKAFKA, "javaClient": MIN_JAVA_CLIENT},
    }


def _passwords(users: list[KafkaUserSpec], secrets: StackSecrets) -> dict[str, pulumi.Output[str]]:
    """One secret password per SCRAM user the stack declares (the registry's user logs in with mTLS)."""
    return {
        user.username: secrets.kafka_password(user.username)
        for user in users
        if user.role is not UserRole.SCHEMA_REGISTRY
    }


def password_refs(config: StackConfig) -> dict[str, dict[str, str]]:
    """Where the tools find the passwords of the users the facility's other owner declares: the
    Secret Strimzi's user operator writes for each KafkaUser, named after the user, key `password`
    (KafkaUserModel.getSecretName and KEY_PASSWORD, strimzi-kafka-operator 0.51.0 and 1.2.0; no
    secret prefix is set at USDF). The stack never reads them: they stay out of its state, and a
    runner needs `get` on those Secrets only."""
    if config.facility_owned is None:
        return {}
    return {
        user.username: {"namespace": config.namespace, "secret": user.username, "key": "password"}
        for user in kafka_users(config)
        if owned_elsewhere(config, user)
    }


def declare(config: StackConfig, secrets: StackSecrets) -> dict[str, Any]:
    """Declare every resource of the stack; return the stack outputs (passwords as one secret)."""
    users = stack_users(config)
    passwords = _passwords(users, secrets)
    # The operators' super user is in the Kafka CR and its Secret, never in the outputs that CI
    # and the post-deploy suite read with --show-secrets.
    exported = {user: password for user, password in passwords.items() if user != ADMIN_USER}
    outputs = {**public_outputs(config), "passwords": pulumi.Output.secret(exported)}
    if config.local is not None:
        _declare_local(config, secrets, users, passwords)
    else:
        _declare_facility(config, secrets, users, passwords)
    return outputs


def _declare_local(
    config: StackConfig,
    secrets: StackSecrets,
    users: list[KafkaUserSpec],
    passwords: dict[str, pulumi.Output[str]],
) -> None:
    local = config.local
    assert local is not None
    assert secrets.local_kafka_admin_password is not None
    assert secrets.local_registry_admin_password is not None
    assert secrets.local_s3 is not None
    target = DirectKafkaTarget(
        local.bootstrap_servers, local.kafka_admin_user, secrets.local_kafka_admin_password
    )
    KafkaTopics("topics", config.declared_topics, config.replication, target)
    KafkaAccess("access", users, passwords, target)
    SchemaRegistrations(
        "alert-schemas",
        local.registry_write_url,
        local.registry_admin_user,
        secrets.local_registry_admin_password,
    )
    LocalArchiveBuckets(
        "archive-buckets",
        local.archive_bucket,
        local.s3_endpoint,
        local.gcs_endpoint,
        secrets.local_s3,
    )


def _declare_facility(
    config: StackConfig,
    secrets: StackSecrets,
    users: list[KafkaUserSpec],
    passwords: dict[str, pulumi.Output[str]],
) -> None:
    cluster_spec, archive_spec, image = config.kafka, config.archive, config.services_image
    assert cluster_spec is not None
    assert archive_spec is not None
    assert image is not None
    for shortfall in provisioning.problems(config):  # warned, not refused: operators may know better
        pulumi.log.warn(f"provisioning: {shortfall} (scripts/provisioning {config.facility})")
    address = cluster_address(config)
    max_message_bytes = max(topic.max_message_bytes for topic in config.topics)
    cluster: list[pulumi.Resource] = []
    if isinstance(cluster_spec, KafkaClusterSpec):
        cluster = [KafkaCluster("kafka", cluster_spec, config.namespace, max_message_bytes).kafka]
    target = StrimziTarget(cluster, config.namespace, cluster_spec.name, cluster_spec.api_version)
    topics = KafkaTopics("topics", config.declared_topics, config.replication, target)
    access = KafkaAccess("access", users, passwords, target)
    ready: list[pulumi.Resource] = [topics, access]
    owned = config.facility_owned
    if owned is None or owned.registry is None:
        ready.append(
            SchemaRegistry("schema-registry", config.registry, image, address, depends_on=[topics, access])
        )
    dead_letter = config.topic_for(TopicRole.DEAD_LETTER)
    archived = ArchivedTopics(
        alert_topics=[topic.name for topic in config.alert_topics],
        dead_letter_topic=dead_letter.name if dead_letter else None,
        canary_topic=config.canary_topic.name if config.canary_topic else None,
    )
    AlertArchive(
        "archive",
        archive_spec,
        image,
        address,
        archived,
        secrets.archive_s3,
        depends_on=ready,
    )
    if config.producer.enabled:
        AlertProducer("producer", config.producer, image, address, depends_on=ready)
    if config.monitoring.pod_monitors or config.monitoring.rules:
        Monitoring("monitoring", config)


def main() -> None:
    config = pulumi.Config("alertdist")
    stack = load_stack_config(config)
    for key, value in declare(stack, read_secrets(config, stack)).items():
        pulumi.export(key, value)
