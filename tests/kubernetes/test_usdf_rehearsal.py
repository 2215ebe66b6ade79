"""The usdf stack rehearsed on a cluster that holds what phalanx runs at USDF (tests/kubernetes/
phalanx.py), with Strimzi 0.51.0's user and topic operators, the release phalanx runs there,
reconciling phalanx's users and topics and the stack's own into a real Kafka: the brokers log in
with phalanx's passwords before the stack is deployed; the first preview creates only the stack's
own objects; `up` leaves every object of phalanx's untouched and every broker logging in with the
password it had; the outputs' password references name the Secrets that hold those passwords; a
second preview changes nothing; `destroy` removes the stack's objects and none of phalanx's."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import KafkaException
from pulumi import automation as auto

from alertdist_common.outputs import StackOutputs
from localfacility.kubernetes import LocalKubernetes
from localfacility.render import POLICY_PACK, cluster_stack
from localfacility.settings import FacilitySettings
from localfacility.strimzi import KafkaAccess, StrimziOperators
from tests.kubernetes import phalanx
from tests.kubernetes.facility import Cloud, admin, consume, live, refused_write, sasl
from tests.kubernetes.prerequisites import prometheus_operator_crds, strimzi_operators

pytestmark = pytest.mark.timeout(1200)

STACK = "usdf"
WAIT = "--timeout=180s"


@dataclass
class Rehearsal:
    stack: auto.Stack
    preview: auto.PreviewResult
    result: auto.UpResult
    operators: StrimziOperators
    passwords: dict[str, str]
    before: dict[tuple[str, str], dict[str, Any]]  # phalanx's objects as the operators left them
    topics_before: dict[str, tuple[str, str]]  # each of phalanx's KafkaTopics' condition and reason
    refused_before: dict[str, str]  # what the brokers could not do before the stack existed
    work_dir: Path


def phalanx_objects(kubernetes: LocalKubernetes) -> dict[tuple[str, str], dict[str, Any]]:
    """Phalanx's objects as they are live, by kind and name, with their field managers."""
    return {
        (kind, name): live(kubernetes, phalanx.NAMESPACE, kind, name, managed_fields=True)
        for kind, name in phalanx.owned()
    }


def broker_logs_in(operators: StrimziOperators, username: str, password: str) -> None:
    """The broker reads its topic in a group of its own and may not write it."""
    login = sasl(operators.kafka, username, password)
    consume(login, "lsst-alerts-v11", group=f"{username}-rehearsal")
    refused_write(login, "lsst-alerts-v11")


def topic_conditions(kubernetes: LocalKubernetes) -> dict[str, tuple[str, str]]:
    """Each of phalanx's KafkaTopics' condition (Ready or NotReady) and its reason, once the topic
    operator has reconciled it."""
    found = {}
    phalanx_topics = {name for kind, name in phalanx.owned() if kind == "KafkaTopic"}
    for topic in listed(kubernetes, "kafkatopics"):
        if topic["metadata"]["name"] not in phalanx_topics:
            continue
        for condition in topic.get("status", {}).get("conditions", []):
            if condition["type"] in ("Ready", "NotReady") and condition["status"] == "True":
                found[topic["metadata"]["name"]] = (condition["type"], condition.get("reason", ""))
    return found


def reconciled_topics(kubernetes: LocalKubernetes, operators: StrimziOperators) -> dict[str, tuple[str, str]]:
    """Phalanx's KafkaTopics as the topic operator leaves them, waited for."""
    names = {name for kind, name in phalanx.owned() if kind == "KafkaTopic"}
    deadline = time.monotonic() + 180
    while set(found := topic_conditions(kubernetes)) != names:
        if time.monotonic() > deadline:
            pytest.fail(f"KafkaTopics not reconciled: {found}\n{operators.log('topic-operator')[-3000:]}")
        time.sleep(2)
    return found


def listed(kubernetes: LocalKubernetes, kind: str) -> list[dict[str, Any]]:
    """Every object of a kind in phalanx's namespace."""
    items: list[dict[str, Any]] = json.loads(
        kubernetes.kubectl("-n", phalanx.NAMESPACE, "get", kind, "-o", "json")
    )["items"]
    return items


