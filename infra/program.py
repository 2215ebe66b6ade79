"""The whole alert distribution system for one stack, from its typed config."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_kafka

from infra import manifests
from infra.components.access import KafkaAccess
from infra.components.archive import AlertArchive
from infra.components.kafka_cluster import KafkaCluster
from infra.components.producer import AlertProducer
from infra.components.registry import SchemaRegistrations, SchemaRegistry
from infra.components.targets import DirectKafkaTarget, StrimziTarget
from infra.components.topics import KafkaTopics
from infra.config import Facility, IngressSpec, StackConfig
from infra.secrets import StackSecrets, read_secrets
from infra.stackfile import model_from_values
from infra.tables import KafkaUserSpec, kafka_users, min_insync_replicas

LOCAL_ADMIN_USER = "admin"
LOCAL_REGISTRY_ADMIN_USER = "admin"


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


def stack_users(config: StackConfig) -> list[KafkaUserSpec]:
    """The user table plus, at a facility, the operators' super user."""
    users = kafka_users(config)
    if config.facility is not Facility.LOCAL:
        users.append(manifests.admin_user(config))
    return users


def _https(ingress: IngressSpec | None) -> str | None:
    return None if ingress is None else f"https://{ingress.host}{ingress.path_prefix.rstrip('/')}"


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
        bootstrap = f"{config.kafka.external.bootstrap_host}:{manifests.EXTERNAL_PORT}"
        registry = _https(config.registry.ingress) or manifests.registry_url_internal(config)
        archive = _https(config.archive.ingress) or ""
    return {
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
                "replicationFactor": config.replication_factor,
                "minInsyncReplicas": min_insync_replicas(config),
                "retentionMs": topic.retention_ms,
                "retentionBytes": topic.retention_bytes,
                "maxMessageBytes": topic.max_message_bytes,
                "timestampType": topic.timestamp_type,
            }
            for topic in config.topics
        },
        "users": {user.username: user.role.value for user in stack_users(config)},
    }


def declare(config: StackConfig, secrets: StackSecrets) -> dict[str, Any]:
    """Declare every resource of the stack; return the stack outputs (passwords as one secret)."""
    users = stack_users(config)
    if config.facility is Facility.LOCAL:
        access = _declare_local(config, secrets, users)
    else:
        access = _declare_facility(config, secrets, users)
    return {**public_outputs(config), "passwords": pulumi.Output.secret(access.passwords)}


def _declare_local(config: StackConfig, secrets: StackSecrets, users: list[KafkaUserSpec]) -> KafkaAccess:
    assert config.local is not None
    assert secrets.local_kafka_admin_password is not None
    assert secrets.local_registry_admin_password is not None
    provider = pulumi_kafka.Provider(
        "local-kafka",
        bootstrap_servers=config.local.bootstrap_servers.split(","),
        sasl_mechanism="scram-sha512",
        sasl_username=LOCAL_ADMIN_USER,
        sasl_password=secrets.local_kafka_admin_password,
        tls_enabled=False,
        timeout=120,
    )
    target = DirectKafkaTarget(provider)
    KafkaTopics("topics", config, target)
    access = KafkaAccess("access", config, users, secrets, target)
    SchemaRegistrations(
        "alert-schemas",
        config.local.registry_url,
        LOCAL_REGISTRY_ADMIN_USER,
        secrets.local_registry_admin_password,
    )
    return access


def _declare_facility(config: StackConfig, secrets: StackSecrets, users: list[KafkaUserSpec]) -> KafkaAccess:
    cluster = KafkaCluster("kafka", config)
    target = StrimziTarget(cluster.kafka)
    topics = KafkaTopics("topics", config, target)
    access = KafkaAccess("access", config, users, secrets, target)
    registry = SchemaRegistry("schema-registry", config, depends_on=[topics, access])
    AlertArchive("archive", config, secrets, depends_on=[topics, access, registry])
    if config.producer.enabled:
        AlertProducer("producer", config, depends_on=[topics, access, registry])
    return access


def main() -> None:
    config = pulumi.Config("alertdist")
    stack = load_stack_config(config)
    for key, value in declare(stack, read_secrets(config, stack)).items():
        pulumi.export(key, value)
