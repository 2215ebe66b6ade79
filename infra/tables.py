"""Pure tables derived from the stack config: users, ACLs, topic settings. No Pulumi here."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from infra.config import Facility, KafkaClusterSpec, SharedKafkaSpec, StackConfig, TopicRole, TopicSpec
from infra.naming import ServiceUsers

BASE_USERS = ServiceUsers()
PRODUCER_USER = BASE_USERS.producer
ARCHIVE_INGESTER_USER = BASE_USERS.archive_ingester
REGISTRY_USER = BASE_USERS.schema_registry
REGISTRY_TOPIC = "_schemas"
ADMIN_USER = "alertdist-admin"


class ResourceType(StrEnum):
    TOPIC = "Topic"
    GROUP = "Group"
    CLUSTER = "Cluster"


class PatternType(StrEnum):
    LITERAL = "Literal"
    PREFIXED = "Prefixed"


class Operation(StrEnum):
    READ = "Read"
    WRITE = "Write"
    CREATE = "Create"
    DESCRIBE = "Describe"
    DESCRIBE_CONFIGS = "DescribeConfigs"
    ALL = "All"


class UserRole(StrEnum):
    COMMUNITY_BROKER = "community-broker"
    PRODUCER = "producer"
    ARCHIVE_INGESTER = "archive-ingester"
    SCHEMA_REGISTRY = "schema-registry"
    ADMIN = "admin"


@dataclass(frozen=True, order=True)
class AclRule:
    """One ALLOW rule: principal may do operation on resource (name, pattern)."""

    username: str
    resource_type: ResourceType
    resource_name: str
    pattern: PatternType
    operation: Operation
    host: str = "*"

    @property
    def principal(self) -> str:
        return f"User:{self.username}"


@dataclass(frozen=True)
class KafkaUserSpec:
    username: str
    role: UserRole
    acls: tuple[AclRule, ...]


def broker_username(broker: str, facility: Facility) -> str:
    """A community broker's SCRAM username at a facility, e.g. ``fink-usdf``."""
    return f"{broker}-{facility.value}"


def service_users(config: StackConfig) -> ServiceUsers:
    """Our services' usernames: suffixed with the facility on a shared cluster (`archive-ingester-usdf`),
    where other tenants' users live beside ours, as the brokers' are everywhere."""
    if not isinstance(config.kafka, SharedKafkaSpec):
        return BASE_USERS
    suffix = f"-{config.facility.value}"
    return ServiceUsers(
        producer=PRODUCER_USER + suffix,
        archive_ingester=ARCHIVE_INGESTER_USER + suffix,
        schema_registry=REGISTRY_USER + suffix,
    )


def _topic_rules(username: str, topics: list[TopicSpec], *operations: Operation) -> list[AclRule]:
    return [
        AclRule(username, ResourceType.TOPIC, topic.name, PatternType.LITERAL, operation)
        for topic in topics
        for operation in operations
    ]


def _group_rule(username: str, group: str, pattern: PatternType, operation: Operation) -> AclRule:
    return AclRule(username, ResourceType.GROUP, group, pattern, operation)


def kafka_users(config: StackConfig) -> list[KafkaUserSpec]:
    """Every SCRAM user of the stack with exactly the ACLs it needs, and no more. The brokers'
    users are listed even where the facility's other owner declares them (the outputs name them);
    where that owner runs the producer under a user of its own, there is no producer here."""
    alerts = config.alert_topics
    # The canaries travel the alerts' way: the producer writes them, the brokers and the archive read them.
    streamed = alerts + ([config.canary_topic] if config.canary_topic else [])
    names = service_users(config)
    producer, ingester, registry = names.producer, names.archive_ingester, names.schema_registry
    users = [
        KafkaUserSpec(
            username=(name := broker_username(broker, config.facility)),
            role=UserRole.COMMUNITY_BROKER,
            acls=(
                *_topic_rules(name, streamed, Operation.READ, Operation.DESCRIBE, Operation.DESCRIBE_CONFIGS),
                _group_rule(name, name, PatternType.PREFIXED, Operation.ALL),
            ),
        )
        for broker in config.brokers
    ]
    if config.facility_owned is None or not config.facility_owned.producer:
        users.append(
            KafkaUserSpec(
                username=producer,
                role=UserRole.PRODUCER,
                acls=tuple(_topic_rules(producer, streamed, Operation.WRITE, Operation.DESCRIBE)),
            )
        )
    dead_letter = [t for t in config.topics if t.role is TopicRole.DEAD_LETTER]
    users.append(
        KafkaUserSpec(
            username=ingester,
            role=UserRole.ARCHIVE_INGESTER,
            acls=tuple(
                _topic_rules(ingester, streamed, Operation.READ, Operation.DESCRIBE)
                + _topic_rules(ingester, dead_letter, Operation.WRITE, Operation.DESCRIBE)
                + [
                    _group_rule(ingester, ingester, PatternType.PREFIXED, op)
                    for op in (Operation.READ, Operation.DESCRIBE)
                ]
            ),
        )
    )
    registry_topics = [t for t in config.topics if t.role is TopicRole.REGISTRY]
    if registry_topics:
        users.append(
            KafkaUserSpec(
                username=registry,
                role=UserRole.SCHEMA_REGISTRY,
                acls=tuple(
                    _topic_rules(
                        registry,
                        registry_topics,
                        Operation.READ,
                        Operation.WRITE,
                        Operation.DESCRIBE,
                        Operation.DESCRIBE_CONFIGS,
                    )
                    + [
                        _group_rule(registry, registry, PatternType.LITERAL, op)
                        for op in (Operation.READ, Operation.DESCRIBE)
                    ]
                ),
            )
        )
    return users


def topic_config(topic: TopicSpec, min_insync_replicas: int) -> dict[str, str]:
    """Kafka topic-level settings for one declared topic."""
    return {
        "retention.ms": str(topic.retention_ms),
        "retention.bytes": str(topic.retention_bytes),
        "max.message.bytes": str(topic.max_message_bytes),
        "message.timestamp.type": topic.timestamp_type,
        "cleanup.policy": topic.cleanup_policy,
        "min.insync.replicas": str(min_insync_replicas),
        "compression.type": "producer",
    }


def admin_user() -> KafkaUserSpec:
    """The operators' break-glass super user (named in the Kafka CR's superUsers)."""
    return KafkaUserSpec(username=ADMIN_USER, role=UserRole.ADMIN, acls=())


def owned_elsewhere(config: StackConfig, user: KafkaUserSpec) -> bool:
    """A user the facility's other owner declares (config.FacilityOwnedSpec)."""
    owned = config.facility_owned
    return owned is not None and owned.broker_users and user.role is UserRole.COMMUNITY_BROKER


def stack_users(config: StackConfig) -> list[KafkaUserSpec]:
    """The users this stack declares: the user table less the facility's other owner's users, plus,
    where the stack runs the Kafka cluster, the operators' super user (a shared cluster's super
    users are the facility's)."""
    users = [user for user in kafka_users(config) if not owned_elsewhere(config, user)]
    if isinstance(config.kafka, KafkaClusterSpec):
        users.append(admin_user())
    return users
