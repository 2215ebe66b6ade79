"""alertdist-producer against Kafka's own kafka-producer-perf-test, same broker and settings."""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import tempfile
import time
from typing import Any

from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from alertdist_common.kafka import KafkaSettings
from benchmarks.figures import run_stats
from benchmarks.harness import Local
from localfacility.kafka import java_argv
from services.producer.alerts import AlertFactory
from services.producer.producer import AlertProducer, producer_config

BENCH_TOPIC = "benchmark-producer"


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
                "ours": run_stats(ours),
                "kafka_producer_perf_test": run_stats(theirs),
                "ratio": statistics.mean(r["alerts_per_s"] for r in ours)
                / statistics.mean(r["alerts_per_s"] for r in theirs),
            }
    finally:
        admin.delete_topics([BENCH_TOPIC])[BENCH_TOPIC].result()
    return results
