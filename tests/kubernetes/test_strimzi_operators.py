"""Strimzi's own operators, of the release the idf stack names, built from source and run against
the local Kubernetes as the stack's prerequisites configure them (localfacility.strimzi): the
cluster operator validates the stack's Kafka and node pools and makes their pods, which Pod
Security "restricted" admits; the user and topic operators turn the stack's KafkaUsers and
KafkaTopics into SCRAM credentials, ACLs, Secrets and topics on a real three-node Kafka of their
own, and each broker logs in with the password the user operator wrote and may do what Rubin grants
it, nothing more. The check can fail: a listener `host` on a load balancer is refused by the cluster
operator (the first review's blocker 1)."""

from __future__ import annotations

import base64
import copy
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient

from localfacility.kubernetes import LocalKubernetes
from localfacility.settings import FacilitySettings
from localfacility.strimzi import KafkaAccess, StrimziOperators
from tests.kubernetes.prerequisites import strimzi_operators
from tests.rendered import rendered

STACK = "idf"
WAIT = "--timeout=180s"


def objects(kind: str) -> list[dict[str, Any]]:
    return [o for o in rendered(STACK) if o["kind"] == kind]


@pytest.fixture(scope="module")
def strimzi(
    kubernetes: LocalKubernetes, settings: FacilitySettings, operators_kafka: KafkaAccess
) -> Iterator[StrimziOperators]:
    """All three operators watching the idf namespace, as its prerequisites configure them."""
    operators = strimzi_operators(kubernetes, settings, STACK, operators_kafka)
    try:
        operators.up()
        yield operators
    finally:
        operators.down()


def _kafka_status(kubernetes: LocalKubernetes, namespace: str, name: str) -> list[dict[str, Any]]:
    found = json.loads(kubernetes.kubectl("-n", namespace, "get", "kafka", name, "-o", "json"))
    conditions: list[dict[str, Any]] = found.get("status", {}).get("conditions", [])
    return conditions


def test_the_cluster_operator_accepts_the_idf_kafka_and_its_pods_are_admitted_as_restricted(
    kubernetes: LocalKubernetes, strimzi: StrimziOperators
) -> None:
    """Past validation the operator makes a StrimziPodSet per node pool and its pods: the pods
    exist only if Pod Security "restricted" admitted them (Strimzi's Restricted provider)."""
    (cluster,) = objects("Kafka")
    pools = objects("KafkaNodePool")
    kubernetes.apply(*objects("ConfigMap"), *pools, server_side=True)  # what the Kafka depends on
    kubernetes.apply(cluster, server_side=True)
    namespace = strimzi.namespace
    for pool in pools:
        podset = f"{cluster['metadata']['name']}-{pool['metadata']['name']}"
        if not _addressing_load_balancers_until(kubernetes, namespace, f"strimzipodset/{podset}"):
            conditions = _kafka_status(kubernetes, namespace, cluster["metadata"]["name"])
            pytest.fail(f"no StrimziPodSet {podset}: {conditions}\n{strimzi.log('cluster-operator')[-3000:]}")
    selector = f"strimzi.io/cluster={cluster['metadata']['name']},strimzi.io/kind=Kafka"
    expected = sum(pool["spec"]["replicas"] for pool in pools)
    pods: list[dict[str, Any]] = []
    for _ in range(60):
        pods = json.loads(kubernetes.kubectl("-n", namespace, "get", "pods", "-l", selector, "-o", "json"))[
            "items"
        ]
        if len(pods) == expected:
            break
        kubernetes.kubectl("-n", namespace, "wait", "--for=create", "pods", "-l", selector, "--timeout=5s")
    assert len(pods) == expected, f"{len(pods)} of {expected} broker and controller pods admitted"
    for condition in _kafka_status(kubernetes, namespace, cluster["metadata"]["name"]):
        assert condition.get("reason") != "InvalidResourceException", condition


