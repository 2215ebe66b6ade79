"""Faults on three replicated KRaft nodes, as the facilities run Kafka (RF 3, min ISR 2).

The module starts a facility of its own beside the session's (`kafka_nodes=3`, its own ports,
data and credentials), deploys the local stack on it with the real engine, and starts its
archive. Each test streams a visit while nodes die or restart, and counts every alert by
diaSourceId at two broker readers and in the archive: lost 0. Figures (longest delivery gap,
duplicates, how long writes waited, each node's memory) go to .run/reports/kafka-cluster.json;
none is asserted.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import psutil
import pytest
from confluent_kafka import KafkaError, Message, Producer

from localfacility.deploy import LocalDeployment
from localfacility.facility import LocalFacility
from localfacility.kafka import kafka_nodes, log_dir, server_log
from localfacility.ports import free_port
from localfacility.process import ServiceSpec
from localfacility.services import ArchiveServices
from localfacility.settings import FacilitySettings, three_kafka_nodes
from services.producer.producer import producer_config

from .kafka_helpers import QUIET, admin, delete_groups
from .test_archive import FACTORY, TOPIC
from .test_faults import Reader, archived, small_filesystem, wait_until
from .test_services import kafka_settings

READERS = ("alerce-local", "lasair-local")
# The waits the node-by-node tests are built of, in seconds; their pytest budgets add them up, so a
# slow box fails on a wait that says what it waited for, never on pytest's timeout first.
STREAM_UNDER_WAY_S = 60
NODE_STOP_S = 60  # Supervisor.stop: SIGTERM, a controlled shutdown, then SIGKILL
NODE_START_S = 120  # the Kafka node's ServiceSpec.start_timeout (localfacility/kafka.py)
IN_SYNC_S = 180
PRODUCER_FLUSH_S = 330
READ_S = 180  # each reader, then the archive, holding the whole visit
ROLLING_RESTART_BUDGET_S = (
    STREAM_UNDER_WAY_S
    + 3 * (NODE_STOP_S + NODE_START_S + IN_SYNC_S)
    + 2
    + PRODUCER_FLUSH_S
    + (len(READERS) + 1) * READ_S
)
REPORT = FacilitySettings().run_dir.parent / "reports" / "kafka-cluster.json"


def cluster_settings() -> FacilitySettings:
    """Three nodes on one block of free ports, the rest on free ports of their own."""
    ports = {
        name: free_port()
        for name in FacilitySettings.model_fields
        if name.endswith("_port") and not name.startswith("kafka_")
    }
    run_dir = FacilitySettings().run_dir.parent / "kafka-cluster"
    return three_kafka_nodes(run_dir, heap="512m", tls=True, **ports)


@dataclass
class Cluster:
    """The three-node facility, its deployed stack's outputs and its archive."""

    facility: LocalFacility
    outputs: dict[str, Any]
    archive: ArchiveServices
    figures: dict[str, Any] = field(default_factory=dict)

    def node(self, node_id: int) -> ServiceSpec:
        return next(spec for spec in self.facility.specs() if spec.name == f"kafka-{node_id}")

    def kill(self, node_id: int) -> None:
        pid = self.facility.supervisor.running_pid(self.node(node_id))
        assert pid is not None, f"kafka-{node_id} is not running"
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: self.facility.supervisor.running_pid(self.node(node_id)) is None, 30, "it died")

    def start(self, node_id: int) -> None:
        self.facility.supervisor.start(self.node(node_id))

    def leader_of(self, topic: str, partition: int) -> int:
        metadata = admin(self.facility).list_topics(topic, timeout=10)
        leader: int = metadata.topics[topic].partitions[partition].leader
        return leader

    def under_replicated(self) -> list[str]:
        """Partitions whose in-sync replicas are fewer than their replicas."""
        metadata = admin(self.facility).list_topics(timeout=10)
        return [
            f"{name}[{p.id}]"
            for name, topic in metadata.topics.items()
            for p in topic.partitions.values()
            if len(p.isrs) < len(p.replicas)
        ]

    def wait_in_sync(self, timeout: float = IN_SYNC_S) -> None:
        wait_until(lambda: not self.under_replicated(), timeout, "every replica is back in sync", 1)

    def stream(self, alerts: int, first_id: int, rate: int) -> subprocess.Popen[str]:
        """The producer's CLI, as the stack runs it, streaming one visit."""
        env = {
            **os.environ,
            "ALERTDIST_KAFKA_BOOTSTRAP": self.outputs["bootstrapServers"],
            "ALERTDIST_KAFKA_USERNAME": "alert-producer",
            "ALERTDIST_KAFKA_PASSWORD": self.outputs["passwords"]["alert-producer"],
        }
        argv = [sys.executable, "-m", "services.producer.cli", "--topic", TOPIC, "--rate", str(rate)]
        argv += ["--alerts-per-visit", str(alerts), "--first-id", str(first_id)]
        return subprocess.Popen(argv, env=env, stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    facility = LocalFacility(cluster_settings())
    facility.down(purge=True)
    started = time.monotonic()
    facility.up()
    up_seconds = time.monotonic() - started
    deployment = LocalDeployment(facility)
    deployment.up()
    archive = ArchiveServices(deployment, backend="s3")
    archive.up()
    outputs = json.loads(deployment.outputs_file.read_text())
    state = Cluster(facility, outputs, archive, {"facility_up_seconds": round(up_seconds, 1)})
    try:
        yield state
        state.figures["node_rss_mib_at_the_end"] = {
            spec.name: round(psutil.Process(pid).memory_info().rss / 2**20)
            for spec in facility.specs()
            if spec.name.startswith("kafka-") and (pid := facility.supervisor.running_pid(spec))
        }
    finally:
        archive.down()
        facility.down(purge=True)
        REPORT.parent.mkdir(parents=True, exist_ok=True)
        REPORT.write_text(json.dumps(state.figures, indent=2) + "\n")


@pytest.fixture
def readers(cluster: Cluster) -> Iterator[list[Reader]]:
    """Two brokers reading the alert topic from its current end, each in a group of its own."""
    started = [Reader(cluster.outputs, user, cluster.facility) for user in READERS]
    for reader in started:
        reader.start()
    yield started
    for reader in started:
        reader.stop.set()
        reader.join(timeout=30)
    delete_groups(cluster.facility, [reader.group for reader in started])


def delivery_figures(readers: list[Reader], ids: range) -> dict[str, Any]:
    """Lost and duplicated alerts per reader, and the longest pause between two arrivals."""
    figures: dict[str, Any] = {}
    for reader in readers:
        times = sorted(reader.arrivals[i] for i in ids if i in reader.arrivals)
        figures[reader.group.split("-faults-")[0]] = {
            "lost": len(set(ids) - reader.seen.keys()),
            "duplicates": sum(n - 1 for i, n in reader.seen.items() if i in ids),
            "longest_gap_seconds": round(max(b - a for a, b in itertools.pairwise(times)), 2),
        }
    return figures


def assert_nothing_lost(cluster: Cluster, readers: list[Reader], ids: range) -> None:
    for reader in readers:
        wait_until(lambda r=reader: set(ids) <= r.seen.keys(), READ_S, f"{reader.group} read the visit")
    store = cluster.archive.store()
    wait_until(lambda: archived(store, ids) == set(ids), READ_S, "the archive holds the visit", 2)


def test_one_node_killed_mid_visit_the_visit_goes_on(cluster: Cluster, readers: list[Reader]) -> None:
    """SIGKILL the leader of a partition mid-visit: the producer and the readers carry on with
    two nodes, without a restart; the node rejoins afterwards and catches up."""
    alerts, first_id = 3_000, time.time_ns() // 1000
    ids = range(first_id, first_id + alerts)
    producer = cluster.stream(alerts, first_id, rate=300)
    victim = cluster.leader_of(TOPIC, 0)
    try:
        wait_until(lambda: readers[0].seen.total() > 600, 60, "the visit is under way")
        cluster.kill(victim)
        killed_at = readers[0].seen.total()
        _, errors = producer.communicate(timeout=240)
        assert producer.returncode == 0, errors[-2000:]
        assert killed_at < alerts, "the node was killed after the visit had been read"
        assert_nothing_lost(cluster, readers, ids)
    finally:
        if producer.poll() is None:
            producer.kill()
        cluster.start(victim)
    cluster.wait_in_sync()
    figures = delivery_figures(readers, ids)
    cluster.figures["one_node_killed"] = {"node": victim, "alerts": alerts, "readers": figures}
    assert {name: reader["lost"] for name, reader in figures.items()} == dict.fromkeys(figures, 0)


@dataclass
class AckedProducer:
    """The producer service's own settings, in this process, streaming consecutive diaSourceIds
    from `first_id` until `alerts` are sent or `stop` is set; notes when each alert is acked."""

    cluster: Cluster
    first_id: int
    sent: int = 0
    acked_at: list[float] = field(default_factory=list)
    errors: list[KafkaError] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    @property
    def ids(self) -> range:
        return range(self.first_id, self.first_id + self.sent)

    def on_delivery(self, error: KafkaError | None, _message: Message) -> None:
        if error is None:
            self.acked_at.append(time.monotonic())
        else:
            self.errors.append(error)

    def start(self, rate: float, alerts: int = 1_000_000) -> threading.Thread:
        config = producer_config(kafka_settings(self.cluster.outputs, "alert-producer"))
        producer = Producer(config, logger=QUIET)

        def run() -> None:
            started = time.monotonic()
            while self.sent < alerts and not self.stop.is_set():
                time.sleep(max(0.0, started + self.sent / rate - time.monotonic()))
                value = FACTORY.encoded(self.first_id + self.sent)
                producer.produce(TOPIC, value, on_delivery=self.on_delivery)
                producer.poll(0)
                self.sent += 1
            producer.flush(300)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread


def test_two_nodes_killed_writes_wait_and_resume_when_one_returns(
    cluster: Cluster, readers: list[Reader]
) -> None:
    """With two of three nodes dead, min ISR 2 cannot be met (nor a controller quorum): writes
    with acks=all are not acknowledged, only held. One node back, they complete; lost 0."""
    alerts = 2_000
    producer = AckedProducer(cluster, first_id=time.time_ns() // 1000)
    thread = producer.start(rate=200, alerts=alerts)
    try:
        wait_until(lambda: len(producer.acked_at) > 400, 60, "the visit is under way")
        cluster.kill(2)
        cluster.kill(3)
        killed = time.monotonic()
        time.sleep(20)
        returned = time.monotonic()
        acked_while_down = [t for t in producer.acked_at if killed + 5 < t < returned]
        assert acked_while_down == [], "alerts were acknowledged with one replica alive"
        cluster.start(2)
        thread.join(timeout=330)
        assert not thread.is_alive(), "the producer did not finish the visit"
        assert producer.errors == []
        assert len(producer.acked_at) == producer.sent == alerts
        assert_nothing_lost(cluster, readers, producer.ids)
    finally:
        for node_id in (2, 3):
            if cluster.facility.supervisor.running_pid(cluster.node(node_id)) is None:
                cluster.start(node_id)
    cluster.wait_in_sync()
    resumed = min(t for t in producer.acked_at if t > returned)
    cluster.figures["two_nodes_killed"] = {
        "alerts": alerts,
        "acked_before_the_kill": sum(1 for t in producer.acked_at if t <= killed),
        "seconds_down": round(returned - killed, 1),
        "first_ack_after_a_node_returned_seconds": round(resumed - returned, 1),
        "readers": delivery_figures(readers, producer.ids),
    }


@pytest.mark.timeout(ROLLING_RESTART_BUDGET_S)
def test_a_rolling_restart_of_all_three_nodes_loses_nothing(cluster: Cluster, readers: list[Reader]) -> None:
    """As operators upgrade: each node in turn stopped (controlled shutdown), started, and waited
    for until every replica is in sync, while alerts stream from before the first stop until
    after the last node is back. Usually a few minutes; its pytest budget is the sum of its own
    waits (ROLLING_RESTART_BUDGET_S, 2,012 s), so a slow box fails on the wait that ran out."""
    producer = AckedProducer(cluster, first_id=time.time_ns() // 1000)
    thread = producer.start(rate=100)
    restarts = {}
    try:
        wait_until(lambda: len(producer.acked_at) > 200, STREAM_UNDER_WAY_S, "the stream is under way")
        for node_id in (1, 2, 3):
            began = time.monotonic()
            cluster.facility.supervisor.stop(cluster.node(node_id))
            cluster.start(node_id)
            cluster.wait_in_sync()
            restarts[f"kafka-{node_id}"] = round(time.monotonic() - began, 1)
        time.sleep(2)
    finally:
        producer.stop.set()
        thread.join(timeout=PRODUCER_FLUSH_S)
    assert not thread.is_alive(), "the producer did not flush"
    assert producer.errors == []
    assert len(producer.acked_at) == producer.sent
    assert_nothing_lost(cluster, readers, producer.ids)
    cluster.figures["rolling_restart"] = {
        "alerts": producer.sent,
        "restart_seconds": restarts,
        "readers": delivery_figures(readers, producer.ids),
    }


def test_a_full_log_directory_takes_one_node_offline_and_the_other_two_carry_the_visit(
    cluster: Cluster, readers: list[Reader]
) -> None:
    """Node 3's log directory moves onto a tmpfs with 48 MB to spare, and a visit fills it. Kafka
    cannot write, so the node (one log directory, which also holds its metadata) shuts down; the
    other two carry every write (min ISR 2). Once the filesystem grows, the node restarts, catches
    up and is in sync again; lost 0 at both readers and in the archive."""
    node = next(n for n in kafka_nodes(cluster.facility.settings) if n.node_id == 3)
    spec, data = cluster.node(3), log_dir(cluster.facility.settings, node)
    cluster.facility.supervisor.stop(spec)
    on_disk = data.with_name(f"{data.name}.disk")
    data.rename(on_disk)
    used_mb = int(
        subprocess.run(["du", "-sm", str(on_disk)], capture_output=True, text=True).stdout.split()[0]
    )
    alerts = 3_000
    producer = AckedProducer(cluster, first_id=time.time_ns() // 1000)
    try:
        with small_filesystem(data, used_mb + 48):
            subprocess.run(["cp", "-a", f"{on_disk}/.", str(data)], check=True)
            cluster.start(3)
            cluster.wait_in_sync()
            thread = producer.start(rate=300, alerts=alerts)
            wait_until(lambda: cluster.facility.supervisor.running_pid(spec) is None, 60, "kafka-3 stops")
            stopped_after = len(producer.acked_at)
            log = server_log(cluster.facility.settings, node).read_text(errors="replace")
            assert "No space left on device" in log
            # The node's log directory holds its metadata log too: whichever write fails first stops it,
            # the log manager ("all log dirs ... have failed") or the KRaft IO thread ("fatal fault").
            stopped_by = ("Shutdown broker because all log dirs", "Encountered fatal fault")
            assert any(line in log for line in stopped_by)
            subprocess.run(["mount", "-o", f"remount,size={used_mb + 2048}m", str(data)], check=True)
            thread.join(timeout=330)
            assert not thread.is_alive(), "the producer did not finish the visit"
            assert producer.errors == []
            assert len(producer.acked_at) == producer.sent == alerts
            assert_nothing_lost(cluster, readers, producer.ids)
            began = time.monotonic()
            cluster.start(3)
            cluster.wait_in_sync()
            caught_up = time.monotonic() - began
            cluster.facility.supervisor.stop(spec)
            shutil.rmtree(on_disk)
            on_disk.mkdir()
            subprocess.run(["cp", "-a", f"{data}/.", str(on_disk)], check=True)
    finally:
        producer.stop.set()
        cluster.facility.supervisor.stop(spec)
        data.rmdir()
        on_disk.rename(data)
        cluster.start(3)
    cluster.wait_in_sync()
    cluster.figures["full_log_directory"] = {
        "alerts": alerts,
        "filesystem_mb": used_mb + 48,
        "acked_when_the_node_stopped": stopped_after,
        "restart_to_in_sync_seconds": round(caught_up, 1),
        "readers": delivery_figures(readers, producer.ids),
    }
