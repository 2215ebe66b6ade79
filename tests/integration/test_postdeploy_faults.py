"""The post-deploy tier: the suite, run as an operator runs it (`alertdist-postdeploy`), passes on
the deployed local stack, fails by name on each injected fault, and passes once it is repaired."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from confluent_kafka import Consumer
from confluent_kafka.admin import (
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    ResourcePatternType,
    ResourceType,
)

from alertdist_common.layout import ALERTS_PREFIX, CANARIES_PREFIX
from alertdist_common.outputs import StackOutputs
from alertdist_common.schemas import available_versions, schema_id
from localfacility import registry
from localfacility.credentials import REGISTRY_ADMIN_USER
from localfacility.deploy import LocalDeployment
from localfacility.facility import LocalFacility
from localfacility.services import ArchiveServices
from localfacility.settings import PROJECT_ROOT
from postdeploy.suite.clients import delete_group

from .kafka_helpers import admin, end_offsets
from .test_services import kafka_settings

QUICK = ["--canaries", "3", "--delivery-timeout", "15", "--archive-timeout", "15"]


def run_suite(outputs_file: Path, reports: Path, *options: str) -> tuple[set[str], set[str]]:
    """Run the suite as an operator would; the names of the checks that passed, and of those that
    failed or errored."""
    junit = reports / "junit.xml"
    argv = [sys.executable, "-m", "postdeploy.cli", "--stack-outputs", str(outputs_file)]
    argv += ["--report-dir", str(reports), "-q", *options]
    run = subprocess.run(argv, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600, check=False)
    cases = list(ElementTree.parse(junit).getroot().iter("testcase"))  # noqa: S314 - our own report
    failed = {
        case.get("name", "")
        for case in cases
        if case.find("failure") is not None or case.find("error") is not None
    }
    passed = {case.get("name", "") for case in cases if not list(case)} - failed
    assert (run.returncode != 0) == bool(failed), run.stdout[-3000:]
    return passed, failed


def failed_checks(outputs_file: Path, reports: Path) -> set[str]:
    return run_suite(outputs_file, reports, *QUICK)[1]


@pytest.fixture
def outputs_file(local_stack: dict[str, Any], facility: LocalFacility) -> Iterator[Path]:
    """The local stack's outputs file; the deploy runs again afterwards to repair any fault."""
    yield LocalDeployment(facility).outputs_file
    LocalDeployment(facility).up()


def test_every_check_passes_on_the_deployed_stack(
    facility: LocalFacility, outputs_file: Path, tmp_path: Path
) -> None:
    """The whole suite with its defaults (10 canaries, 60 s delivery), as after every `pulumi up`:
    a check per broker, topic, schema id and listener, every one passed. Its canaries travel the
    canary topic and the archive's canary prefix: the alert topics gain no message and the
    production prefix no object, so they hold only what the producer streamed."""
    outputs = StackOutputs.from_file(outputs_file)
    (canary_topic,) = outputs.topics_with_role("canary")
    store = ArchiveServices(LocalDeployment(facility)).store()

    def archived(prefix: str) -> set[str]:
        return {info.key for info in store.objects(prefix)}

    offsets_before = end_offsets(facility, [*outputs.alert_topics, canary_topic])
    archived_before = archived(ALERTS_PREFIX), archived(CANARIES_PREFIX)
    passed, failed = run_suite(outputs_file, tmp_path)
    assert failed == set()
    brokers = outputs.users_with_role("community-broker")
    assert {f"test_broker_receives_every_canary[{user}]" for user in brokers} <= passed
    assert {f"test_broker_fetches_from_every_alert_topic[{user}]" for user in brokers} <= passed
    assert "test_every_canary_is_archived_byte_identical" in passed
    assert (tmp_path / "summary.txt").read_text().startswith(f"post-deploy checks: {len(passed)} of ")
    offsets_after = end_offsets(facility, [*outputs.alert_topics, canary_topic])
    grew = {topic: 0 for topic in [*outputs.alert_topics, canary_topic]}
    for (topic, partition), end in offsets_after.items():
        grew[topic] += end - offsets_before.get((topic, partition), 0)
    assert grew == {**dict.fromkeys(outputs.alert_topics, 0), canary_topic: 10}
    assert archived(ALERTS_PREFIX) == archived_before[0]
    assert len(archived(CANARIES_PREFIX) - archived_before[1]) == 10


