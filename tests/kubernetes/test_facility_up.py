"""`pulumi up` of the idf stack for real, with Strimzi's own operators in the loop: the engine and
the Kubernetes provider apply every object to the local Kubernetes (not render mode, not a
preview); Strimzi 1.2.0's operators, built from source and configured as the stack's prerequisites
install them (localfacility.strimzi), do what they do at IDF: the cluster operator validates the
Kafka and its node pools and makes their pods, which Pod Security "restricted" admits; the user
and topic operators turn the KafkaUsers and KafkaTopics Ready (the provider waits for that,
`pulumi.com/waitFor`) on a real three-node Kafka of their own, and each broker logs in with the
password the user operator wrote and may do what Rubin grants it, nothing more; KWOK runs the pods.
Then what operators do after a deploy: a second preview changes nothing, a change is applied in
place, drift made by hand is found by `refresh` and repaired by `up`, the operator switches the
same API server to the usdf stack as the migration does (usdf deployed beside idf, then removed,
idf untouched throughout), and `destroy` stops at what is protected. The checks can fail: a
listener `host` on a load balancer (the first review's blocker 1) is refused by the cluster
operator.

What no software here does is played by `Cloud` below, and said there."""

from __future__ import annotations

import base64
import copy
import json
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import KafkaException
from confluent_kafka.admin import ConfigResource, ResourceType
from pulumi import automation as auto

from alertdist_common.outputs import StackOutputs
from infra.stackfile import load_stack, read_config_values, stack_file
from localfacility.kubernetes import LocalKubernetes
from localfacility.render import POLICY_PACK, change_config, cluster_stack
from localfacility.settings import FacilitySettings
from localfacility.strimzi import KafkaAccess, StrimziOperators
from tests.kubernetes import phalanx
from tests.kubernetes.facility import Cloud, admin, consume, live, operators_own_kafka, refused_write, sasl
from tests.kubernetes.prerequisites import prometheus_operator_crds, strimzi_operators
from tests.rendered import rendered

# `up` with the operators' start takes about 4 minutes on 2 cores, more under load: above the
# default per-test limit, which counts the fixture's set-up.
pytestmark = pytest.mark.timeout(1200)

STACK = "idf"
TOPIC = "lsst-alerts-v11"
NEW_RETENTION_MS = 172800000  # two nights instead of three
WAIT = "--timeout=180s"


@dataclass
class Deployed:
    stack: auto.Stack
    result: auto.UpResult
    operators: StrimziOperators
    work_dir: Path

    @property
    def namespace(self) -> str:
        return self.operators.namespace


@pytest.fixture(scope="module")
def deployed(
    kubernetes: LocalKubernetes, settings: FacilitySettings, operators_kafka: KafkaAccess
) -> Iterator[Deployed]:
    """The idf stack up on a cluster started afresh (a reused one may hold other tests' objects),
    its CRDs and namespaces as the prerequisites make them, Strimzi's three operators running."""
    kubernetes.down(purge=True)
    kubernetes.up()
    operators = strimzi_operators(kubernetes, settings, STACK, operators_kafka)
    cloud = Cloud(kubernetes, operators.namespace, operators.cluster)
    try:
        operators.up()
        cloud.start()
        work_dir = settings.run_dir.parent / "kubernetes-up" / STACK
        stack = cluster_stack(STACK, work_dir, settings.bin_dir, kubernetes.kubeconfig)
        with (work_dir / "up.log").open("w") as log:
            result = stack.up(color="never", policy_packs=[str(POLICY_PACK)], on_output=log.write)
        yield Deployed(stack, result, operators, work_dir)
    finally:
        cloud.stopped.set()
        operators.down()
    if cloud.errors:  # tried again a second later; said, in case a run hangs on them
        warnings.warn(
            f"the test's cloud stand-in failed {len(cloud.errors)} times: {cloud.errors[-3:]}", stacklevel=1
        )


def objects(kind: str) -> list[dict[str, Any]]:
    """The stack's objects of a kind, as the engine renders them (what `up` applied)."""
    return [o for o in rendered(STACK) if o["kind"] == kind]


def test_up_makes_every_object_and_a_second_preview_changes_nothing(deployed: Deployed) -> None:
    assert deployed.result.summary.result == "succeeded"
    created = deployed.result.summary.resource_changes or {}
    assert created.get("create", 0) > 30, created
    deployed.stack.preview(color="never", expect_no_changes=True, policy_packs=[str(POLICY_PACK)])


