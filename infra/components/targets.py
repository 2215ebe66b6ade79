"""Where topics and users are declared: Strimzi CRs at a facility, or a Kafka directly (local)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi


@dataclass(frozen=True)
class StrimziTarget:
    """Declare KafkaTopic / KafkaUser CRs for one Strimzi cluster, reconciled by its operators."""

    depends_on: list[pulumi.Resource]  # the Kafka CR, when the stack runs the cluster
    namespace: str
    cluster: str
    api_version: str


@dataclass(frozen=True)
class DirectKafkaTarget:
    """Manage topics, SCRAM credentials and ACLs on a running Kafka with its admin login
    (infra.providers.kafka_admin)."""

    bootstrap: str
    admin_user: str
    admin_password: pulumi.Output[str]

    def login(self) -> dict[str, Any]:
        """The connection every resource on this Kafka carries (the password stays secret)."""
        return {
            "bootstrap": self.bootstrap,
            "adminUser": self.admin_user,
            "adminPassword": pulumi.Output.secret(self.admin_password),
        }


KafkaTarget = StrimziTarget | DirectKafkaTarget
