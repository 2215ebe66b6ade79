"""Each community broker identity: in where it belongs, refused everywhere else."""

from __future__ import annotations

import time

import pytest
from confluent_kafka import OFFSET_END, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import (
    AclBinding,
    AclOperation,
    AclPermissionType,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewPartitions,
    ResourcePatternType,
    ResourceType,
)

from alertdist_common.clients import ErrorLog
from alertdist_common.outputs import StackOutputs
from services.producer.alerts import AlertFactory

from .canary import first_canary_id
from .clients import admin, consumer, delete_group, kafka_config, kafka_error_code


def _first_consumer_error(outputs: StackOutputs, user: str, group: str, topic: str) -> int | None:
    """Subscribe and consume briefly; the first error librdkafka reports, or None if it reads."""
    client = consumer(outputs, user, group, **{"auto.offset.reset": "earliest"})
    try:
        client.subscribe([topic])
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            for message in client.consume(10, timeout=1.0):
                if message.error() is None:
                    return None
                if message.error().code() != KafkaError._PARTITION_EOF:
                    return int(message.error().code())
        return None
    finally:
        client.close()
        delete_group(outputs, user, group)


def readable(outputs: StackOutputs) -> list[str]:
    """What every broker may read: the alert topics and the canary topic."""
    return [*outputs.alert_topics, *outputs.topics_with_role("canary")]


def test_broker_authenticates_and_lists_the_alert_topics(outputs: StackOutputs, broker_user: str) -> None:
    metadata = admin(outputs, broker_user).list_topics(timeout=30)
    for topic in readable(outputs):
        assert topic in metadata.topics, f"{broker_user} does not see {topic}"
        assert metadata.topics[topic].error is None, metadata.topics[topic].error


def test_broker_fetches_from_every_alert_topic(outputs: StackOutputs, broker_user: str, run_id: str) -> None:
    """The production topics are proven readable without writing to them (the canaries travel the
    canary topic): a fetch at every partition's end, assigned, so no group is made or committed."""
    for topic in outputs.alert_topics:
        client = consumer(
            outputs, broker_user, f"{broker_user}-postdeploy-{run_id}-fetch", **{"enable.partition.eof": True}
        )
        try:
            pending = set(range(outputs.topics[topic].partitions))
            client.assign([TopicPartition(topic, partition, OFFSET_END) for partition in pending])
            deadline = time.monotonic() + 30
            while pending and time.monotonic() < deadline:
                for message in client.consume(100, timeout=1.0):
                    error = message.error()
                    if error is not None and error.code() != KafkaError._PARTITION_EOF:
                        pytest.fail(f"{broker_user} fetching {topic}: {error}")
                    pending.discard(message.partition())
            assert not pending, f"{broker_user}: no fetch answered for {topic} partitions {sorted(pending)}"
        finally:
            client.close()


def test_broker_wrong_password_is_refused(outputs: StackOutputs, broker_user: str) -> None:
    errors = ErrorLog()
    client = admin(outputs, broker_user, password="postdeploy-wrong-password", errors=errors)
    deadline = time.monotonic() + 20
    while KafkaError._AUTHENTICATION not in errors.codes() and time.monotonic() < deadline:
        client.poll(0.5)  # serves error_cb, where the SASL failure is reported
    assert KafkaError._AUTHENTICATION in errors.codes(), errors.errors


def test_broker_cannot_produce(outputs: StackOutputs, broker_user: str, factory: AlertFactory) -> None:
    failures: list[KafkaError] = []
    producer = Producer({**kafka_config(outputs, broker_user), "message.timeout.ms": 20000})
    # A canary-range alert: harmless and recognisable should the broker ever be allowed to write.
    producer.produce(
        outputs.alert_topics[0],
        factory.encoded(first_canary_id()),
        on_delivery=lambda error, _msg: failures.append(error),
    )
    assert producer.flush(30) == 0
    assert [f.code() if f else None for f in failures] == [KafkaError.TOPIC_AUTHORIZATION_FAILED]


def test_broker_cannot_read_topics_it_was_not_granted(
    outputs: StackOutputs, broker_user: str, run_id: str
) -> None:
    others = [t for t in outputs.topics if t not in readable(outputs)]
    if not others:
        pytest.skip("the stack declares no topic besides the brokers' own")
    for topic in others:
        code = _first_consumer_error(outputs, broker_user, f"{broker_user}-postdeploy-{run_id}-probe", topic)
        assert code == KafkaError.TOPIC_AUTHORIZATION_FAILED, f"{broker_user} reading {topic}: {code}"


def test_broker_cannot_join_another_brokers_group(
    outputs: StackOutputs, broker_user: str, run_id: str
) -> None:
    other = next(user for user in outputs.users_with_role("community-broker") if user != broker_user)
    group = f"{other}-postdeploy-{run_id}-intruder"
    code = _first_consumer_error(outputs, broker_user, group, outputs.alert_topics[0])
    assert code == KafkaError.GROUP_AUTHORIZATION_FAILED, f"{broker_user} in {other}'s group: {code}"


def test_broker_cannot_alter_acls_or_topics(outputs: StackOutputs, broker_user: str) -> None:
    """Probed without harm: a DENY ACL for nobody, validate-only changes, a topic that does not
    exist (Kafka answers "not authorised" before "unknown" to those without the right)."""
    client = admin(outputs, broker_user)
    topic = outputs.alert_topics[0]
    probe_acl = AclBinding(
        ResourceType.TOPIC,
        "postdeploy-nothing",
        ResourcePatternType.LITERAL,
        "User:postdeploy-nobody",
        "*",
        AclOperation.READ,
        AclPermissionType.DENY,
    )
    attempts = {
        "create an ACL": (client.create_acls([probe_acl]), KafkaError.CLUSTER_AUTHORIZATION_FAILED),
        "delete a topic": (
            client.delete_topics([f"{topic}-postdeploy-absent"], operation_timeout=20),
            KafkaError.TOPIC_AUTHORIZATION_FAILED,
        ),
        "add partitions": (
            client.create_partitions(
                [NewPartitions(topic, outputs.topics[topic].partitions + 1)], validate_only=True
            ),
            KafkaError.TOPIC_AUTHORIZATION_FAILED,
        ),
        "change a topic's retention": (
            client.incremental_alter_configs(
                [
                    ConfigResource(
                        ResourceType.TOPIC,
                        topic,
                        incremental_configs=[
                            ConfigEntry("retention.ms", "1", incremental_operation=AlterConfigOpType.SET)
                        ],
                    )
                ],
                validate_only=True,
            ),
            KafkaError.TOPIC_AUTHORIZATION_FAILED,
        ),
    }
    allowed = []
    for what, (futures, expected) in attempts.items():
        for future in futures.values():
            try:
                future.result(timeout=30)
                allowed.append(what)
            except KafkaException as exc:
                if kafka_error_code(exc) != expected:
                    allowed.append(f"{what} (answered {exc.args[0]})")
    assert not allowed, f"{broker_user} was not refused: {allowed}"
