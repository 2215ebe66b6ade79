"""A visit end to end: seven broker reader processes, the archive's lag, CPU and memory sampled."""

from __future__ import annotations

import multiprocessing
import os
import statistics
import threading
import time
from typing import Any

import psutil
from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import AdminClient

from benchmarks.figures import VisitResult
from benchmarks.harness import Local
from localfacility.services import ArchiveServices
from services.common import logs
from services.common.offsets import topic_end_offsets
from services.common.wire import PRODUCER_TIMESTAMP_HEADER, decode
from services.producer.alerts import AlertFactory
from services.producer.producer import AlertProducer


def _broker(args: tuple[dict[str, str], str, dict[int, int], int, int, bool, Any, Any]) -> None:
    """One broker identity in its own process: read the visit, note each latency. Decoding, it
    counts the visit's alerts by diaSourceId; fetching only (as a remote broker loads Kafka), it
    counts every message after the start offsets, which during a benchmark are the visit's."""
    config, topic, start, first_id, count, decoding, ready, results = args
    schema = AlertFactory.from_package().parsed_schema
    consumer = Consumer({**config, "enable.auto.commit": False, "fetch.max.bytes": 64 * 1024 * 1024})
    consumer.assign([TopicPartition(topic, p, offset) for p, offset in start.items()])
    consumer.consume(1, timeout=1.0)
    ready.set()
    latencies: list[float] = []
    deadline = time.time() + 600
    while len(latencies) < count and time.time() < deadline:
        for message in consumer.consume(500, timeout=0.5):
            if message.error() is not None:
                continue
            arrived = time.time() * 1000
            if (
                not decoding
                or first_id <= decode(message.value() or b"", schema)["diaSourceId"] < first_id + count
            ):
                sent = int(dict(message.headers() or [])[PRODUCER_TIMESTAMP_HEADER] or 0)
                latencies.append(arrived - sent)
    consumer.close()
    results.put((config["sasl.username"], time.time(), latencies))


class Sampler(threading.Thread):
    """CPU and memory of named processes, every half second."""

    def __init__(self, pids: dict[str, int]) -> None:
        super().__init__(daemon=True)
        self.processes = {name: psutil.Process(pid) for name, pid in pids.items()}
        self.samples: dict[str, list[tuple[float, float]]] = {name: [] for name in pids}
        self.stop = threading.Event()

    def run(self) -> None:
        for process in self.processes.values():
            process.cpu_percent()
        while not self.stop.wait(0.5):
            for name, process in self.processes.items():
                try:
                    tree = [process, *process.children(recursive=True)]
                    cpu = sum(p.cpu_percent() for p in tree)
                    rss = sum(p.memory_info().rss for p in tree) / 2**20
                except psutil.Error:
                    continue
                self.samples[name].append((cpu, rss))

    def summary(self) -> dict[str, dict[str, float]]:
        return {
            name: {
                "cpu_percent_mean": statistics.mean(c for c, _ in rows),
                "cpu_percent_max": max(c for c, _ in rows),
                "rss_mib_max": max(r for _, r in rows),
            }
            for name, rows in self.samples.items()
            if rows
        }


QUIET = logs.silent("benchmarks.kafka")


def _end_offsets(config: dict[str, Any], topic: str) -> dict[int, int]:
    consumer = Consumer({**config, "group.id": "benchmark-offsets"}, logger=QUIET)
    try:
        return topic_end_offsets(consumer, topic)
    finally:
        consumer.close()


class LagSampler(threading.Thread):
    """How many alerts of the topic an archive ingester (the stack's by default) has not committed
    yet, twice a second from the start of the visit: the topic's current end against its commits."""

    def __init__(
        self, admin_config: dict[str, Any], topic: str, began: float, group: str = "archive-ingester"
    ) -> None:
        super().__init__(daemon=True)
        self.admin_config, self.topic, self.began, self.group = admin_config, topic, began, group
        self.samples: list[tuple[float, int]] = []
        self.stop = threading.Event()

    def _lag(self, consumer: Consumer, admin: AdminClient) -> int:
        end = topic_end_offsets(consumer, self.topic)
        futures = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(self.group)])
        committed = {
            tp.partition: tp.offset
            for tp in next(iter(futures.values())).result(timeout=30).topic_partitions
            if tp.topic == self.topic
        }
        return sum(max(0, high - committed.get(p, 0)) for p, high in end.items())

    def run(self) -> None:
        consumer = Consumer({**self.admin_config, "group.id": "benchmark-offsets"}, logger=QUIET)
        admin = AdminClient(self.admin_config, logger=QUIET)
        try:
            while not self.stop.is_set():
                self.samples.append((time.time() - self.began, self._lag(consumer, admin)))
                self.stop.wait(0.5)
        finally:
            consumer.close()

    def caught_up_after(self, seconds: float) -> float | None:
        """When the first sample taken after `seconds` into the visit found no lag."""
        return next((t for t, lag in list(self.samples) if t >= seconds and lag == 0), None)


