"""Topics, SCRAM users and ACLs on a running Kafka, through its admin API."""

from __future__ import annotations

import secrets
from typing import Any

import pulumi
from confluent_kafka import KafkaException
from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ConfigResource,
    NewPartitions,
    NewTopic,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialUpsertion,
)
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider, UpdateResult

from infra.tables import AclRule, PatternType

SCRAM_ITERATIONS = 4096
TIMEOUT_S = 60


def _admin(props: dict[str, Any]) -> AdminClient:
    """An admin client for one call; keep it referenced until its futures are done (a collected
    client fails them with `_DESTROY`)."""
    return AdminClient(
        {
            "bootstrap.servers": props["bootstrap"],
            "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanism": "SCRAM-SHA-512",
            "sasl.username": props["adminUser"],
            "sasl.password": props["adminPassword"],
            "log_level": 4,  # warnings and errors; not the client's teardown notices
        }
    )


def _changed(olds: dict[str, Any], news: dict[str, Any], keys: tuple[str, ...]) -> list[str]:
    return [key for key in keys if olds.get(key) != news.get(key)]


# -- topics -------------------------------------------------------------------------------------
class TopicProvider(ResourceProvider):
    """A topic: partitions can grow in place; a new name or replication factor replaces it."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Creates the topic, or adopts one that exists (as Strimzi's Topic Operator does) and
        brings its partitions and config to the declaration."""
        topic = NewTopic(
            props["name"], int(props["partitions"]), int(props["replicationFactor"]), config=props["config"]
        )
        admin = _admin(props)
        try:
            admin.create_topics([topic])[props["name"]].result(TIMEOUT_S)
        except KafkaException as error:
            if "TOPIC_ALREADY_EXISTS" not in str(error):
                raise
            live = self._live(props)
            assert live is not None
            if live["replicationFactor"] != int(props["replicationFactor"]):
                raise ValueError(
                    f"topic {props['name']} exists with replication factor {live['replicationFactor']}, "
                    f"not {props['replicationFactor']}: delete it or declare what it has"
                ) from error
            self.update(props["name"], live, props)
        return CreateResult(id_=props["name"], outs=props)

    def _live(self, props: dict[str, Any]) -> dict[str, Any] | None:
        admin = _admin(props)
        metadata = admin.list_topics(props["name"], timeout=TIMEOUT_S).topics.get(props["name"])
        if metadata is None or metadata.error is not None:
            return None
        resource = ConfigResource("topic", props["name"])
        configs = admin.describe_configs([resource])[resource].result(TIMEOUT_S)
        partitions = metadata.partitions.values()
        return {
            **props,
            "partitions": len(metadata.partitions),
            "replicationFactor": min(len(p.replicas) for p in partitions),
            "config": {key: configs[key].value for key in props["config"] if key in configs},
        }

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        live = self._live(props)
        return ReadResult(id_=id_ if live else None, outs=live or {})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = _changed(olds, news, ("name", "partitions", "replicationFactor", "config"))
        replaces = [key for key in changed if key in ("name", "replicationFactor")]
        if "partitions" in changed and int(news["partitions"]) < int(olds["partitions"]):
            replaces.append("partitions")  # Kafka cannot remove partitions
        return DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=True)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        admin = _admin(news)
        if int(news["partitions"]) > int(olds["partitions"]):
            grow = NewPartitions(news["name"], int(news["partitions"]))
            admin.create_partitions([grow])[news["name"]].result(TIMEOUT_S)
        if olds.get("config") != news["config"]:
            resource = ConfigResource("topic", news["name"], set_config=news["config"])
            admin.alter_configs([resource])[resource].result(TIMEOUT_S)
        return UpdateResult(outs=news)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        try:
            admin = _admin(props)
            admin.delete_topics([props["name"]])[props["name"]].result(TIMEOUT_S)
        except KafkaException as error:
            if "UNKNOWN_TOPIC" not in str(error):
                raise


class KafkaTopic(Resource):
    def __init__(self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions) -> None:
        super().__init__(
            TopicProvider(),
            name,
            props,
            opts.merge(pulumi.ResourceOptions(additional_secret_outputs=["adminPassword"])),
        )


# -- SCRAM users --------------------------------------------------------------------------------
def _upsert(props: dict[str, Any], password: bytes) -> None:
    credential = ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, SCRAM_ITERATIONS)
    upsert = UserScramCredentialUpsertion(props["username"], credential, password)
    admin = _admin(props)
    for future in admin.alter_user_scram_credentials([upsert]).values():
        future.result(TIMEOUT_S)