def brokers() -> list[str]:
    return [user for user in phalanx.USERS if user.endswith("-usdf")]


def refusals(operators: StrimziOperators, passwords: dict[str, str]) -> dict[str, str]:
    """What each broker could not do with phalanx's password, by broker; empty when all could."""
    refused = {}
    for username in brokers():
        try:
            broker_logs_in(operators, username, passwords[username])
        except (AssertionError, KafkaException) as failure:
            refused[username] = str(failure)
    return refused


@pytest.fixture(scope="module")
def rehearsal(
    kubernetes: LocalKubernetes, settings: FacilitySettings, operators_kafka: KafkaAccess
) -> Iterator[Rehearsal]:
    """A cluster started afresh with 0.51.0's CRDs; phalanx's objects applied as Argo CD applies
    them and made Ready by the operators; then the usdf stack previewed and brought up."""
    kubernetes.down(purge=True)
    kubernetes.up()
    operators = strimzi_operators(kubernetes, settings, STACK, operators_kafka)
    assert operators.release == "0.51.0"
    passwords = phalanx.passwords()
    phalanx.seed(kubernetes, operators_kafka, passwords, served="all")
    prometheus_operator_crds(kubernetes)
    cloud = Cloud(kubernetes, operators.namespace, operators.cluster)
    try:
        operators.up()
        cloud.start()
        ready = ("-n", phalanx.NAMESPACE, "wait", "--for=condition=Ready", "kafkauser", "--all", WAIT)
        if not kubernetes.succeeds(*ready):
            pytest.fail(f"phalanx's KafkaUsers not Ready:\n{operators.log('user-operator')[-3000:]}")
        topics_before = reconciled_topics(kubernetes, operators)
        before = phalanx_objects(kubernetes)
        refused_before = refusals(operators, passwords)
        work_dir = settings.run_dir.parent / "kubernetes-up" / STACK
        stack = cluster_stack(STACK, work_dir, settings.bin_dir, kubernetes.kubeconfig)
        preview = stack.preview(color="never", policy_packs=[str(POLICY_PACK)])
        with (work_dir / "up.log").open("w") as log:
            result = stack.up(color="never", policy_packs=[str(POLICY_PACK)], on_output=log.write)
        yield Rehearsal(
            stack, preview, result, operators, passwords, before, topics_before, refused_before, work_dir
        )
    finally:
        cloud.stopped.set()
        operators.down()


def test_phalanx_s_brokers_logged_in_before_the_stack_existed(rehearsal: Rehearsal) -> None:
    """On the seeded cluster alone, with 0.51.0's user operator: else the checks after `up` would
    prove nothing."""
    assert rehearsal.refused_before == {}


def test_the_first_preview_only_creates_the_stack_s_own_objects(rehearsal: Rehearsal) -> None:
    changes = rehearsal.preview.change_summary
    assert set(changes) <= {"create", "same"}, changes
    assert changes.get("create", 0) > 10, changes


def test_up_leaves_every_object_of_phalanx_s_as_it_was(
    rehearsal: Rehearsal, kubernetes: LocalKubernetes
) -> None:
    """Same spec, data, labels, annotations and generation, and the same field managers: `up`
    neither wrote nor took a field of them (the namespace the stack deploys into included)."""
    assert rehearsal.result.summary.result == "succeeded"
    after = phalanx_objects(kubernetes)
    for key, was in rehearsal.before.items():
        now = after[key]
        for part in ("spec", "data"):
            assert now.get(part) == was.get(part), (key, part)
        for field in ("labels", "annotations", "generation", "finalizers"):
            assert now["metadata"].get(field) == was["metadata"].get(field), (key, field)
        managers = {entry["manager"] for entry in now["metadata"]["managedFields"]}
        assert managers == {entry["manager"] for entry in was["metadata"]["managedFields"]}, key
        assert not {m for m in managers if m.startswith("pulumi")}, (key, managers)


