"""Where topics and users are declared: Strimzi CRs at a facility, or a Kafka directly (local)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kafka as kafka


@dataclass(frozen=True)
class StrimziTarget:
    """Declare KafkaTopic / KafkaUser CRs, reconciled by Strimzi's operators."""

    depends_on: pulumi.Resource


@dataclass(frozen=True)
class DirectKafkaTarget:
    """Manage topics, SCRAM credentials and ACLs on a running Kafka through pulumi-kafka."""

    provider: kafka.Provider


KafkaTarget = StrimziTarget | DirectKafkaTarget
