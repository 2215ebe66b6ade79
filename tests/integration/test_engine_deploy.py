"""The local stack under the real Pulumi engine (built here, with this project's language host):
`up` is idempotent, `preview` sees drift, `up` repairs it, and a password changed with
`pulumi config set --secret` is live after `up`."""

from __future__ import annotations

from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import (
    AclBinding,
    AclOperation,
    AclPermissionType,
    ResourcePatternType,
    ResourceType,
)

from infra.providers.kafka_admin import exact_filter
from localfacility.deploy import LocalDeployment
from localfacility.facility import LocalFacility

from .kafka_helpers import admin, admin_client, client_config

TOPIC = "alerts-simulated"
DEAD_LETTER = "alert-archive-dead-letter"


def _grant(user: str, topic: str) -> AclBinding:
    return AclBinding(
        ResourceType.TOPIC,
        topic,
        ResourcePatternType.LITERAL,
        f"User:{user}",
        "*",
        AclOperation.READ,
        AclPermissionType.ALLOW,
    )


def test_a_second_up_changes_nothing_and_preview_expects_no_changes(
    facility: LocalFacility, local_stack: dict[str, Any]
) -> None:
    deployment = LocalDeployment(facility)
    report = deployment.up()
    assert not report.changed, report
    assert report.operations["same"] >= 20
    assert deployment.pulumi(["preview", "--stack", "local", "--refresh", "--expect-no-changes"]) == 0


def test_acl_drift_is_found_by_preview_and_repaired_by_up(
    facility: LocalFacility, local_stack: dict[str, Any]
) -> None:
    """A grant deleted by hand and a stray one added by hand: the user's ACL set owns both."""
    client = admin(facility)
    wanted, stray = _grant("lasair-local", TOPIC), _grant("fink-local", DEAD_LETTER)
    for future in client.delete_acls([exact_filter(wanted)]).values():
        assert len(future.result(timeout=30)) == 1
    for future in client.create_acls([stray]).values():
        future.result(timeout=30)
    deployment = LocalDeployment(facility)
    assert deployment.pulumi(["preview", "--stack", "local", "--refresh", "--expect-no-changes"]) != 0
    assert deployment.preview().operations.get("update") == 2  # lasair's and fink's ACL sets
    report = deployment.up()
    assert report.operations.get("update") == 2, report
    assert client.describe_acls(exact_filter(wanted)).result(timeout=30)
    assert not client.describe_acls(exact_filter(stray)).result(timeout=30)
    assert not deployment.up().changed


def _can_login(facility: LocalFacility, user: str, password: str) -> bool:
    client = admin_client({**client_config(facility, user, password), "socket.timeout.ms": 5000})
    try:
        client.list_topics(TOPIC, timeout=10)
    except KafkaException:
        return False
    return True


def test_a_password_set_with_pulumi_config_is_live_after_up(
    facility: LocalFacility, local_stack: dict[str, Any]
) -> None:
    deployment = LocalDeployment(facility)
    old = local_stack["passwords"]["fink-local"]
    new = "rotated-" + old[::-1]
    key = "alertdist:kafkaUserPasswords.fink-local"
    set_secret = ["config", "set", "--secret", "--path", "--stack", "local", key]
    try:
        deployment.engine.run(*set_secret, stdin=new)
        report = deployment.up()
        assert report.operations.get("update") == 1, report
        assert _can_login(facility, "fink-local", new)
        assert not _can_login(facility, "fink-local", old)
        assert deployment.passwords()["fink-local"] == new
    finally:
        deployment.engine.run(*set_secret, stdin=old)
        deployment.up()
    assert _can_login(facility, "fink-local", old)
