"""`pulumi up` of the idf stack for real: the engine and the Kubernetes provider apply every object
to the local Kubernetes (not render mode, not a preview), Strimzi's user and topic operators turn
its KafkaUsers and KafkaTopics Ready (the provider waits for that, `pulumi.com/waitFor`), KWOK
runs its pods. Then what operators do after a deploy: a second preview changes nothing, drift made
by hand is found by `refresh` and repaired by `up`, and `destroy` stops at what is protected.

What no software here does is played by `Cloud` below and said there."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient, ConfigResource, ResourceType
from pulumi import automation as auto

from infra.stackfile import read_config_values, stack_file
from localfacility.kubernetes import LocalKubernetes
from localfacility.render import POLICY_PACK, change_config, cluster_stack
from localfacility.settings import FacilitySettings
from localfacility.strimzi import KafkaAccess
from tests.kubernetes.prerequisites import strimzi_operators

STACK = "idf"
TOPIC = "lsst-alerts-v11"
NEW_RETENTION_MS = 172800000  # two nights instead of three
# Documentation addresses (RFC 5737), as a cloud's load balancer controller would assign them.
ADDRESS = "203.0.113.20"


class Cloud(threading.Thread):
    """What the facility's cloud and its running brokers do that nothing here does, every second:
    GKE's controllers give each LoadBalancer Service and Ingress an address (the provider waits for
    one), and Strimzi's cluster operator marks the Kafka Ready once its brokers answer (no broker
    runs here: pods are KWOK's; the cluster operator's own checks of this Kafka are in
    test_strimzi_operators.py)."""

    def __init__(self, kubernetes: LocalKubernetes, namespace: str) -> None:
        super().__init__(daemon=True)
        self.kubernetes = kubernetes
        self.namespace = namespace
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(1.0):
            self._address("services", lambda o: o["spec"].get("type") == "LoadBalancer")
            self._address("ingresses", lambda o: True)
            self._kafka_ready()

    def _items(self, kind: str) -> list[dict]:  # type: ignore[type-arg]
        listed = self.kubernetes._kubectl(("-n", self.namespace, "get", kind, "-o", "json"), None)
        return json.loads(listed.stdout)["items"] if listed.returncode == 0 else []  # type: ignore[no-any-return]

    def _patch_status(self, kind: str, name: str, status: dict) -> None:  # type: ignore[type-arg]
        self.kubernetes._kubectl(
            (
                "-n",
                self.namespace,
                "patch",
                kind,
                name,
                "--subresource=status",
                "--type=merge",
                "-p",
                json.dumps(status),
            ),
            None,
        )

    def _address(self, kind: str, wanted) -> None:  # type: ignore[no-untyped-def]
        for item in self._items(kind):
            if wanted(item) and not item.get("status", {}).get("loadBalancer", {}).get("ingress"):
                status = {"status": {"loadBalancer": {"ingress": [{"ip": ADDRESS}]}}}
                self._patch_status(kind, item["metadata"]["name"], status)

    def _kafka_ready(self) -> None:
        for kafka in self._items("kafkas"):
            conditions = kafka.get("status", {}).get("conditions", [])
            if not any(c["type"] == "Ready" and c["status"] == "True" for c in conditions):
                ready = {
                    "type": "Ready",
                    "status": "True",
                    "reason": "StandIn",
                    "message": "the test's stand-in",
                }
                status = {
                    "status": {"observedGeneration": kafka["metadata"]["generation"], "conditions": [ready]}
                }
                self._patch_status("kafka", kafka["metadata"]["name"], status)


@dataclass
class Deployed:
    stack: auto.Stack
    result: auto.UpResult
    namespace: str
    work_dir: Path


@pytest.fixture(scope="module")
def deployed(
    kubernetes: LocalKubernetes, settings: FacilitySettings, operators_kafka: KafkaAccess
) -> Iterator[Deployed]:
    """The idf stack up on an empty cluster (its CRDs and namespaces as the prerequisites make them)."""
    kubernetes.down(purge=True)
    kubernetes.up()
    operators = strimzi_operators(kubernetes, settings, STACK, operators_kafka)
    cloud = Cloud(kubernetes, operators.namespace)
    try:
        operators.up()  # the cluster operator too: it makes the clients CA the TLS users need
        cloud.start()
        work_dir = settings.run_dir.parent / "kubernetes-up" / STACK
        stack = cluster_stack(STACK, work_dir, settings.bin_dir, kubernetes.kubeconfig)
        with (work_dir / "up.log").open("w") as log:
            result = stack.up(color="never", policy_packs=[str(POLICY_PACK)], on_output=log.write)
        yield Deployed(stack, result, operators.namespace, work_dir)
    finally:
        cloud.stopped.set()
        operators.down()


def test_up_makes_every_object_and_a_second_preview_changes_nothing(deployed: Deployed) -> None:
    assert deployed.result.summary.result == "succeeded"
    created = deployed.result.summary.resource_changes or {}
    assert created.get("create", 0) > 30, created
    deployed.stack.preview(color="never", expect_no_changes=True, policy_packs=[str(POLICY_PACK)])


def _topic_retention(access: KafkaAccess, topic: str) -> str:
    admin = AdminClient(
        {
            "bootstrap.servers": access.bootstrap,
            "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanism": "SCRAM-SHA-512",
            "sasl.username": access.username,
            "sasl.password": access.password.get_secret_value(),
        }
    )
    (future,) = admin.describe_configs([ConfigResource(ResourceType.TOPIC, topic)]).values()
    return str(future.result(timeout=10)["retention.ms"].value)


def _wait_retention(access: KafkaAccess, topic: str, expected: str) -> None:
    """The topic operator applies a KafkaTopic's change to Kafka in its own time."""
    for _ in range(60):
        if _topic_retention(access, topic) == expected:
            return
        time.sleep(1)
    assert _topic_retention(access, topic) == expected


