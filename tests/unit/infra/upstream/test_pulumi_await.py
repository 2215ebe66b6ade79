"""`pulumi up` returns only when Strimzi has done the work, so the post-deploy suite that follows
proves a deployed system. Transcribed from pulumi-kubernetes v4.25.0 (the provider built here) and
Strimzi 0.51.0 / 1.2.0; the provider waits for real in tests/kubernetes/test_facility_up.py, on the
local Kubernetes with Strimzi's operators."""

from __future__ import annotations

import json
import re

import pytest

from infra.components.kafka.manifests import KAFKA_READY_TIMEOUT_S
from infra.render import run_program
from tests.unit.infra.test_program import FACILITY_STACKS, MANAGED_STACKS


def parsed_wait_for(value: str) -> list[str]:
    """pulumi-kubernetes v4.25.0 provider/pkg/metadata/overrides.go:121-158: a JSON list of
    expressions, else one expression; each must start with `jsonpath=` or `condition=` (an error
    otherwise, raised after the object was created)."""
    try:
        expressions = json.loads(value)
    except json.JSONDecodeError:
        expressions = [value]
    if not isinstance(expressions, list) or not expressions:
        raise ValueError(f"waitFor {value!r}: an empty or non-list value")
    for expression in expressions:
        if not re.match(r"^(jsonpath|condition)=", expression):
            raise ValueError(f"waitFor {expression!r} is neither jsonpath= nor condition=")
    return list(expressions)


def test_the_transcribed_parser_refuses_what_the_provider_refuses() -> None:
    assert parsed_wait_for("condition=Ready") == ["condition=Ready"]
    assert parsed_wait_for('["condition=Ready","jsonpath={.status.secret}"]') == [
        "condition=Ready",
        "jsonpath={.status.secret}",
    ]
    for wrong in ("Ready", "[]", "condition: Ready"):
        with pytest.raises(ValueError, match="waitFor"):
            parsed_wait_for(wrong)


@pytest.mark.parametrize("stack", FACILITY_STACKS)
def test_users_and_topics_are_awaited_until_strimzi_says_ready(stack: str) -> None:
    """Strimzi sets condition Ready=True on a KafkaUser once Kafka holds its SCRAM credential and
    ACLs and its Secret is written (0.51.0 KafkaUserOperator.java:247-259, StatusUtils.java:172-174),
    on a KafkaTopic once the topic and its config exist (BatchingTopicController.java:256-311)."""
    run = run_program(stack)
    awaited = run.strimzi("KafkaUser") + run.strimzi("KafkaTopic")
    assert awaited
    for resource in awaited:
        annotations = resource.inputs["metadata"]["annotations"]
        assert parsed_wait_for(annotations["pulumi.com/waitFor"]) == ["condition=Ready"]
        assert "pulumi.com/timeoutSeconds" not in annotations  # the provider's 10 minutes


@pytest.mark.parametrize("stack", MANAGED_STACKS)
def test_the_cluster_is_awaited_longer_than_the_provider_s_ten_minutes(stack: str) -> None:
    """A first Kafka binds volumes and rolls six pods; the provider's default is 10 minutes
    (overrides.go:52-65), and only an integer timeoutSeconds is read (anything else is ignored)."""
    (kafka,) = run_program(stack).strimzi("Kafka")
    annotations = kafka.inputs["metadata"]["annotations"]
    assert parsed_wait_for(annotations["pulumi.com/waitFor"]) == ["condition=Ready"]
    assert annotations["pulumi.com/timeoutSeconds"] == str(int(annotations["pulumi.com/timeoutSeconds"]))
    assert int(annotations["pulumi.com/timeoutSeconds"]) == KAFKA_READY_TIMEOUT_S > 600


@pytest.mark.parametrize("stack", FACILITY_STACKS)
def test_users_are_deleted_in_the_background(stack: str) -> None:
    """Not in the foreground, the provider's default (overrides.go:68-78 reads orphan, background,
    anything else is foreground), which waits on the Secret Strimzi's user operator writes again
    while the KafkaUser exists (infra/components/access/manifests.py)."""
    users = run_program(stack).strimzi("KafkaUser")
    assert users
    for user in users:
        assert user.inputs["metadata"]["annotations"]["pulumi.com/deletionPropagationPolicy"] == "background"