class ScramUserProvider(ResourceProvider):
    """A SCRAM-SHA-512 credential; a new password is set in place."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        _upsert(props, props["password"].encode())
        return CreateResult(id_=props["username"], outs=props)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        admin = _admin(props)
        described = admin.describe_user_scram_credentials([props["username"]])
        try:
            next(iter(described.values())).result(TIMEOUT_S)
        except KafkaException as error:
            if "RESOURCE_NOT_FOUND" in str(error):
                return ReadResult(id_=None, outs={})
            raise
        return ReadResult(id_=id_, outs=props)  # Kafka never shows the password back

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = _changed(olds, news, ("username", "password"))
        return DiffResult(changes=bool(changed), replaces=[k for k in changed if k == "username"])

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        _upsert(news, news["password"].encode())
        return UpdateResult(outs=news)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        # Retired, not deleted: a single combined KRaft node of Kafka 4.3.1 that replays a
        # RemoveUserScramCredentialRecord at restart rejects the admin (README, Known limits).
        _upsert(props, secrets.token_bytes(32))


class ScramUser(Resource):
    def __init__(self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions) -> None:
        secret_outputs = pulumi.ResourceOptions(additional_secret_outputs=["adminPassword", "password"])
        super().__init__(ScramUserProvider(), name, props, opts.merge(secret_outputs))


# -- ACLs ---------------------------------------------------------------------------------------
def acl_entry(rule: AclRule) -> dict[str, str]:
    """One ALLOW binding of a user, as the resource's inputs hold it."""
    return {
        "resourceType": rule.resource_type.value,
        "resourceName": rule.resource_name,
        "patternType": rule.pattern.value,
        "operation": rule.operation.value,
        "host": rule.host,
    }


_OPERATIONS = {"DescribeConfigs": AclOperation.DESCRIBE_CONFIGS}
_OPERATION_NAMES = {AclOperation.DESCRIBE_CONFIGS: "DescribeConfigs"}


def _binding(principal: str, entry: dict[str, str]) -> AclBinding:
    return AclBinding(
        ResourceType[entry["resourceType"].upper()],
        entry["resourceName"],
        ResourcePatternType.PREFIXED
        if entry["patternType"] == PatternType.PREFIXED.value
        else ResourcePatternType.LITERAL,
        principal,
        entry["host"],
        _OPERATIONS.get(entry["operation"]) or AclOperation[entry["operation"].upper()],
        AclPermissionType.ALLOW,
    )


def _entry(binding: AclBinding) -> dict[str, str]:
    """A live binding in the inputs' form; a DENY (which we never declare) is kept visible."""
    entry = {
        "resourceType": binding.restype.name.title(),
        "resourceName": binding.name,
        "patternType": binding.resource_pattern_type.name.title(),
        "operation": _OPERATION_NAMES.get(binding.operation) or binding.operation.name.title(),
        "host": binding.host,
    }
    if binding.permission_type is not AclPermissionType.ALLOW:
        entry["permission"] = binding.permission_type.name
    return entry


def exact_filter(binding: AclBinding) -> AclBindingFilter:
    """A filter matching this one binding (delete takes filters)."""
    return AclBindingFilter(
        binding.restype,
        binding.name,
        binding.resource_pattern_type,
        binding.principal,
        binding.host,
        binding.operation,
        binding.permission_type,
    )


def _key(entry: dict[str, str]) -> tuple[str, ...]:
    return tuple(sorted(entry.items()))


def _sorted(entries: list[dict[str, str]]) -> list[dict[str, str]]:
    return sorted(entries, key=_key)


class UserAclsProvider(ResourceProvider):
    """Every ACL of one principal, as Strimzi's User Operator owns a KafkaUser's ACLs: a refresh
    reads the live set, and an update adds what is missing and removes what was not declared."""

    def _live(self, props: dict[str, Any]) -> list[AclBinding]:
        everything = AclBindingFilter(
            ResourceType.ANY,
            None,
            ResourcePatternType.ANY,
            props["principal"],
            None,
            AclOperation.ANY,
            AclPermissionType.ANY,
        )
        admin = _admin(props)
        return list(admin.describe_acls(everything).result(TIMEOUT_S))

    def _reconcile(self, props: dict[str, Any]) -> dict[str, Any]:
        admin = _admin(props)
        live = {_key(_entry(b)): b for b in self._live(props)}
        wanted = {_key(e): _binding(props["principal"], e) for e in props["acls"]}
        missing = [binding for key, binding in wanted.items() if key not in live]
        extra = [exact_filter(binding) for key, binding in live.items() if key not in wanted]
        for future in (admin.create_acls(missing) if missing else {}).values():
            future.result(TIMEOUT_S)
        for future in (admin.delete_acls(extra) if extra else {}).values():
            future.result(TIMEOUT_S)
        return {**props, "acls": _sorted(props["acls"])}

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_=props["principal"], outs=self._reconcile(props))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_=id_, outs={**props, "acls": _sorted([_entry(b) for b in self._live(props)])})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = ["principal"] if olds.get("principal") != news["principal"] else []
        if _sorted(olds.get("acls", [])) != _sorted(news["acls"]):
            changed.append("acls")
        return DiffResult(changes=bool(changed), replaces=[k for k in changed if k == "principal"])

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=self._reconcile(news))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        self._reconcile({**props, "acls": []})


class UserAcls(Resource):
    def __init__(self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions) -> None:
        secret_outputs = pulumi.ResourceOptions(additional_secret_outputs=["adminPassword"])
        super().__init__(UserAclsProvider(), name, props, opts.merge(secret_outputs))
