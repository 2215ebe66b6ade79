"""Broker onboarding on the real local facility: a kit for every broker, the connection test
passing from each kit, and each way it can fail caught with its own message."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import (
    AclOperation,
    ResourceType,
)

from alertdist_common.outputs import StackOutputs
from brokerkit.cli import connection_test_main, kit_main
from brokerkit.connection import ConnectionTest, Step, Target
from brokerkit.kit import JAVA_FILE, read_kit
from localfacility.deploy import LocalDeployment
from localfacility.facility import LocalFacility
from localfacility.kafka import admin_client_config, java_argv
from localfacility.services import ArchiveServices
from services.producer.producer import AlertProducer

from .kafka_helpers import QUIET, admin, allow, delete_groups, granted, topic_of_its_own
from .test_archive import FACTORY
from .test_faults import service

BROKER = "fink"


@pytest.fixture(scope="module")
def kits(facility: LocalFacility, local_stack: dict[str, Any]) -> Iterator[Path]:
    """A kit for every broker, written by the command from the local stack's saved outputs, in the
    run folder (kits hold passwords: never in /tmp), removed afterwards; fresh alerts on every
    alert topic, so the newest are the test's own."""
    root = facility.settings.run_dir / "test-kits"
    outputs_file = LocalDeployment(facility).outputs_file
    assert kit_main(["--stack-outputs", str(outputs_file), "--all", "--out", str(root)]) == 0
    outputs = StackOutputs.model_validate(local_stack)
    for topic in outputs.alert_topics:
        AlertProducer(outputs.kafka_settings("alert-producer"), topic, FACTORY).produce_visit(
            0, time.time_ns() // 1000, 20
        )
    yield root
    shutil.rmtree(root)


def run(kit: Path, **overrides: Any) -> dict[str, Step]:
    target = Target.from_kit(kit, **overrides)
    return {step.name: step for step in ConnectionTest(target, count=10, timeout=30, archive_wait=30).run()}


def failed(steps: dict[str, Step]) -> list[str]:
    return [name for name, step in steps.items() if step.status == "FAIL"]


def groups_of(facility: LocalFacility, prefix: str) -> list[str]:
    listed = admin(facility).list_consumer_groups(request_timeout=30).result()
    return sorted(group.group_id for group in listed.valid if group.group_id.startswith(prefix))


def test_a_kit_for_every_broker_holds_only_its_own_login(kits: Path, local_stack: dict[str, Any]) -> None:
    outputs = StackOutputs.model_validate(local_stack)
    brokers = outputs.users_with_role("community-broker")
    assert sorted(f"{folder.name}-local" for folder in kits.iterdir()) == brokers
    for folder in kits.iterdir():
        kit, password = read_kit(folder)
        assert password == outputs.password(kit.username)
        text = "".join(path.read_text() for path in folder.iterdir())
        others = [user for user in outputs.passwords if user != kit.username]
        assert not [user for user in others if outputs.password(user) in text], folder.name


def test_the_connection_test_passes_for_every_broker_and_leaves_no_group(
    kits: Path, facility: LocalFacility, capsys: pytest.CaptureFixture[str]
) -> None:
    for folder in sorted(kits.iterdir()):
        assert connection_test_main(["--kit", str(folder), "--json"]) == 0, capsys.readouterr().out
        result = json.loads(capsys.readouterr().out)
        names = [step["name"] for step in result["steps"]]
        assert names == [
            "address", "tls", "login", "topics", "group", "read", "registry", "decode", "archive", "cleanup"
        ]  # fmt: skip
        assert result["passed"] is True
        assert "equals the stream's bytes" in result["steps"][8]["detail"]
    assert groups_of(facility, "") == [g for g in groups_of(facility, "") if "connection-test" not in g]


