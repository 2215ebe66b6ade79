"""Kafka users: SCRAM-SHA-512 per community broker and per service, with least-privilege ACLs."""

from __future__ import annotations

import pulumi
import pulumi_kafka as kafka

from infra import manifests
from infra.components.resources import apply_manifest, secret
from infra.components.targets import DirectKafkaTarget, KafkaTarget, StrimziTarget
from infra.config import StackConfig
from infra.secrets import StackSecrets
from infra.tables import KafkaUserSpec, UserRole


class KafkaAccess(pulumi.ComponentResource):
    """Users and ACLs from the user table; passwords come from stack secrets and stay secret."""

    def __init__(
        self,
        name: str,
        config: StackConfig,
        users: list[KafkaUserSpec],
        secrets: StackSecrets,
        target: KafkaTarget,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("alertdist:auth:KafkaAccess", name, None, opts)
        self.passwords: dict[str, pulumi.Output[str]] = {}
        for user in users:
            if user.role is not UserRole.SCHEMA_REGISTRY:
                self.passwords[user.username] = secrets.kafka_password(user.username)
            if isinstance(target, StrimziTarget):
                self._strimzi_user(config, user, target)
            else:
                self._direct_user(user, target)
        self.register_outputs({"usernames": [user.username for user in users]})

    def _strimzi_user(self, config: StackConfig, user: KafkaUserSpec, target: StrimziTarget) -> None:
        depends: list[pulumi.Resource] = [target.depends_on]
        if user.username in self.passwords:
            depends.append(
                secret(
                    manifests.password_secret_name(user.username),
                    config.namespace,
                    {manifests.PASSWORD_KEY: self.passwords[user.username]},
                    pulumi.ResourceOptions(parent=self, depends_on=[target.depends_on]),
                )
            )
        apply_manifest(
            manifests.kafka_user(config, user), pulumi.ResourceOptions(parent=self, depends_on=depends)
        )

    def _direct_user(self, user: KafkaUserSpec, target: DirectKafkaTarget) -> None:
        opts = pulumi.ResourceOptions(parent=self, provider=target.provider)
        credential = kafka.UserScramCredential(
            f"scram-{user.username}",
            username=user.username,
            scram_mechanism="SCRAM-SHA-512",
            scram_iterations=4096,
            password=self.passwords[user.username],
            opts=opts,
        )
        for rule in user.acls:
            kafka.Acl(
                f"acl-{user.username}-{rule.resource_type.value}-{rule.resource_name}-{rule.operation.value}".lower(),
                acl_principal=rule.principal,
                acl_host=rule.host,
                acl_operation=rule.operation.value,
                acl_permission_type="Allow",
                acl_resource_type=rule.resource_type.value,
                acl_resource_name=rule.resource_name,
                resource_pattern_type_filter=rule.pattern.value,
                opts=pulumi.ResourceOptions(parent=self, provider=target.provider, depends_on=[credential]),
            )
