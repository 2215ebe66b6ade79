"""LSST-scale visits through the whole local system, measured against Kafka itself.

    scripts/benchmark            # full run: visits of 10,000 and 40,000 alerts
    scripts/benchmark --quick    # a smoke run: visits of 1,000 and 2,000

Needs the local facility up with the local stack deployed and the archive services running
(`scripts/run-local.sh` leaves it so). Writes benchmarks/results/<name>.json and PNG plots.
Timings are reported, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import re
import statistics
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]
from localfacility.deploy import LocalDeployment
from localfacility.facility import LocalFacility
from localfacility.kafka import admin_client_config, java_argv
from localfacility.services import ArchiveServices
from localfacility.settings import FacilitySettings

from infra.outputs import StackOutputs
from services.common import logs
from services.common.offsets import topic_end_offsets
from services.common.settings import KafkaSettings
from services.common.wire import PRODUCER_TIMESTAMP_HEADER, decode
from services.producer.alerts import AlertFactory
from services.producer.producer import AlertProducer, producer_config

RESULTS = Path(__file__).parent / "results"
BENCH_TOPIC = "benchmark-producer"


@dataclass
class Local:
    """Handles on the running local system."""

    facility: LocalFacility
    outputs: StackOutputs
    admin_config: dict[str, Any]

    @classmethod
    def attach(cls) -> Local:
        facility = LocalFacility(FacilitySettings())
        if not facility.is_up():
            raise SystemExit("the local facility is not up: run scripts/run-local.sh first")
        deployment = LocalDeployment(facility)
        return cls(
            facility,
            StackOutputs.from_file(deployment.outputs_file),
            admin_client_config(facility.settings, facility.credentials),
        )

    def service_pids(self) -> dict[str, int]:
        supervisor = self.facility.supervisor
        specs = [*self.facility.specs(), *ArchiveServices(LocalDeployment(self.facility)).specs()]
        return {spec.name: pid for spec in specs if (pid := supervisor.running_pid(spec)) is not None}


# -- producer against kafka-producer-perf-test -------------------------------------------------
def _kafka_tool(local: Local, records: int, record_size: int) -> dict[str, float]:
    """Kafka's own producer benchmark, same broker, topic, record size, acks and batching."""
    ours = producer_config(local.outputs.kafka_settings(local.outputs.users_with_role("producer")[0]))
    settings = local.facility.settings
    creds = local.facility.credentials
    with tempfile.NamedTemporaryFile("w", suffix=".properties", delete=False) as handle:
        os.chmod(handle.name, 0o600)
        handle.write(
            "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-512\n"
            "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
            f'username="admin" password="{creds.kafka_admin_password.get_secret_value()}";\n'
        )
    try:
        argv = java_argv(
            settings,
            "org.apache.kafka.tools.ProducerPerformance",
            "--bootstrap-server",
            local.outputs.bootstrap_servers,
            "--topic",
            BENCH_TOPIC,
            "--num-records",
            str(records),
            "--record-size",
            str(record_size),
            "--throughput",
            "-1",
            "--command-config",
            handle.name,
            "--command-property",
            "acks=all",
            "enable.idempotence=true",
            f"compression.type={ours['compression.type']}",
            f"linger.ms={ours['linger.ms']}",
            f"batch.size={ours['batch.size']}",
            f"max.request.size={ours['message.max.bytes']}",
            "buffer.memory=268435456",  # a quarter of the tool's 1 GiB heap
        )
        run = subprocess.run(argv, capture_output=True, text=True, timeout=900, check=False)
        if run.returncode != 0:
            raise RuntimeError(f"kafka-producer-perf-test failed: {(run.stdout + run.stderr)[-2000:]}")
    finally:
        os.unlink(handle.name)
    summary = [line for line in run.stdout.splitlines() if "records sent" in line][-1]
    match = re.search(r"records sent, ([\d.]+) records/sec \(([\d.]+) MB/sec\)", summary)
    if match is None:
        raise RuntimeError(f"unexpected kafka-producer-perf-test output: {summary}")
    return {"alerts_per_s": float(match[1]), "mb_per_s": float(match[2])}