def test_the_java_settings_log_in_and_read_with_kafkas_own_consumer(
    kits: Path, facility: LocalFacility
) -> None:
    """Kafka's console consumer (Java client 4.3.1) reads one alert with the kit's java.properties,
    its group.id alone changed (the tool refuses a second group id) so the test's group is its own."""
    group = f"{BROKER}-local-java-{uuid.uuid4().hex[:6]}"
    settings = kits / f"own-group-{JAVA_FILE}"  # beside the kits: it holds the password
    settings.write_text((kits / BROKER / JAVA_FILE).read_text().replace(f"group.id={BROKER}-local\n", ""))
    argv = java_argv(
        facility.settings,
        "org.apache.kafka.tools.consumer.ConsoleConsumer",
        "--bootstrap-server",
        read_kit(kits / BROKER)[0].bootstrap_servers,
        "--command-config",
        str(settings),
        "--topic",
        "alerts-simulated",
        "--group",
        group,
        "--from-beginning",
        "--max-messages",
        "1",
        "--timeout-ms",
        "60000",
    )
    try:
        done = subprocess.run(argv, capture_output=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr.decode()[-2000:]
        assert "Processed a total of 1 messages" in done.stderr.decode()
    finally:
        delete_groups(facility, [group])


def test_a_wrong_password_is_told_from_an_old_client(kits: Path) -> None:
    steps = run(kits / BROKER, password="not-the-password")
    assert failed(steps) == ["login"]
    assert "wrong username or password" in steps["login"].detail
    assert "librdkafka 2." in steps["login"].detail
    assert steps["read"].status == "NOT RUN"


def test_a_group_without_the_prefix_is_refused_with_the_rule(kits: Path, facility: LocalFacility) -> None:
    steps = run(kits / BROKER, group="night-readers")
    assert failed(steps) == ["group"]
    assert "must start with your username fink-local" in steps["group"].detail
    assert "fink-local-<anything>" in (steps["group"].fix or "")
    assert "cleanup" not in steps  # the refused group never existed
    assert groups_of(facility, "night-readers") == []


def test_a_topic_the_broker_may_not_read_is_named(kits: Path) -> None:
    steps = run(kits / BROKER, topics=["alert-archive-dead-letter"])
    assert failed(steps) == ["topics"]
    assert "may not read topic alert-archive-dead-letter" in steps["topics"].detail
    assert "alerts-simulated, lsst-alerts-v11" in (steps["topics"].fix or "")


@pytest.fixture
def bad_topic(facility: LocalFacility) -> Iterator[str]:
    """A topic of the test's own that fink may read, holding one message that is not an alert."""
    topic = f"connection-test-bad-{uuid.uuid4().hex[:6]}"
    grants = allow(f"{BROKER}-local", ResourceType.TOPIC, topic, AclOperation.READ, AclOperation.DESCRIBE)
    with topic_of_its_own(facility, topic), granted(facility, grants):
        producer = Producer({**admin_client_config(facility.settings, facility.credentials), "logger": QUIET})
        producer.produce(topic, b"\x00\x00\x00\x04\x4dnot an alert")  # framed as schema 1101
        assert producer.flush(30) == 0
        yield topic


def test_a_message_that_is_not_an_alert_is_located(kits: Path, bad_topic: str) -> None:
    steps = run(kits / BROKER, topics=[bad_topic])
    assert failed(steps) == ["decode"]
    assert f"the message at {bad_topic}[0]@0 is not an LSST alert" in steps["decode"].detail
    assert "skip it" in (steps["decode"].fix or "")


@pytest.mark.parametrize(
    ("step", "detail"), [("registry", "the registry at"), ("archive", "does not answer")]
)
def test_an_outage_fails_its_step_only(kits: Path, facility: LocalFacility, step: str, detail: str) -> None:
    """The registry (nginx then answers 502) or the archive server stopped."""
    stopped = (
        service(facility, "schema-registry")
        if step == "registry"
        else ArchiveServices(LocalDeployment(facility)).server_spec()
    )
    assert facility.supervisor.stop(stopped)
    try:
        steps = run(kits / BROKER)
    finally:
        facility.supervisor.start(stopped)
    assert failed(steps) == [step]
    assert detail in steps[step].detail
    assert "the stream itself is fine" in (steps[step].fix or "")
    assert steps["cleanup"].status == "PASS"