def test_the_cluster_operator_accepts_the_kafka_and_its_pods_are_admitted_as_restricted(
    deployed: Deployed, kubernetes: LocalKubernetes
) -> None:
    """Past validation the cluster operator makes a StrimziPodSet per node pool and its pods: the
    pods exist only if Pod Security "restricted" admitted them (Strimzi's Restricted provider, set
    by the prerequisites' chart values)."""
    (cluster,) = objects("Kafka")
    name = cluster["metadata"]["name"]
    pools = objects("KafkaNodePool")
    for pool in pools:
        podset = f"strimzipodset/{name}-{pool['metadata']['name']}"
        if not kubernetes.succeeds("-n", deployed.namespace, "wait", "--for=create", podset, WAIT):
            pytest.fail(f"no {podset}:\n{deployed.operators.log('cluster-operator')[-3000:]}")
    selector = f"strimzi.io/cluster={name},strimzi.io/kind=Kafka"
    expected = sum(pool["spec"]["replicas"] for pool in pools)
    pods: list[dict[str, Any]] = []
    for _ in range(60):
        listed = kubernetes.kubectl("-n", deployed.namespace, "get", "pods", "-l", selector, "-o", "json")
        pods = json.loads(listed)["items"]
        if len(pods) == expected:
            break
        time.sleep(2)
    assert len(pods) == expected, f"{len(pods)} of {expected} broker and controller pods admitted"


def test_the_cluster_operator_refuses_a_listener_host_on_a_load_balancer(
    deployed: Deployed, kubernetes: LocalKubernetes
) -> None:
    """The check above can fail: the idf Kafka with `bootstrap.host` on its load-balancer listener
    (what the first review found), under another name, is refused, and the operator says why in
    its status."""
    (cluster,) = objects("Kafka")
    name = "host-on-loadbalancer"
    broken = copy.deepcopy(cluster)
    broken["metadata"] = {**cluster["metadata"], "name": name, "annotations": {}}
    (listener,) = (lst for lst in broken["spec"]["kafka"]["listeners"] if lst["type"] == "loadbalancer")
    listener.setdefault("configuration", {}).setdefault("bootstrap", {})["host"] = "alert-stream.example.org"
    pools = copy.deepcopy(objects("KafkaNodePool"))
    for pool in pools:
        labels = {**pool["metadata"]["labels"], "strimzi.io/cluster": name}
        pool["metadata"] = {
            **pool["metadata"],
            "name": f"{name}-{pool['metadata']['name']}",
            "labels": labels,
        }
    kubernetes.apply(broken, *pools, server_side=True)
    query = '--for=jsonpath={.status.conditions[?(@.type=="NotReady")].reason}=InvalidResourceException'
    try:
        waited = kubernetes.succeeds("-n", deployed.namespace, "wait", query, f"kafka/{name}", WAIT)
        conditions = (
            live(kubernetes, deployed.namespace, "kafka", name).get("status", {}).get("conditions", [])
        )
        assert waited, conditions
        (refusal,) = (c for c in conditions if c["type"] == "NotReady")
        assert "cannot configure bootstrap.host" in refusal["message"]
        assert not kubernetes.succeeds("-n", deployed.namespace, "get", "strimzipodset", f"{name}-broker")
    finally:
        kubernetes.kubectl("-n", deployed.namespace, "delete", "kafka", name, "--ignore-not-found")
        for pool in pools:
            pool_name = pool["metadata"]["name"]
            kubernetes.kubectl(
                "-n", deployed.namespace, "delete", "kafkanodepool", pool_name, "--ignore-not-found"
            )


def test_the_topic_operator_made_every_topic_as_declared(deployed: Deployed) -> None:
    metadata = admin(deployed.operators.kafka).list_topics(timeout=10)
    for topic in objects("KafkaTopic"):
        made = metadata.topics[topic["spec"]["topicName"]]
        assert len(made.partitions) == topic["spec"]["partitions"]
        assert {len(p.replicas) for p in made.partitions.values()} == {topic["spec"]["replicas"]}


