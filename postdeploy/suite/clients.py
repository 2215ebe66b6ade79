"""Clients of a deployed facility, built from its stack outputs alone."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from confluent_kafka import Consumer, KafkaError, KafkaException
from confluent_kafka.admin import AdminClient

from alertdist_common.clients import bootstrap_addresses
from alertdist_common.outputs import StackOutputs
from services.common import logs

QUIET = logs.silent("postdeploy.kafka")


@dataclass(frozen=True)
class Listener:
    """One way into Kafka: a bootstrap address and its security protocol."""

    name: str
    bootstrap: str
    security_protocol: str
    ca_file: str | None = None

    def addresses(self) -> list[tuple[str, int]]:
        return bootstrap_addresses(self.bootstrap)


def listeners(outputs: StackOutputs) -> list[Listener]:
    found = [Listener("external", outputs.bootstrap_servers, outputs.security_protocol)]
    if outputs.tls_bootstrap_servers:
        found.append(
            Listener("external-tls", outputs.tls_bootstrap_servers, "SASL_SSL", outputs.kafka_ca_file)
        )
    return found


def kafka_config(
    outputs: StackOutputs,
    user: str,
    password: str | None = None,
    listener: Listener | None = None,
    errors: Callable[[KafkaError], None] | None = None,
) -> dict[str, Any]:
    way_in = listener or listeners(outputs)[0]
    config: dict[str, Any] = {
        "bootstrap.servers": way_in.bootstrap,
        "security.protocol": way_in.security_protocol,
        "sasl.mechanism": outputs.sasl_mechanism,
        "sasl.username": user,
        "sasl.password": outputs.password(user) if password is None else password,
        "logger": QUIET,
    }
    if way_in.ca_file:
        config["ssl.ca.location"] = way_in.ca_file
    if errors is not None:
        config["error_cb"] = errors
    return config


def admin(outputs: StackOutputs, user: str, **kwargs: Any) -> AdminClient:
    return AdminClient(kafka_config(outputs, user, **kwargs))


def consumer(outputs: StackOutputs, user: str, group: str, **settings: Any) -> Consumer:
    return Consumer(
        {
            **kafka_config(outputs, user),
            "group.id": group,
            "enable.auto.commit": False,
            "auto.offset.reset": "latest",
            **settings,
        }
    )


def delete_group(outputs: StackOutputs, user: str, group: str) -> str | None:
    """Delete a consumer group as its owner; the reason if it is left behind (a group that was
    never created is no residue)."""
    client = admin(outputs, user)
    for future in client.delete_consumer_groups([group], request_timeout=30).values():
        try:
            future.result()
        except KafkaException as exc:
            if kafka_error_code(exc) != KafkaError.GROUP_ID_NOT_FOUND:
                return str(exc.args[0])
    return None


def kafka_error_code(error: BaseException) -> int | None:
    if isinstance(error, KafkaException) and error.args and isinstance(error.args[0], KafkaError):
        return int(error.args[0].code())
    return None


def registry(outputs: StackOutputs) -> httpx.Client:
    """An HTTP client of the registry as brokers read it: its public routes, no login."""
    return httpx.Client(base_url=outputs.registry_url, timeout=15)


def registry_client_conf(outputs: StackOutputs) -> dict[str, str]:
    """The same, for confluent-kafka's SchemaRegistryClient (what the brokers use)."""
    return {"url": outputs.registry_url}


def archive(outputs: StackOutputs) -> httpx.Client:
    return httpx.Client(base_url=outputs.archive_url, timeout=15)