def _kafka_topic_retention(kubernetes: LocalKubernetes, namespace: str, topic: str) -> str:
    return kubernetes.kubectl(
        "-n", namespace, "get", "kafkatopic", topic, "-o", "jsonpath={.spec.config.retention\\.ms}"
    )


def test_a_changed_retention_is_an_update_in_place_that_reaches_kafka(
    deployed: Deployed, kubernetes: LocalKubernetes, settings: FacilitySettings, operators_kafka: KafkaAccess
) -> None:
    """An operator shortens a topic's retention in the stack file: `up` updates that KafkaTopic
    alone, replacing nothing, and the topic operator applies it to the topic."""
    topics = json.loads(json.dumps(read_config_values(stack_file(STACK))["alertdist:topics"]))
    (topic,) = (t for t in topics if t["name"] == TOPIC)
    topic["retentionMs"] = NEW_RETENTION_MS
    change_config(STACK, deployed.work_dir, settings.bin_dir, {"alertdist:topics": topics})
    result = deployed.stack.up(color="never", policy_packs=[str(POLICY_PACK)])
    changes = result.summary.resource_changes or {}
    assert changes.get("update") == 1, changes
    assert not {"create", "delete", "replace"} & set(changes), changes
    assert _kafka_topic_retention(kubernetes, deployed.namespace, TOPIC) == str(NEW_RETENTION_MS)
    _wait_retention(operators_kafka, TOPIC, str(NEW_RETENTION_MS))


def test_drift_made_by_hand_is_found_by_refresh_and_repaired_by_up(
    deployed: Deployed, kubernetes: LocalKubernetes, operators_kafka: KafkaAccess
) -> None:
    """Someone `kubectl edit`s the topic's retention: `refresh` finds it, a preview shows the
    repair, `up` makes it what the stack says again, in Kubernetes and in Kafka."""
    declared = _kafka_topic_retention(kubernetes, deployed.namespace, TOPIC)
    drift = {"spec": {"config": {"retention.ms": "3600000"}}}
    kubernetes.kubectl(
        "-n", deployed.namespace, "patch", "kafkatopic", TOPIC, "--type=merge", "-p", json.dumps(drift)
    )
    _wait_retention(operators_kafka, TOPIC, "3600000")
    refreshed = deployed.stack.refresh(color="never")
    assert (refreshed.summary.resource_changes or {}).get("update") == 1, refreshed.summary.resource_changes
    with pytest.raises(auto.CommandError):
        deployed.stack.preview(color="never", expect_no_changes=True)
    deployed.stack.up(color="never", policy_packs=[str(POLICY_PACK)])
    assert _kafka_topic_retention(kubernetes, deployed.namespace, TOPIC) == declared
    _wait_retention(operators_kafka, TOPIC, declared)


def test_destroy_stops_at_the_protected_kafka(deployed: Deployed, kubernetes: LocalKubernetes) -> None:
    """The Kafka and its node pools are protected (deleting them deletes the brokers): `destroy`
    fails and names them, and they are still there. Last: it deletes what is not protected."""
    with pytest.raises(auto.CommandError, match="protected"):
        deployed.stack.destroy(color="never")
    assert kubernetes.succeeds("-n", deployed.namespace, "get", "kafka", "alert-broker")
    assert kubernetes.succeeds("-n", deployed.namespace, "get", "kafkanodepool", "broker", "controller")
