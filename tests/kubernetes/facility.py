"""What the Kubernetes tier's real deploys share: the stand-in for what a facility's cloud does,
and a broker's login, reads and refused writes on the operators' Kafka."""

from __future__ import annotations

import json
import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient
from pydantic import SecretStr

from localfacility import kafka
from localfacility.credentials import KAFKA_ADMIN_USER, FacilityCredentials
from localfacility.install import install_maven_tool
from localfacility.kubernetes import KubectlError, LocalKubernetes
from localfacility.process import Supervisor
from localfacility.settings import three_kafka_nodes
from localfacility.strimzi import KafkaAccess


@contextmanager
def operators_own_kafka(run_dir: Path) -> Iterator[KafkaAccess]:
    """Three KRaft nodes, empty, in `run_dir`, for one set of Strimzi's user and topic operators:
    their user operator deletes every principal it does not own but the super users, so two sets
    never share a Kafka, and none runs against the local facility's."""
    own = three_kafka_nodes(run_dir, heap="384m", tls=False)
    shutil.rmtree(own.run_dir, ignore_errors=True)
    install_maven_tool(own, "kafka")
    credentials = FacilityCredentials.load_or_create(own.secrets_file)
    kafka.write_config(own, credentials)
    kafka.format_storage(own, credentials)
    supervisor = Supervisor(pid_dir=own.pid_dir, log_dir=own.log_dir)
    nodes = kafka.node_specs(own, credentials)
    try:
        for node in nodes:
            supervisor.launch(node)
        for node in nodes:
            supervisor.start(node)
        yield KafkaAccess(
            ports=tuple(node.external_port for node in kafka.kafka_nodes(own)),
            username=KAFKA_ADMIN_USER,
            password=SecretStr(credentials.kafka_admin_password.get_secret_value()),
        )
    finally:  # all at once: the last of three KRaft controllers cannot shut down alone
        with ThreadPoolExecutor(len(nodes)) as stopping:
            list(stopping.map(supervisor.stop, nodes))


# Documentation addresses (RFC 5737), as a cloud's load balancer controller would assign them.
ADDRESS = "203.0.113.20"


class Cloud(threading.Thread):
    """What the facility's cloud and its running brokers do that nothing here does, every second:
    GKE's controllers give each LoadBalancer Service and Ingress an address (the provider waits for
    one; Strimzi waits for its listeners' addresses before it makes the brokers' pods: 1.2.0
    KafkaReconciler.java:268-273, KafkaListenersReconciler.java:132 and 391), and Strimzi's cluster
    operator marks the stack's Kafka Ready once its brokers answer (no broker runs here: pods are
    KWOK's). The stand-in marks it Ready only once the cluster operator has made a StrimziPodSet for
    every node pool, which it does only past its validation of the Kafka and the pools: a Kafka it
    refuses is never Ready, and `up` fails on it."""

    def __init__(self, kubernetes: LocalKubernetes, namespace: str, kafka: str) -> None:
        super().__init__(daemon=True)
        self.kubernetes = kubernetes
        self.namespace = namespace
        self.kafka = kafka
        self.stopped = threading.Event()
        self.errors: list[str] = []

    def run(self) -> None:
        while not self.stopped.wait(1.0):
            try:
                self._address("services", lambda o: o["spec"].get("type") == "LoadBalancer")
                self._address("ingresses", lambda o: True)
                self._kafka_ready()
            except (KubectlError, json.JSONDecodeError) as error:  # said at the end, tried again meanwhile
                self.errors.append(str(error))

    def _items(self, kind: str, *selector: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = json.loads(
            self.kubernetes.kubectl("-n", self.namespace, "get", kind, *selector, "-o", "json")
        )["items"]
        return items

    def _patch_status(self, kind: str, name: str, status: dict[str, Any]) -> None:
        patch = ("--subresource=status", "--type=merge", "-p", json.dumps({"status": status}))
        self.kubernetes.kubectl("-n", self.namespace, "patch", kind, name, *patch)

    def _address(self, kind: str, wanted: Callable[[dict[str, Any]], bool]) -> None:
        for item in self._items(kind):
            if wanted(item) and not item.get("status", {}).get("loadBalancer", {}).get("ingress"):
                self._patch_status(
                    kind, item["metadata"]["name"], {"loadBalancer": {"ingress": [{"ip": ADDRESS}]}}
                )

    def _kafka_ready(self) -> None:
        kafkas = [k for k in self._items("kafkas") if k["metadata"]["name"] == self.kafka]
        conditions = kafkas[0].get("status", {}).get("conditions", []) if kafkas else []
        if not kafkas or any(c["type"] == "Ready" and c["status"] == "True" for c in conditions):
            return
        pools = {
            p["metadata"]["name"]
            for p in self._items("kafkanodepools", "-l", f"strimzi.io/cluster={self.kafka}")
        }
        podsets = {p["metadata"]["name"] for p in self._items("strimzipodsets")}
        if not pools or not {f"{self.kafka}-{pool}" for pool in pools} <= podsets:
            return
        ready = {"type": "Ready", "status": "True", "reason": "StandIn", "message": "the test's stand-in"}
        self._patch_status(
            "kafka",
            self.kafka,
            {"observedGeneration": kafkas[0]["metadata"]["generation"], "conditions": [ready]},
        )


def live(
    kubernetes: LocalKubernetes, namespace: str, kind: str, name: str, managed_fields: bool = False
) -> dict[str, Any]:
    """The object as the API server holds it; with its managedFields if asked (kubectl leaves
    them out otherwise)."""
    shown = ["--show-managed-fields"] if managed_fields else []
    found: dict[str, Any] = json.loads(
        kubernetes.kubectl("-n", namespace, "get", kind, name, "-o", "json", *shown)
    )
    return found


def sasl(access: KafkaAccess, username: str, password: str) -> dict[str, str | int | float | bool]:
    return {
        "bootstrap.servers": access.bootstrap,
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": username,
        "sasl.password": password,
    }


def admin(access: KafkaAccess) -> AdminClient:
    return AdminClient(sasl(access, access.username, access.password.get_secret_value()))


def consume(login: dict[str, str | int | float | bool], topic: str, group: str) -> None:
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


def refused_write(login: dict[str, str | int | float | bool], topic: str) -> None:
    errors: list[KafkaError | None] = []
    producer = Producer({**login, "message.timeout.ms": 10000})
    producer.produce(topic, value=uuid.uuid4().bytes, on_delivery=lambda err, _msg: errors.append(err))
    producer.flush(15)
    (error,) = errors
    assert error is not None, f"{login['sasl.username']} wrote to {topic}"
    assert error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED, error