# Documentation addresses (RFC 5737): what a cloud's load balancer controller would assign.
LOAD_BALANCER_ADDRESSES = ("203.0.113.10", "203.0.113.11", "203.0.113.12", "203.0.113.13")


def _addressing_load_balancers_until(kubernetes: LocalKubernetes, namespace: str, target: str) -> bool:
    """Wait for `target` to exist, giving each LoadBalancer Service an address meanwhile, as GKE's
    controller would: Strimzi waits for its listeners' addresses before it makes the brokers'
    pods (1.2.0 KafkaReconciler.java:268-273, KafkaListenersReconciler.java:132 and 391), and here
    no cloud answers."""
    for _ in range(36):
        services = json.loads(kubernetes.kubectl("-n", namespace, "get", "services", "-o", "json"))["items"]
        waiting = [
            svc["metadata"]["name"]
            for svc in services
            if svc["spec"]["type"] == "LoadBalancer"
            and not svc.get("status", {}).get("loadBalancer", {}).get("ingress")
        ]
        for index, name in enumerate(sorted(waiting)):
            address = LOAD_BALANCER_ADDRESSES[index % len(LOAD_BALANCER_ADDRESSES)]
            status = {"status": {"loadBalancer": {"ingress": [{"ip": address}]}}}
            kubernetes.kubectl(
                "-n",
                namespace,
                "patch",
                "service",
                name,
                "--subresource=status",
                "--type=merge",
                "-p",
                json.dumps(status),
            )
        if kubernetes.succeeds("-n", namespace, "wait", "--for=create", target, "--timeout=5s"):
            return True
    return False


def test_the_cluster_operator_refuses_a_listener_host_on_a_load_balancer(
    kubernetes: LocalKubernetes, strimzi: StrimziOperators
) -> None:
    """The check above can fail: the idf Kafka with `bootstrap.host` on its load-balancer listener
    (what the first review found) is refused, and the operator says why in its status."""
    (cluster,) = objects("Kafka")
    broken = copy.deepcopy(cluster)
    name = "host-on-loadbalancer"
    broken["metadata"]["name"] = name
    (listener,) = (lst for lst in broken["spec"]["kafka"]["listeners"] if lst["type"] == "loadbalancer")
    listener.setdefault("configuration", {}).setdefault("bootstrap", {})["host"] = "alert-stream.example.org"
    pools = copy.deepcopy(objects("KafkaNodePool"))
    for pool in pools:
        pool["metadata"]["labels"]["strimzi.io/cluster"] = name
    kubernetes.apply(broken, *pools, server_side=True)
    query = '--for=jsonpath={.status.conditions[?(@.type=="NotReady")].reason}=InvalidResourceException'
    assert kubernetes.succeeds("-n", strimzi.namespace, "wait", query, f"kafka/{name}", WAIT), _kafka_status(
        kubernetes, strimzi.namespace, name
    )
    (refusal,) = (c for c in _kafka_status(kubernetes, strimzi.namespace, name) if c["type"] == "NotReady")
    assert "cannot configure bootstrap.host" in refusal["message"]


def test_the_topic_operator_makes_every_topic_as_declared(
    kubernetes: LocalKubernetes, strimzi: StrimziOperators
) -> None:
    topics = objects("KafkaTopic")
    kubernetes.apply(*topics, server_side=True)
    for topic in topics:
        name = topic["metadata"]["name"]
        assert kubernetes.succeeds(
            "-n", strimzi.namespace, "wait", "--for=condition=Ready", f"kafkatopic/{name}", WAIT
        ), kubernetes.kubectl("-n", strimzi.namespace, "get", "kafkatopic", name, "-o", "jsonpath={.status}")
    metadata = _admin(strimzi.kafka).list_topics(timeout=10)
    for topic in topics:
        made = metadata.topics[topic["spec"]["topicName"]]
        assert len(made.partitions) == topic["spec"]["partitions"]
        assert {len(p.replicas) for p in made.partitions.values()} == {topic["spec"]["replicas"]}


