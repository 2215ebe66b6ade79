"""Deploy the local stack onto the running local facility, from the same tables as the facilities.

This is what `pulumi up --stack local` declares (topics, SCRAM users, ACLs, schema registrations),
applied directly with Kafka's admin API and the registry's REST API, plus the archive buckets.
It reconciles: a second run changes nothing, `destroy` removes what it made.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ConfigResource,
    NewTopic,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialUpsertion,
)

from alertdist_common.registry_sync import delete_subject, sync_schemas
from alertdist_common.schemas import ALERT_SUBJECT
from infra.config import LocalEndpoints, StackConfig
from infra.program import public_outputs
from infra.stackfile import load_stack
from infra.tables import AclRule, KafkaUserSpec, PatternType, kafka_users, replication, topic_config
from localfacility import kafka as local_kafka
from localfacility import objectstore, registry
from localfacility.credentials import KAFKA_ADMIN_USER, REGISTRY_ADMIN_USER, REGISTRY_READER_USER
from localfacility.facility import LocalFacility
from localfacility.settings import FacilitySettings

ARCHIVE_BUCKET = "alert-archive"
SCRAM_ITERATIONS = 4096


@dataclass
class DeployReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deleted)


def _write_private(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(document, handle, indent=2)
    partial.replace(path)


def _binding(rule: AclRule) -> AclBinding:
    return AclBinding(
        ResourceType[rule.resource_type.value.upper()],
        rule.resource_name,
        ResourcePatternType.PREFIXED if rule.pattern is PatternType.PREFIXED else ResourcePatternType.LITERAL,
        rule.principal,
        rule.host,
        AclOperation[
            {"DescribeConfigs": "DESCRIBE_CONFIGS"}.get(rule.operation.value, rule.operation.value.upper())
        ],
        AclPermissionType.ALLOW,
    )


def local_stack_config(settings: FacilitySettings) -> StackConfig:
    """The local stack pointed at this facility's own endpoints (its ports can be overridden,
    and a second facility can run beside the first)."""
    endpoints = LocalEndpoints(
        bootstrap_servers=f"{settings.host}:{settings.kafka_external_port}",
        registry_url=registry.registry_url(settings),
        archive_url=f"http://{settings.host}:{settings.archive_server_port}",
        kafka_admin_user=KAFKA_ADMIN_USER,
        registry_admin_user=REGISTRY_ADMIN_USER,
    )
    return load_stack("local").model_copy(update={"local": endpoints})


def declared_outputs(settings: FacilitySettings) -> dict[str, Any]:
    """The stack outputs known before a deploy: no passwords yet, and the SASL_SSL listener
    and its CA where the facility offers one."""
    tls: dict[str, str | None] = {"tlsBootstrapServers": None, "kafkaCaFile": None}
    if settings.tls_enabled:
        tls = {
            "tlsBootstrapServers": f"{settings.host}:{settings.kafka_external_tls_port}",
            "kafkaCaFile": str(settings.conf_dir / "tls" / "ca.pem"),
        }
    return {**public_outputs(local_stack_config(settings)), **tls}


def _exactly(binding: AclBinding) -> AclBindingFilter:
    """A filter that matches this one binding and nothing else (delete_acls takes filters)."""
    return AclBindingFilter(
        binding.restype,
        binding.name,
        binding.resource_pattern_type,
        binding.principal,
        binding.host,
        binding.operation,
        binding.permission_type,
    )


def _key(binding: AclBinding) -> tuple[str, ...]:
    return (
        binding.restype.name,
        binding.name,
        binding.resource_pattern_type.name,
        binding.principal,
        binding.host,
        binding.operation.name,
        binding.permission_type.name,
    )


class LocalDeployment:
    """The local stack on the local facility."""

    def __init__(self, facility: LocalFacility, config: StackConfig | None = None) -> None:
        self.facility = facility
        self.config = config or local_stack_config(facility.settings)
        self.users = kafka_users(self.config)
        run_dir = facility.settings.run_dir
        self.passwords_file = run_dir / "kafka-users.json"
        self.outputs_file = run_dir / "stack-outputs.json"

    def _admin(self) -> AdminClient:
        return AdminClient(local_kafka.admin_client_config(self.facility.settings, self.facility.credentials))

    def passwords(self) -> dict[str, str]:
        """Each user's password, generated at first deploy and kept (0600) in the run folder."""
        known: dict[str, str] = (
            json.loads(self.passwords_file.read_text()) if self.passwords_file.exists() else {}
        )
        wanted = {user.username: known.get(user.username) or secrets.token_urlsafe(24) for user in self.users}
        if wanted != known:
            _write_private(self.passwords_file, wanted)
        return wanted

    # -- Kafka ------------------------------------------------------------------------------
    def _topics(self, admin: AdminClient, report: DeployReport) -> None:
        existing = admin.list_topics(timeout=30).topics
        isr = replication(self.config).min_insync
        missing = [
            NewTopic(t.name, t.partitions, self.config.replication_factor, config=topic_config(t, isr))
            for t in self.config.topics
            if t.name not in existing
        ]
        for name, future in admin.create_topics(missing).items() if missing else []:
            future.result()
            report.created.append(f"topic {name}")
        for topic in self.config.topics:
            if topic.name not in existing:
                continue
            resource = ConfigResource("topic", topic.name)
            current = admin.describe_configs([resource])[resource].result()
            declared = topic_config(topic, isr)
            if (
                all(current[k].value == v for k, v in declared.items())
                and len(existing[topic.name].partitions) == topic.partitions
            ):
                report.unchanged += 1
                continue
            for k, v in declared.items():
                resource.set_config(k, v)
            admin.alter_configs([resource])[resource].result()
            report.updated.append(f"topic {topic.name}")

    def _users(self, admin: AdminClient, report: DeployReport) -> None:
        passwords = self.passwords()
        have = set(admin.describe_user_scram_credentials().result())
        upserts = [
            UserScramCredentialUpsertion(
                user.username,
                ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, SCRAM_ITERATIONS),
                passwords[user.username].encode(),
            )
            for user in self.users
            if user.username not in have
        ]
        for name, future in admin.alter_user_scram_credentials(upserts).items() if upserts else []:
            future.result()
            report.created.append(f"user {name}")
        report.unchanged += len(self.users) - len(upserts)

    def _acls(self, admin: AdminClient, users: list[KafkaUserSpec], report: DeployReport) -> None:
        wanted = {_key(b): b for b in (_binding(rule) for user in users for rule in user.acls)}
        existing: dict[tuple[str, ...], AclBinding] = {}
        for user in self.users:
            selector = AclBindingFilter(
                ResourceType.ANY,
                None,
                ResourcePatternType.ANY,
                f"User:{user.username}",
                None,
                AclOperation.ANY,
                AclPermissionType.ANY,
            )
            for binding in admin.describe_acls(selector).result():
                existing[_key(binding)] = binding
        missing = [b for k, b in wanted.items() if k not in existing]
        extra = [b for k, b in existing.items() if k not in wanted]
        if missing:
            for future in admin.create_acls(missing).values():
                future.result()
            report.created += [
                f"acl {b.principal} {b.operation.name} {b.restype.name}:{b.name}" for b in missing
            ]
        if extra:
            for future in admin.delete_acls([_exactly(b) for b in extra]).values():
                future.result()
            report.deleted += [
                f"acl {b.principal} {b.operation.name} {b.restype.name}:{b.name}" for b in extra
            ]
        report.unchanged += len(wanted) - len(missing)

    # -- registry and buckets ----------------------------------------------------------------
    def _registry(self) -> httpx.Client:
        creds = self.facility.credentials
        return httpx.Client(
            base_url=registry.registry_url(self.facility.settings),
            auth=(REGISTRY_ADMIN_USER, creds.registry_admin_password.get_secret_value()),
            timeout=30,
        )

    def _schemas(self, report: DeployReport) -> None:
        with self._registry() as http:
            result = sync_schemas(http)
        report.created += [f"schema {i}" for i in result.registered]
        report.unchanged += len(result.unchanged)

    def _buckets(self, report: DeployReport) -> None:
        created = objectstore.ensure_buckets(
            self.facility.settings, self.facility.credentials, ARCHIVE_BUCKET
        )
        report.created += created
        report.unchanged += 2 - len(created)

    # -- the whole stack ---------------------------------------------------------------------
    def up(self) -> DeployReport:
        report = DeployReport()
        admin = self._admin()
        self._topics(admin, report)
        self._users(admin, report)
        self._acls(admin, self.users, report)
        self._schemas(report)
        self._buckets(report)
        self.write_outputs()
        return report

    def outputs(self) -> dict[str, Any]:
        """The stack outputs, as `pulumi stack output --json --show-secrets` would print them."""
        passwords = self.passwords()
        return {
            **declared_outputs(self.facility.settings),
            **public_outputs(self.config),
            "passwords": {user.username: passwords[user.username] for user in self.users},
            "registryReader": {
                "username": REGISTRY_READER_USER,
                "password": self.facility.credentials.registry_reader_password.get_secret_value(),
            },
        }

    def write_outputs(self) -> Path:
        _write_private(self.outputs_file, self.outputs())
        return self.outputs_file

    def destroy(self) -> DeployReport:
        report = DeployReport()
        admin = self._admin()
        self._acls(admin, [], report)
        # Users are retired (a password nobody knows), not deleted: on Kafka 4.3.1 a combined
        # KRaft node that replays a RemoveUserScramCredentialRecord at restart rejects the admin.
        retirements = [
            UserScramCredentialUpsertion(
                user.username,
                ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, SCRAM_ITERATIONS),
                secrets.token_bytes(32),
            )
            for user in self.users
        ]
        for name, future in admin.alter_user_scram_credentials(retirements).items():
            future.result()
            report.deleted.append(f"user {name} (retired)")
        self.passwords_file.unlink(missing_ok=True)
        existing = admin.list_topics(timeout=30).topics
        doomed = [t.name for t in self.config.topics if t.name in existing]
        for name, future in admin.delete_topics(doomed).items() if doomed else []:
            future.result()
            report.deleted.append(f"topic {name}")
        with self._registry() as http:
            if delete_subject(http, ALERT_SUBJECT):
                report.deleted.append(f"subject {ALERT_SUBJECT}")
        self.outputs_file.unlink(missing_ok=True)
        return report
