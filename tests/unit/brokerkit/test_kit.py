"""A broker's kit holds that broker's settings and nothing of the others'."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from alertdist_common.outputs import StackOutputs
from brokerkit.cli import kit_main
from brokerkit.kit import (
    JAVA_FILE,
    KIT_FILE,
    LIBRDKAFKA_FILE,
    PASSWORD_FILE,
    broker_user,
    java_properties,
    kit_for,
    read_kit,
    read_librdkafka_properties,
    write_kit,
)

BROKERS = ("alerce", "fink", "lasair")


def outputs(tmp_path: Path, tls: bool = True, topics: dict[str, object] | None = None) -> StackOutputs:
    ca = tmp_path / "ca-source.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    users = {f"{broker}-usdf": "community-broker" for broker in BROKERS} | {"alert-producer": "producer"}
    return StackOutputs.model_validate(
        {
            "facility": "usdf",
            "bootstrapServers": "usdf-alert-stream.lsst.cloud:9094",
            "securityProtocol": "SASL_PLAINTEXT",
            "saslMechanism": "SCRAM-SHA-512",
            "tlsBootstrapServers": "usdf-alert-stream.lsst.cloud:9095" if tls else None,
            "kafkaCaFile": str(ca) if tls else None,
            "registryUrl": "https://usdf-rsp.slac.stanford.edu/schema-registry",
            "archiveUrl": "https://usdf-rsp.slac.stanford.edu/alert-archive",
            "alertTopics": ["lsst-alerts-v11"],
            "topics": topics or {},
            "users": users,
            "passwords": {user: f"secret-of-{user}" for user in users},
            "clientFloor": {"librdkafka": "2.6.1", "javaClient": "2.1"},
        }
    )


def test_a_broker_is_named_by_its_name_or_its_username(tmp_path: Path) -> None:
    stack = outputs(tmp_path)
    assert broker_user(stack, "fink") == broker_user(stack, "fink-usdf") == "fink-usdf"
    with pytest.raises(KeyError, match="alerce, fink, lasair"):
        broker_user(stack, "nobody")
    with pytest.raises(KeyError):
        broker_user(stack, "alert-producer")  # a service user is no broker


def test_the_kit_holds_one_brokers_settings_and_no_other_secret(tmp_path: Path) -> None:
    stack = outputs(tmp_path)
    folder = tmp_path / "kit"
    kit = write_kit(stack, "fink", folder)
    assert kit.username == kit.group_prefix == "fink-usdf"
    assert kit.alert_topics == ["lsst-alerts-v11"]
    assert kit.client_floor.librdkafka == "2.6.1"
    everything = "".join(path.read_text() for path in folder.iterdir())
    assert "secret-of-fink-usdf" in everything
    for other in ("alerce-usdf", "lasair-usdf", "alert-producer"):
        assert f"secret-of-{other}" not in everything
    assert "secret-of" not in (folder / KIT_FILE).read_text()
    for private in (PASSWORD_FILE, LIBRDKAFKA_FILE, JAVA_FILE):
        assert stat.S_IMODE((folder / private).stat().st_mode) == 0o600, private
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert read_kit(folder) == (kit, "secret-of-fink-usdf")
    assert (folder / "ca.pem").read_text() == Path(stack.kafka_ca_file or "").read_text()


def test_the_librdkafka_file_reads_back_as_the_client_settings(tmp_path: Path) -> None:
    folder = tmp_path / "kit"
    write_kit(outputs(tmp_path), "lasair", folder)
    assert read_librdkafka_properties(folder / LIBRDKAFKA_FILE) == {
        "bootstrap.servers": "usdf-alert-stream.lsst.cloud:9094",
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "lasair-usdf",
        "sasl.password": "secret-of-lasair-usdf",
        "group.id": "lasair-usdf",
        "enable.auto.commit": "false",
        "auto.offset.reset": "earliest",
    }


def test_java_settings_escape_what_java_properties_would_misread(tmp_path: Path) -> None:
    kit = kit_for(outputs(tmp_path), "fink")
    text = java_properties(kit, 'pa"ss\\wo=rd')
    jaas = next(line for line in text.splitlines() if line.startswith("sasl.jaas.config="))
    # Properties turns \\ into \ and \= into =; JAAS then reads \" as " and \\ as \.
    assert jaas.endswith('password\\="pa\\\\"ss\\\\\\\\wo\\=rd";')
    assert "bootstrap.servers=usdf-alert-stream.lsst.cloud\\:9094" in text.splitlines()


def test_a_line_break_in_a_value_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="line break"):
        java_properties(kit_for(outputs(tmp_path), "fink"), "two\nlines")


def test_no_tls_listener_means_no_ca_in_the_kit(tmp_path: Path) -> None:
    folder = tmp_path / "kit"
    kit = write_kit(outputs(tmp_path, tls=False), "fink", folder)
    assert kit.ca_file is None
    assert not (folder / "ca.pem").exists()


def test_the_command_writes_a_kit_for_every_broker(tmp_path: Path) -> None:
    saved = tmp_path / "outputs.json"
    saved.write_text(
        json.dumps(
            outputs(tmp_path).model_dump(by_alias=True, mode="json")
            | {"passwords": {user: f"secret-of-{user}" for user in outputs(tmp_path).users}}
        )
    )
    assert kit_main(["--stack-outputs", str(saved), "--all", "--out", str(tmp_path / "kits")]) == 0
    assert sorted(path.name for path in (tmp_path / "kits").iterdir()) == list(BROKERS)
    assert read_kit(tmp_path / "kits" / "alerce")[1] == "secret-of-alerce-usdf"
    assert kit_main(["--stack-outputs", str(saved), "--broker", "nobody", "--out", str(tmp_path / "x")]) == 2


def test_the_kit_names_the_canary_topic_where_the_stack_has_one(tmp_path: Path) -> None:
    """A broker may read the post-deploy canaries' topic, and its rules say those are no survey alerts."""
    without = kit_for(outputs(tmp_path), "fink")
    assert without.canary_topic is None
    assert "canar" not in without.rules()[0]
    topic = {
        "role": "canary",
        "partitions": 1,
        "replicationFactor": 3,
        "minInsyncReplicas": 2,
        "retentionMs": 1,
        "retentionBytes": 1,
        "maxMessageBytes": 1,
        "timestampType": "LogAppendTime",
    }
    kit = kit_for(outputs(tmp_path, topics={"alerts-canary": topic}), "fink")
    assert kit.canary_topic == "alerts-canary"
    assert "alerts-canary" in kit.rules()[0]
    assert "not survey alerts" in kit.rules()[0]