def test_each_broker_logs_in_with_what_the_user_operator_wrote_and_only_reads(
    kubernetes: LocalKubernetes, strimzi: StrimziOperators
) -> None:
    """Every KafkaUser becomes Ready with a Secret holding the password the stack gave it; each
    broker reads the alert topic with it, in a group of its own prefix, and may neither write nor
    use another broker's group."""
    topics = objects("KafkaTopic")
    kubernetes.apply(*topics, server_side=True)
    passwords = [o for o in objects("Secret") if o["metadata"]["name"].endswith("-scram-password")]
    users = objects("KafkaUser")
    kubernetes.apply(*passwords, *users, server_side=True)
    namespace = strimzi.namespace
    for user in users:
        name = user["metadata"]["name"]
        assert kubernetes.succeeds(
            "-n", namespace, "wait", "--for=condition=Ready", f"kafkauser/{name}", WAIT
        ), kubernetes.kubectl("-n", namespace, "get", "kafkauser", name, "-o", "jsonpath={.status}")
    alerts = next(t["spec"]["topicName"] for t in topics if t["spec"]["topicName"].startswith("lsst-alerts"))
    brokers = [u for u in users if _reads(u, alerts)]
    assert len(brokers) >= 7, [u["metadata"]["name"] for u in brokers]
    for user in brokers:
        name = user["metadata"]["name"]
        written = json.loads(kubernetes.kubectl("-n", namespace, "get", "secret", name, "-o", "json"))["data"]
        password = base64.b64decode(written["password"]).decode()
        ref = user["spec"]["authentication"]["password"]["valueFrom"]["secretKeyRef"]
        (given,) = (s for s in passwords if s["metadata"]["name"] == ref["name"])
        assert password == _secret_value(given, ref["key"])
        login = {**_sasl(strimzi.kafka, name, password)}
        _consume(login, alerts, group=f"{name}-postdeploy")
        with pytest.raises(KafkaException, match=r"GROUP_AUTHORIZATION_FAILED|Group authorization"):
            _consume(login, alerts, group=f"not-{name}")
        _refused_write(login, alerts)


def _reads(user: dict[str, Any], topic: str) -> bool:
    acls = user["spec"].get("authorization", {}).get("acls", [])
    return any(a["resource"].get("name") == topic and "Read" in a["operations"] for a in acls) and not any(
        "Write" in a["operations"] for a in acls
    )


def _secret_value(secret: dict[str, Any], key: str) -> str:
    if key in secret.get("stringData", {}):
        return str(secret["stringData"][key])
    return base64.b64decode(secret["data"][key]).decode()


def _sasl(access: KafkaAccess, username: str, password: str) -> dict[str, str | int | float | bool]:
    return {
        "bootstrap.servers": access.bootstrap,
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": username,
        "sasl.password": password,
    }


def _admin(access: KafkaAccess) -> AdminClient:
    return AdminClient(_sasl(access, access.username, access.password.get_secret_value()))


def _consume(login: dict[str, str | int | float | bool], topic: str, group: str) -> None:
    """Join `group` on `topic` and poll until assigned; raise what the broker refused."""
    consumer = Consumer(
        {**login, "group.id": group, "auto.offset.reset": "earliest", "enable.auto.commit": False}
    )
    try:
        consumer.subscribe([topic])
        for _ in range(40):
            message = consumer.poll(0.5)
            if message is not None and message.error() is not None:
                raise KafkaException(message.error())
            if consumer.assignment():
                return
        raise AssertionError(f"{login['sasl.username']}: no partition of {topic} assigned in group {group}")
    finally:
        consumer.close()


def _refused_write(login: dict[str, str | int | float | bool], topic: str) -> None:
    errors: list[KafkaError | None] = []
    producer = Producer({**login, "message.timeout.ms": 10000})
    producer.produce(topic, value=uuid.uuid4().bytes, on_delivery=lambda err, _msg: errors.append(err))
    producer.flush(15)
    (error,) = errors
    assert error is not None, f"{login['sasl.username']} wrote to {topic}"
    assert error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED, error