def test_each_broker_logs_in_with_what_the_user_operator_wrote_and_only_reads(
    deployed: Deployed, kubernetes: LocalKubernetes
) -> None:
    """Each KafkaUser's Secret, written by the user operator, holds the password the stack gave
    it; each broker reads the alert topic with it, in a group of its own prefix, and may neither
    write nor use another broker's group."""
    brokers = [u for u in objects("KafkaUser") if _reads(u, TOPIC)]
    assert len(brokers) >= 7, [u["metadata"]["name"] for u in brokers]
    for user in brokers:
        name = user["metadata"]["name"]
        written = live(kubernetes, deployed.namespace, "secret", name)["data"]["password"]
        ref = user["spec"]["authentication"]["password"]["valueFrom"]["secretKeyRef"]
        given = live(kubernetes, deployed.namespace, "secret", ref["name"])["data"][ref["key"]]
        assert written == given, f"{name}: the user operator wrote another password than the stack's"
        login = sasl(deployed.operators.kafka, name, base64.b64decode(written).decode())
        consume(login, TOPIC, group=f"{name}-postdeploy")
        with pytest.raises(KafkaException, match=r"GROUP_AUTHORIZATION_FAILED|Group authorization"):
            consume(login, TOPIC, group=f"not-{name}")
        refused_write(login, TOPIC)


def _topic_retention(access: KafkaAccess, topic: str) -> str:
    client = admin(access)  # held: a client collected before its future resolves fails it
    (future,) = client.describe_configs([ConfigResource(ResourceType.TOPIC, topic)]).values()
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
    deployed: Deployed, kubernetes: LocalKubernetes, settings: FacilitySettings
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
    _wait_retention(deployed.operators.kafka, TOPIC, str(NEW_RETENTION_MS))


def test_drift_made_by_hand_fails_the_drift_check_and_up_repairs_it(
    deployed: Deployed, kubernetes: LocalKubernetes
) -> None:
    """Someone `kubectl patch`es the topic's retention (it reaches Kafka). The daily drift check, as
    deploy.yml runs it (`preview --refresh --expect-no-changes`), fails, naming the field and its
    new manager: the provider's preview does not take fields from another manager
    (pulumi-kubernetes await.go: patchForce, and fixCSAFieldManagers only on a real update).
    `refresh` records the drift; `up` takes the field back, in Kubernetes and in Kafka."""
    declared = _kafka_topic_retention(kubernetes, deployed.namespace, TOPIC)
    drift = {"spec": {"config": {"retention.ms": "3600000"}}}
    patch = ("patch", "kafkatopic", TOPIC, "--type=merge", "-p", json.dumps(drift))
    kubernetes.kubectl("-n", deployed.namespace, *patch)
    _wait_retention(deployed.operators.kafka, TOPIC, "3600000")
    with pytest.raises(auto.CommandError, match=r'conflict with "kubectl-patch".*retention\.ms'):
        deployed.stack.preview(color="never", refresh=True, expect_no_changes=True)
    refreshed = deployed.stack.refresh(color="never")
    assert (refreshed.summary.resource_changes or {}).get("update") == 1, refreshed.summary.resource_changes
    deployed.stack.up(color="never", policy_packs=[str(POLICY_PACK)])
    assert _kafka_topic_retention(kubernetes, deployed.namespace, TOPIC) == declared
    _wait_retention(deployed.operators.kafka, TOPIC, declared)
    deployed.stack.preview(color="never", refresh=True, expect_no_changes=True)


def _reads(user: dict[str, Any], topic: str) -> bool:
    acls = user["spec"].get("authorization", {}).get("acls", [])
    return any(a["resource"].get("name") == topic and "Read" in a["operations"] for a in acls) and not any(
        "Write" in a["operations"] for a in acls
    )


