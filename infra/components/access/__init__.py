"""Kafka users: SCRAM-SHA-512 per community broker and per service, with least-privilege ACLs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import pulumi

from infra.tables import KafkaUserSpec

if TYPE_CHECKING:  # the targets build on this package's manifests
    from infra.components.targets import KafkaTarget


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
            target.declare_user(user, self.passwords.get(user.username), self)
        self.register_outputs({"usernames": [user.username for user in users]})