def visit_end_to_end(local: Local, count: int, factory: AlertFactory, decoding: bool) -> VisitResult:
    outputs = local.outputs
    topic = outputs.alert_topics[0]
    brokers = outputs.users_with_role("community-broker")
    start = _end_offsets(local.admin_config, topic)
    first_id = time.time_ns() // 1000
    context = multiprocessing.get_context("spawn")
    ready = [context.Event() for _ in brokers]
    results: Any = context.Queue()
    processes = []
    for user, event in zip(brokers, ready, strict=True):
        config = {**local.outputs.kafka_settings(user).client_config(), "group.id": f"{user}-benchmark"}
        process = context.Process(
            target=_broker, args=((config, topic, start, first_id, count, decoding, event, results),)
        )
        process.start()
        processes.append(process)
    for event in ready:
        event.wait(60)
    pids = {
        **local.service_pids(),
        **{f"broker-{u}": p.pid for u, p in zip(brokers, processes, strict=True) if p.pid},
    }
    pids["producer (this process)"] = os.getpid()
    sampler = Sampler(pids)
    sampler.start()
    producer = AlertProducer(
        local.outputs.kafka_settings(outputs.users_with_role("producer")[0]), topic, factory
    )
    began = time.time()
    lag = LagSampler(local.admin_config, topic, began)
    lag.start()
    report = producer.produce_visit(0, first_id, count)
    produced = time.time() - began
    archived = None
    while archived is None and time.time() - began < 900:
        archived = lag.caught_up_after(produced)
        time.sleep(0.2)
    lag.stop.set()
    lag.join()
    finished = [results.get(timeout=900) for _ in brokers]
    for process in processes:
        process.join(60)
    sampler.stop.set()
    sampler.join()
    latencies = [ms for _, _, rows in finished for ms in rows]
    if len(latencies) != 7 * count:
        raise RuntimeError(f"only {len(latencies)} of {7 * count} deliveries arrived")
    return VisitResult(
        alerts=count,
        first_id=first_id,
        produce_seconds=report.seconds,
        delivered_seconds=max(t for _, t, _ in finished) - began,
        archived_seconds=archived if archived is not None else time.time() - began,
        latencies_ms=latencies,
        lag_series=lag.samples,
        resources=sampler.summary(),
        mean_alert_bytes=report.bytes / count,
    )


def archive_a_visit(local: Local, count: int, factory: AlertFactory) -> list[int]:
    """Produce a visit of `count` alerts and wait until the archive ingester has committed it;
    the visit's diaSourceIds."""
    topic = local.outputs.alert_topics[0]
    producer = AlertProducer(
        local.outputs.kafka_settings(local.outputs.users_with_role("producer")[0]), topic, factory
    )
    first_id = time.time_ns() // 1000
    began = time.time()
    lag = LagSampler(local.admin_config, topic, began)
    lag.start()
    producer.produce_visit(0, first_id, count)
    produced = time.time() - began
    while lag.caught_up_after(produced) is None and time.time() - began < 900:
        time.sleep(0.2)
    lag.stop.set()
    lag.join()
    return list(range(first_id, first_id + count))


def ingester_draining(local: Local, services: ArchiveServices) -> dict[str, float]:
    """Start `services`' ingester, a consumer group of its own, on the alert topic's backlog and
    wait until it has committed all of it: its CPU per alert archived, counted from its first
    archived batch (start-up left out), and the most memory it held."""
    topic = local.outputs.alert_topics[0]
    services.metrics_file.unlink(missing_ok=True)  # a run before this one's figures
    process = psutil.Process(local.facility.supervisor.start(services.ingester_spec())[0])
    lag = LagSampler(local.admin_config, topic, time.time(), group=services.ingester_name)
    lag.start()
    first: tuple[float, float] | None = None  # alerts archived and CPU seconds at the first batch
    rss = 0
    deadline = time.time() + 900
    try:
        while True:
            alerts = services.ingester_metrics().get("alertdist_archive_alerts_total", 0.0)
            cpu = sum(process.cpu_times()[:2])
            rss = max(rss, process.memory_info().rss)
            if first is None and alerts > 0:
                first = (alerts, cpu)
            if first is not None and lag.samples and lag.samples[-1][1] == 0:
                break
            if time.time() > deadline:
                raise RuntimeError(f"{services.ingester_name} did not drain {topic} in 900 s")
            time.sleep(0.5)
    finally:
        lag.stop.set()
        lag.join()
    assert first is not None
    return {
        "alerts": alerts - first[0],
        "cpu_ms_per_alert": (cpu - first[1]) / (alerts - first[0]) * 1000,
        "rss_mib_max": rss / 2**20,
    }