def producer_vs_kafka(
    local: Local, sizes: list[int], repeats: dict[int, int], factory: AlertFactory
) -> dict[str, Any]:
    admin = AdminClient(local.admin_config)
    topic = local.outputs.topics[local.outputs.alert_topics[0]]
    config = {
        "max.message.bytes": str(topic.max_message_bytes),
        "retention.bytes": str(512 * 1024 * 1024),
        "segment.bytes": str(64 * 1024 * 1024),
        "message.timestamp.type": topic.timestamp_type,
    }
    admin.create_topics([NewTopic(BENCH_TOPIC, topic.partitions, 1, config=config)])[BENCH_TOPIC].result()
    record_size = round(statistics.mean(len(factory.encoded(10**12 + i)) for i in range(50)))
    results: dict[str, Any] = {"record_size_bytes": record_size, "visits": {}}
    try:
        # The producer's own user may write only the alert topics; the bench topic uses the admin.
        kafka = KafkaSettings(
            bootstrap=local.outputs.bootstrap_servers,
            username="admin",
            password=local.facility.credentials.kafka_admin_password.get_secret_value(),
        )
        producer = AlertProducer(kafka, BENCH_TOPIC, factory)
        for size in sizes:
            ours, theirs = [], []
            for _ in range(repeats[size]):
                report = producer.produce_visit(0, time.time_ns() // 1000, size)
                ours.append({"alerts_per_s": report.rate, "mb_per_s": report.bytes / 1e6 / report.seconds})
                theirs.append(_kafka_tool(local, size, record_size))
                rates = (ours[-1]["alerts_per_s"], theirs[-1]["alerts_per_s"])
                print(f"  producer {size}: ours {rates[0]:.0f}/s, kafka {rates[1]:.0f}/s", flush=True)
            results["visits"][str(size)] = {
                "ours": _stats(ours),
                "kafka_producer_perf_test": _stats(theirs),
                "ratio": statistics.mean(r["alerts_per_s"] for r in ours)
                / statistics.mean(r["alerts_per_s"] for r in theirs),
            }
    finally:
        admin.delete_topics([BENCH_TOPIC])[BENCH_TOPIC].result()
    return results


def _stats(runs: list[dict[str, float]]) -> dict[str, Any]:
    return {
        key: {
            "mean": statistics.mean(r[key] for r in runs),
            "stdev": statistics.stdev(r[key] for r in runs) if len(runs) > 1 else 0.0,
            "runs": [r[key] for r in runs],
        }
        for key in runs[0]
    }


def visit_stats(summaries: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean and sd over repeated visits of each figure (latency percentiles flattened)."""
    flat = [
        {
            **{k: v for k, v in summary.items() if isinstance(v, int | float)},
            **{f"latency_{q}_ms": ms for q, ms in summary["latency_ms"].items()},
        }
        for summary in summaries
    ]
    return _stats(flat)


# -- a visit end to end: seven brokers, the archive ---------------------------------------------
def _broker(args: tuple[dict[str, str], str, dict[int, int], int, int, Any, Any]) -> None:
    """One broker identity in its own process: read and decode the visit, note each latency."""
    config, topic, start, first_id, count, ready, results = args
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
            alert = decode(message.value() or b"", schema)
            if first_id <= alert["diaSourceId"] < first_id + count:
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
    """How many alerts of the topic the archive ingester has not committed yet, twice a second
    from the start of the visit: the topic's current end against the ingester's commits."""

    def __init__(self, admin_config: dict[str, Any], topic: str, began: float) -> None:
        super().__init__(daemon=True)
        self.admin_config, self.topic, self.began = admin_config, topic, began
        self.samples: list[tuple[float, int]] = []
        self.stop = threading.Event()

    def _lag(self, consumer: Consumer, admin: AdminClient) -> int:
        end = topic_end_offsets(consumer, self.topic)
        futures = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions("archive-ingester")])
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


def percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class VisitResult:
    alerts: int
    first_id: int
    produce_seconds: float
    delivered_seconds: float
    archived_seconds: float
    latencies_ms: list[float] = field(repr=False)
    lag_series: list[tuple[float, int]] = field(repr=False)
    resources: dict[str, dict[str, float]]
    mean_alert_bytes: float

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies_ms)
        megabytes = self.alerts * self.mean_alert_bytes / 1e6
        return {
            "alerts": self.alerts,
            "deliveries": len(ordered),
            "produce_seconds": self.produce_seconds,
            "producer_alerts_per_s": self.alerts / self.produce_seconds,
            "delivered_to_all_seven_seconds": self.delivered_seconds,
            "fan_out_mb_per_s": 7 * megabytes / self.delivered_seconds,
            "latency_ms": {
                "p50": percentile(ordered, 0.5),
                "p98": percentile(ordered, 0.98),
                "p99": percentile(ordered, 0.99),
                "max": ordered[-1],
            },
            "archived_seconds": self.archived_seconds,
            "archive_alerts_per_s": self.alerts / self.archived_seconds,
            "archive_max_lag_alerts": max(lag for _, lag in self.lag_series),
            "visit_done_seconds": max(self.delivered_seconds, self.archived_seconds),
            "resources": self.resources,
        }


def visit_end_to_end(local: Local, count: int, factory: AlertFactory) -> VisitResult:
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
            target=_broker, args=((config, topic, start, first_id, count, event, results),)
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


# -- the archive server under concurrent load -------------------------------------------------
async def _load(url: str, paths: list[str], concurrency: int) -> list[float]:
    latencies: list[float] = []
    queue: asyncio.Queue[str] = asyncio.Queue()
    for path in paths:
        queue.put_nowait(path)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:

        async def worker() -> None:
            while not queue.empty():
                path = queue.get_nowait()
                started = time.perf_counter()
                response = await client.get(path, headers={"Accept-Encoding": "gzip"})
                response.raise_for_status()
                latencies.append((time.perf_counter() - started) * 1000)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


def archive_server(local: Local, ids: list[int], concurrency: int, requests: int) -> dict[str, Any]:
    paths = [f"/v1/alerts/{ids[i % len(ids)]}" for i in range(requests)]
    began = time.perf_counter()
    latencies = sorted(asyncio.run(_load(local.outputs.archive_url, paths, concurrency)))
    seconds = time.perf_counter() - began
    return {
        "requests": requests,
        "concurrency": concurrency,
        "requests_per_s": requests / seconds,
        "latency_ms": {
            "p50": percentile(latencies, 0.5),
            "p99": percentile(latencies, 0.99),
            "max": latencies[-1],
        },
    }


# -- plots and the command ------------------------------------------------------------------------
def plot(results: dict[str, Any], visits: dict[int, VisitResult], stem: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 3, figsize=(16, 4.5))
    sizes = list(results["producer"]["visits"])
    for offset, (key, label) in enumerate(
        [("ours", "alertdist-producer"), ("kafka_producer_perf_test", "kafka-producer-perf-test")]
    ):
        means = [results["producer"]["visits"][s][key]["alerts_per_s"]["mean"] for s in sizes]
        errors = [results["producer"]["visits"][s][key]["alerts_per_s"]["stdev"] for s in sizes]
        axes[0].bar([i + offset * 0.4 for i in range(len(sizes))], means, 0.4, yerr=errors, label=label)
    axes[0].set_xticks([i + 0.2 for i in range(len(sizes))], [f"{int(s):,} alerts" for s in sizes])
    axes[0].set_ylabel("alerts/s")
    axes[0].set_title("Producer throughput (mean ± sd)")
    axes[0].legend()
    for count, visit in visits.items():
        ordered = sorted(visit.latencies_ms)
        axes[1].plot(
            [ms / 1000 for ms in ordered],
            [i / len(ordered) for i in range(len(ordered))],
            label=f"{count:,} alerts",
        )
        axes[2].plot(
            [t for t, _ in visit.lag_series], [lag for _, lag in visit.lag_series], label=f"{count:,} alerts"
        )
    axes[1].set_xlabel("produce → consumed and decoded (s)")
    axes[1].set_ylabel("fraction of deliveries (7 brokers)")
    axes[1].set_title("End-to-end latency")
    axes[1].legend()
    axes[2].set_xlabel("seconds since the visit began")
    axes[2].set_ylabel("alerts not yet archived")
    axes[2].set_title("Archive ingest lag")
    axes[2].legend()
    figure.tight_layout()
    path = stem.with_suffix(".png")
    figure.savefig(path, dpi=110)
    return path


def publish(name: str, figures: dict[str, Any]) -> Path:
    """Print the figures and write them, with the machine, to benchmarks/results/<name>.json."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **figures}, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    return path


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "cpu_model": next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            platform.processor(),
        ),
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="benchmark", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="visits of 1,000 and 2,000, two repeats: a smoke run"
    )
    parser.add_argument("--name", default=None, help="results file stem (default: full or quick)")
    args = parser.parse_args(argv)
    sizes = [1_000, 2_000] if args.quick else [10_000, 40_000]
    repeats = dict.fromkeys(sizes, 2) if args.quick else {10_000: 3, 40_000: 2}
    local = Local.attach()
    factory = AlertFactory.from_package()
    results: dict[str, Any] = {"machine": machine(), "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    print("producer against kafka-producer-perf-test")
    results["producer"] = producer_vs_kafka(local, sizes, repeats, factory)
    visits: dict[int, VisitResult] = {}
    for count in sizes:
        summaries = []
        for run in range(repeats[count]):
            print(f"visit of {count:,} alerts ({run + 1}/{repeats[count]}): seven brokers and the archive")
            visits[count] = visit_end_to_end(local, count, factory)
            summaries.append(visits[count].summary())
            print(f"  {json.dumps({k: v for k, v in summaries[-1].items() if k != 'resources'})}")
        results.setdefault("visits", {})[str(count)] = {"stats": visit_stats(summaries), "runs": summaries}
    print("archive server under load")
    last = visits[sizes[-1]]
    ids = list(range(last.first_id, last.first_id + last.alerts))
    results["archive_server"] = archive_server(
        local, ids, concurrency=64, requests=500 if args.quick else 5_000
    )
    RESULTS.mkdir(exist_ok=True)
    stem = RESULTS / (args.name or ("quick" if args.quick else "full"))
    results["plots"] = [plot(results, visits, stem).name]
    stem.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"results: {stem.with_suffix('.json')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