def test_up_leaves_phalanx_s_topics_as_the_topic_operator_had_them(
    rehearsal: Rehearsal, kubernetes: LocalKubernetes
) -> None:
    """Each of phalanx's KafkaTopics is in the state it was in before `up` (whatever the topic
    operator made of phalanx's own settings), and the registry's, a valid one, is Ready."""
    assert rehearsal.topics_before["registry-schemas"][0] == "Ready"
    assert topic_conditions(kubernetes) == rehearsal.topics_before


def test_every_broker_logs_in_with_the_password_it_had(rehearsal: Rehearsal) -> None:
    assert refusals(rehearsal.operators, rehearsal.passwords) == {}


def test_the_outputs_name_the_secrets_that_hold_the_brokers_passwords(
    rehearsal: Rehearsal,
    kubernetes: LocalKubernetes,
    settings: FacilitySettings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The post-deploy suite and the broker kits read phalanx's passwords through the outputs'
    references (kubectl, the runner's context): here they find the Secrets 0.51.0's user operator
    wrote, and each holds the password phalanx gave."""
    outputs = StackOutputs.model_validate({k: v.value for k, v in rehearsal.result.outputs.items()})
    monkeypatch.setenv("KUBECONFIG", str(kubernetes.kubeconfig))
    monkeypatch.setenv("PATH", f"{settings.bin_dir}:{Path('/usr/bin')}")
    assert sorted(outputs.users_with_role("community-broker")) == sorted(brokers())
    for username in brokers():
        assert username in outputs.password_refs
        assert outputs.password(username) == rehearsal.passwords[username]


def test_the_stack_s_own_users_and_topics_are_made_by_0_51_0_s_operators(
    rehearsal: Rehearsal, kubernetes: LocalKubernetes
) -> None:
    """The ingester's user logs in with what the user operator wrote and reads the alert topics;
    the dead-letter topic exists."""
    outputs = StackOutputs.model_validate({k: v.value for k, v in rehearsal.result.outputs.items()})
    (ingester,) = outputs.users_with_role("archive-ingester")
    login = sasl(rehearsal.operators.kafka, ingester, outputs.password(ingester))
    consume(login, "lsst-alerts-v11", group=ingester)
    (dead_letter,) = outputs.topics_with_role("dead-letter")
    assert dead_letter in admin(rehearsal.operators.kafka).list_topics(timeout=10).topics
    # The API server accepted the stack's monitors and rules against the Prometheus operator's CRDs.
    assert {m["metadata"]["name"] for m in listed(kubernetes, "podmonitors")} == {
        "alert-distribution-services"
    }
    assert [r["metadata"]["name"] for r in listed(kubernetes, "prometheusrules")] == ["alert-distribution"]
    rehearsal.stack.preview(color="never", expect_no_changes=True, policy_packs=[str(POLICY_PACK)])


# Last: it deletes the stack's objects.
def test_destroy_removes_the_stack_s_objects_and_none_of_phalanx_s(
    rehearsal: Rehearsal, kubernetes: LocalKubernetes
) -> None:
    """Afterwards the namespace holds phalanx's users and topics (every one still there: reading
    them fails otherwise) and, of the stack's, only its dead-letter topic, retained on delete as
    every topic of the stacks is (its dead letters kept); phalanx's brokers still log in."""
    outputs = StackOutputs.model_validate({k: v.value for k, v in rehearsal.result.outputs.items()})
    with (rehearsal.work_dir / "destroy.log").open("w") as log:
        rehearsal.stack.destroy(color="never", on_output=log.write)
    phalanx_objects(kubernetes)
    users = {item["metadata"]["name"] for item in listed(kubernetes, "kafkausers")}
    assert users == {name for kind, name in phalanx.owned() if kind == "KafkaUser"}
    topics = {item["metadata"]["name"] for item in listed(kubernetes, "kafkatopics")}
    phalanx_topics = {name for kind, name in phalanx.owned() if kind == "KafkaTopic"}
    assert topics == phalanx_topics | set(outputs.topics_with_role("dead-letter"))
    for kind in ("deployments", "services", "ingresses", "networkpolicies"):
        assert not listed(kubernetes, kind), kind
    assert refusals(rehearsal.operators, rehearsal.passwords) == {}
