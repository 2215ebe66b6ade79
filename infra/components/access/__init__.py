"""Kafka users: SCRAM-SHA-512 per community broker and per service, with least-privilege ACLs."""

from __future__ import annotations

import base64
from collections.abc import Mapping

import pulumi
import pulumi_kubernetes as k8s

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


def owner_passwords(
    namespace: str, secret_name: str, key_format: str, usernames: list[str]
) -> dict[str, pulumi.Output[str]]:
    """The passwords of users another owner declares, read from that owner's Secret (a `get`: the
    stack never changes or deletes it). A key that is missing fails `up`; a preview without a
    cluster (the provider's render mode) reads no data and goes on."""
    found = k8s.core.v1.Secret.get(f"owner-passwords-{secret_name}", f"{namespace}/{secret_name}")

    def pick(data: Mapping[str, str] | None, username: str) -> str:
        key = key_format.format(username=username)
        if data and key in data:
            return base64.b64decode(data[key]).decode()
        if pulumi.runtime.is_dry_run():
            return ""
        raise KeyError(f"Secret {namespace}/{secret_name} has no key {key!r} for Kafka user {username!r}")

    def password(username: str) -> pulumi.Output[str]:
        return pulumi.Output.secret(found.data.apply(lambda data: pick(data, username)))

    return {username: password(username) for username in usernames}
