"""Kafka users: SCRAM-SHA-512 per community broker and per service, with least-privilege ACLs."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi

from infra.components.access.manifests import kafka_user
from infra.components.kubernetes import apply_manifest, secret
from infra.components.targets import DirectKafkaTarget, KafkaTarget, StrimziTarget
from infra.naming import PASSWORD_KEY, password_secret_name
from infra.providers.kafka_admin import ScramUser, UserAcls, acl_entry
from infra.tables import KafkaUserSpec


class KafkaAccess(pulumi.ComponentResource):
    """Users and ACLs from the user table. `passwords` holds one secret per SCRAM user (the
    registry's mTLS user has none); they stay secret."""

    def __init__(
        self,
        name: str,
        users: list[KafkaUserSpec],
        passwords: Mapping[str, pulumi.Output[str]],
        target: KafkaTarget,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("alertdist:auth:KafkaAccess", name, None, opts)
        self.passwords = dict(passwords)
        for user in users:
            if isinstance(target, StrimziTarget):
                self._strimzi_user(user, target)
            else:
                self._direct_user(user, target)
        self.register_outputs({"usernames": [user.username for user in users]})

    def _strimzi_user(self, user: KafkaUserSpec, target: StrimziTarget) -> None:
        depends: list[pulumi.Resource] = list(target.depends_on)
        if user.username in self.passwords:
            depends.append(
                secret(
                    password_secret_name(user.username),
                    target.namespace,
                    {PASSWORD_KEY: self.passwords[user.username]},
                    pulumi.ResourceOptions(parent=self, depends_on=target.depends_on),
                )
            )
        apply_manifest(
            kafka_user(user, target.namespace, target.cluster, target.api_version),
            pulumi.ResourceOptions(parent=self, depends_on=depends),
        )

    def _direct_user(self, user: KafkaUserSpec, target: DirectKafkaTarget) -> None:
        login = target.login()
        if user.username in self.passwords:
            ScramUser(
                f"scram-{user.username}",
                {**login, "username": user.username, "password": self.passwords[user.username]},
                pulumi.ResourceOptions(parent=self),
            )
        UserAcls(
            f"acls-{user.username}",
            {**login, "principal": f"User:{user.username}", "acls": [acl_entry(rule) for rule in user.acls]},
            pulumi.ResourceOptions(parent=self),
        )