def test_a_removed_broker_acl_fails_that_brokers_checks(
    facility: LocalFacility, outputs_file: Path, tmp_path: Path
) -> None:
    """Lasair's read of an alert topic and of the canary topic taken away: its fetch and its
    canary checks fail, and no other broker's."""
    client = admin(facility)
    read_grants = [
        AclBindingFilter(
            ResourceType.TOPIC,
            topic,
            ResourcePatternType.LITERAL,
            "User:lasair-local",
            "*",
            AclOperation.READ,
            AclPermissionType.ALLOW,
        )
        for topic in ("alerts-simulated", "alerts-canary")
    ]
    for future in client.delete_acls(read_grants).values():
        assert len(future.result(timeout=30)) == 1
    failed = failed_checks(outputs_file, tmp_path)
    assert "test_broker_fetches_from_every_alert_topic[lasair-local]" in failed
    assert "test_broker_receives_every_canary[lasair-local]" in failed
    assert all("lasair-local" in name for name in failed), failed


def test_a_stopped_ingester_fails_the_archive_check(
    facility: LocalFacility, outputs_file: Path, tmp_path: Path
) -> None:
    ingester = ArchiveServices(LocalDeployment(facility)).ingester_spec()
    assert facility.supervisor.stop(ingester)
    try:
        assert failed_checks(outputs_file, tmp_path) == {
            "test_every_canary_is_archived_byte_identical",
            "test_the_bulk_route_serves_the_canaries_as_the_single_route_does",
        }
    finally:
        facility.supervisor.start(ingester)


def test_a_missing_registry_schema_fails_the_registry_checks(
    facility: LocalFacility, outputs_file: Path, tmp_path: Path
) -> None:
    oldest = min(schema_id(v.major, v.minor) for v in available_versions())
    login = (REGISTRY_ADMIN_USER, facility.credentials.registry_admin_password.get_secret_value())
    with httpx.Client(base_url=registry.registry_url(facility.settings), auth=login, timeout=15) as http:
        for permanent in ("false", "true"):
            response = http.delete(
                f"/subjects/alert-packet/versions/{oldest}", params={"permanent": permanent}
            )
            assert response.status_code == 200, response.text
    assert failed_checks(outputs_file, tmp_path) == {
        f"test_registry_serves_schema[{oldest}]",
        "test_alert_packet_versions_are_the_schema_ids",
    }
    # The repair (the deploy's schema sync) brings the schema back at its fixed id.
    LocalDeployment(facility).up()
    assert failed_checks(outputs_file, tmp_path / "repaired") == set()


def test_a_consumer_group_the_suite_cannot_delete_is_reported(local_stack: dict[str, Any]) -> None:
    """The suite's teardown deletes its groups as their owners and names any it could not."""
    outputs = StackOutputs.model_validate(local_stack)
    group = f"fink-local-residue-{uuid.uuid4().hex[:6]}"
    assert delete_group(outputs, "fink-local", group) is None  # never created: no residue
    member = Consumer({**kafka_settings(local_stack, "fink-local").client_config(), "group.id": group})
    try:
        member.subscribe(["alerts-simulated"])
        deadline = time.monotonic() + 30
        while not member.assignment() and time.monotonic() < deadline:
            member.poll(0.5)
        assert "NON_EMPTY_GROUP" in (delete_group(outputs, "fink-local", group) or "")
    finally:
        member.close()
    assert delete_group(outputs, "fink-local", group) is None
