"""Kafka clients: the oldest the facilities' Kafka 4.x accepts (what brokers must run), and what
every client here shares (bootstrap addresses, the errors librdkafka reports out of band).

- librdkafka (confluent-kafka for Python, Go and .NET, and others) before 2.6.1 has its SCRAM
  logins refused by Kafka 4.x: measured against the local Kafka 4.3.1, confluent-kafka 2.3.0 to
  2.5.3 are refused for every broker user and 2.6.1 and later log in (librdkafka issue 4895).
- Java clients before 2.1 speak only request versions Kafka 4.0 removed (KIP-896; Kafka 4.0
  upgrade notes: clients must be 2.1 or newer).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from confluent_kafka import KafkaError

MIN_LIBRDKAFKA = "2.6.1"
MIN_JAVA_CLIENT = "2.1"


def version_tuple(version: str) -> tuple[int, ...]:
    """`2.6.1` -> (2, 6, 1); suffixes such as `rc1` are ignored."""
    parts = []
    for part in version.split("."):
        digits = re.match(r"\d+", part)
        if digits is None:
            break
        parts.append(int(digits.group()))
    return tuple(parts)


def librdkafka_supported(version: str) -> bool:
    return version_tuple(version) >= version_tuple(MIN_LIBRDKAFKA)


@dataclass
class ErrorLog:
    """Errors librdkafka reports out of band, when the client is polled (a refused login
    arrives here only)."""

    errors: list[KafkaError] = field(default_factory=list)

    def __call__(self, error: KafkaError) -> None:
        self.errors.append(error)

    def codes(self) -> set[int]:
        return {error.code() for error in self.errors}


def bootstrap_addresses(servers: str) -> list[tuple[str, int]]:
    """`host:port,host:port` as (host, port) pairs."""
    pairs = (server.strip().rsplit(":", 1) for server in servers.split(","))
    return [(host.strip("[]"), int(port)) for host, port in pairs]