def test_switching_the_api_server_to_the_usdf_stack_as_the_migration_does(
    deployed: Deployed, kubernetes: LocalKubernetes, settings: FacilitySettings
) -> None:
    """docs/migration.md step 1: with idf up, the operator selects the usdf stack and deploys it
    (here on the same API server, which holds what phalanx runs in `sasquatch`); step 6 removes it
    again (here: its `destroy`). Each stack's objects live beside the other's: usdf's `up` succeeds
    and changes nothing of idf's (a refreshed idf preview stays empty), its ingester logs in with
    what the user operator wrote, a phalanx broker with phalanx's password, and its `destroy`
    leaves idf as it was.

    Strimzi 1.2.0's user and topic operators reconcile `sasquatch` here, on a Kafka of their own as
    at USDF: one API server holds one release's CRDs, and 1.2.0's serve only kafka.strimzi.io/v1,
    which the usdf stack and phalanx's users and alert topics are written in (phalanx's registry
    topic, v1beta2, is left out). The usdf stack on 0.51.0, the release USDF runs, is rehearsed in
    test_usdf_rehearsal.py."""
    idf, usdf = load_stack(STACK), load_stack("usdf")
    assert idf.kafka is not None
    assert idf.kafka.strimzi is not None
    assert usdf.kafka is not None
    assert usdf.kafka.strimzi is not None
    assert usdf.namespace == phalanx.NAMESPACE
    with operators_own_kafka(settings.run_dir.parent / "strimzi-kafka-usdf") as usdf_kafka:
        passwords = phalanx.passwords()
        phalanx.seed(kubernetes, usdf_kafka, passwords, served=idf.kafka.strimzi.api_version)
        prometheus_operator_crds(kubernetes)
        operators = StrimziOperators(
            kubernetes,
            deployed.operators.release,
            usdf.namespace,
            usdf.kafka.name,
            usdf_kafka,
            operator_namespace=usdf.kafka.strimzi.namespace,
            home_name="strimzi-operators-usdf",
        )
        cloud = Cloud(kubernetes, usdf.namespace, usdf.kafka.name)
        try:
            operators.up("user-operator", "topic-operator")
            cloud.start()
            work_dir = deployed.work_dir.parent / "usdf-beside-idf"
            stack = cluster_stack("usdf", work_dir, settings.bin_dir, kubernetes.kubeconfig)
            with (work_dir / "up.log").open("w") as log:
                result = stack.up(color="never", policy_packs=[str(POLICY_PACK)], on_output=log.write)
            assert result.summary.result == "succeeded"
            assert (result.summary.resource_changes or {}).get("create", 0) > 10, (
                result.summary.resource_changes
            )
            stack.preview(color="never", expect_no_changes=True, policy_packs=[str(POLICY_PACK)])
            deployed.stack.preview(color="never", refresh=True, expect_no_changes=True)
            outputs = StackOutputs.model_validate({k: v.value for k, v in result.outputs.items()})
            (ingester,) = outputs.users_with_role("archive-ingester")
            written = live(kubernetes, usdf.namespace, "secret", ingester)["data"]["password"]
            consume(sasl(usdf_kafka, ingester, base64.b64decode(written).decode()), TOPIC, group=ingester)
            consume(sasl(usdf_kafka, "fink-usdf", passwords["fink-usdf"]), TOPIC, group="fink-usdf-switch")
            with (work_dir / "destroy.log").open("w") as log:
                stack.destroy(color="never", on_output=log.write)
            users = json.loads(kubernetes.kubectl("-n", usdf.namespace, "get", "kafkausers", "-o", "json"))
            assert {u["metadata"]["name"] for u in users["items"]} == set(phalanx.USERS)
            deployed.stack.preview(color="never", refresh=True, expect_no_changes=True)
        finally:
            cloud.stopped.set()
            operators.down()


# Last: it deletes whatever is not protected.
def test_destroy_stops_at_the_protected_kafka(deployed: Deployed, kubernetes: LocalKubernetes) -> None:
    """The Kafka and its node pools are protected (deleting them deletes the brokers): `destroy`
    fails and names them, and they are still there, as are the topics. Last: it deletes what is
    neither protected nor retained (the users among them, so their credentials go)."""
    with (
        (deployed.work_dir / "destroy.log").open("w") as log,
        pytest.raises(auto.CommandError, match="protected"),
    ):
        deployed.stack.destroy(color="never", on_output=log.write)
    assert kubernetes.succeeds("-n", deployed.namespace, "get", "kafka", "alert-broker")
    assert kubernetes.succeeds("-n", deployed.namespace, "get", "kafkanodepool", "broker", "controller")
    # The users are gone, in the background (their Secrets after them), so they log in no more.
    assert not json.loads(kubernetes.kubectl("-n", deployed.namespace, "get", "kafkausers", "-o", "json"))[
        "items"
    ]
    # The topics and their alerts stay: their KafkaTopics are retained on delete.
    kept = admin(deployed.operators.kafka).list_topics(timeout=10).topics
    assert {t["spec"]["topicName"] for t in objects("KafkaTopic")} <= set(kept)
