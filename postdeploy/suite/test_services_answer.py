"""Every service answers: Kafka on each advertised listener, the registry, the archive server."""

from __future__ import annotations

from typing import Any

import confluent_kafka

from alertdist_common.clients import MIN_LIBRDKAFKA, ErrorLog, librdkafka_supported
from alertdist_common.outputs import StackOutputs

from .clients import Listener, admin, archive, registry


def test_kafka_answers_on_every_advertised_listener(
    outputs: StackOutputs, listener: Listener, host: Any
) -> None:
    for address, port in listener.addresses():
        assert host.addr(address).port(port).is_reachable, f"bootstrap {address}:{port} refuses connections"
    user = outputs.users_with_role("community-broker")[0]
    errors = ErrorLog()
    metadata = admin(outputs, user, listener=listener, errors=errors).list_topics(timeout=30)
    assert set(outputs.alert_topics) <= set(metadata.topics), f"alert topics missing; errors: {errors.errors}"
    assert metadata.brokers, "no broker advertised"
    for broker in metadata.brokers.values():
        assert host.addr(broker.host).port(broker.port).is_reachable, (
            f"broker {broker.id} advertises {broker.host}:{broker.port}, which refuses connections"
        )


def test_registry_answers(outputs: StackOutputs) -> None:
    with registry(outputs) as http:
        response = http.get("/schemas/types")
    assert response.status_code == 200, response.text
    assert "AVRO" in response.json()


def test_archive_server_answers(outputs: StackOutputs) -> None:
    with archive(outputs) as http:
        response = http.get("/v1/health")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ok"


def test_the_suite_s_kafka_client_meets_the_facility_s_floor(outputs: StackOutputs) -> None:
    """A client below the floor has its SCRAM login refused, which would read as a wrong password."""
    version, _ = confluent_kafka.libversion()
    assert outputs.client_floor.librdkafka == MIN_LIBRDKAFKA
    assert librdkafka_supported(version), (
        f"librdkafka {version} is older than {MIN_LIBRDKAFKA}, the oldest the facility's Kafka accepts"
    )
