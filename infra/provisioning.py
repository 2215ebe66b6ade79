"""What a facility must provision to keep up with LSST: cores, memory and replicas per component.

Pure arithmetic on the typed stack config and on costs measured by `scripts/benchmark` (CPU per
alert and resident memory of each process, on the machine named in MEASURED_ON). A component
keeps up when its replicas' CPU requests cover the alerts of a visit within the visit, twice over
(HEADROOM: catching up after an outage while the stream goes on, and slower cores than ours).

    scripts/provisioning idf      # the table for a stack, and what its file declares short of it
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass

from infra.config import BROKER_RESOURCES, KafkaClusterSpec, StackConfig, cpu_cores, memory_mib

VISIT_SECONDS = 37.0  # LSST's cadence: a 30 s exposure, readout and slew
LOADS = {"average": 10_000, "peak": 40_000}  # alerts per visit (LSST's design figures)
HEADROOM = 2.0
BACKFILL_ALERTS_PER_S = 1_500  # what the archive server must serve a broker re-reading a night
PYTHON_PROCESS_CORES = 1.0  # one Python process uses one core at most (the GIL)
MEASURED_ON = "2 vCPU AMD EPYC, 23.5 GiB; scripts/benchmark --part visits and --part archive, 2026-12-01"


@dataclass(frozen=True)
class Cost:
    """One component's measured cost: CPU milliseconds per alert, resident memory of a replica."""

    cpu_ms_per_alert: float
    memory_mib: int


# From the runs of MEASURED_ON (benchmarks/results/visits.json and archive.json), 40,000-alert
# visits with seven brokers fetching: CPU per alert and replica for a Kafka node serving the
# producer, seven readers and the ingester (0.81 and 0.87 ms), per alert produced (the benchmark's
# process, its samplers included: an upper bound). Memory: the most each process held.
MEASURED = {
    "producer": Cost(cpu_ms_per_alert=1.1, memory_mib=1920),
    "kafka-broker": Cost(cpu_ms_per_alert=0.85, memory_mib=1114),
}
# The archive's costs depend on its object store; each figure is the most measured. The ingester:
# CPU per alert archived, on S3 in those visits, on GCS while an archive of its own drained the
# alert topic (archive.json "gcs_ingester": 2.80 to 3.55 ms in four runs of 7,820 to 20,510
# alerts). The server: CPU per alert served by the single route under wrk at 64 connections, four
# runs on each store (archive.json: 1.20-1.52 ms on S3, 1.07-1.24 ms on GCS).
MEASURED_ON_STORE = {
    "s3": {
        "archive-ingester": Cost(cpu_ms_per_alert=1.3, memory_mib=356),
        "archive-server": Cost(cpu_ms_per_alert=1.5, memory_mib=64),
    },
    "gcs": {
        "archive-ingester": Cost(cpu_ms_per_alert=3.55, memory_mib=363),
        "archive-server": Cost(cpu_ms_per_alert=1.25, memory_mib=64),
    },
}


def cost(component: str, store: str) -> Cost:
    """A component's measured cost at a facility whose archive is on `store` (s3 or gcs)."""
    return MEASURED_ON_STORE[store].get(component) or MEASURED[component]


@dataclass(frozen=True)
class Need:
    """What one component needs at one load, and what the stack declares for it."""

    component: str
    load: str
    alerts_per_s: float
    cores: float
    replicas: int
    memory_mib_per_replica: int
    declared_replicas: int
    declared_cores: float | None  # None: the facility's, not this stack's (USDF's shared Kafka)

    @property
    def short(self) -> bool:
        if self.declared_cores is None:
            return False
        return self.declared_replicas < self.replicas or self.declared_cores < self.cores


def memory_needed(component: str, store: str) -> int:
    """A replica's memory request: its measured resident memory and half again."""
    return math.ceil(cost(component, store).memory_mib * 1.5)


def _need(
    component: str,
    store: str,
    load: str,
    alerts_per_s: float,
    cores_per_replica: float,
    declared: tuple[int, float | None],
) -> Need:
    cores = alerts_per_s * cost(component, store).cpu_ms_per_alert / 1000 * HEADROOM
    replicas = max(1, math.ceil(cores / cores_per_replica))
    return Need(component, load, alerts_per_s, cores, replicas, memory_needed(component, store), *declared)


def needs(config: StackConfig) -> list[Need]:
    """The table for a facility stack: each component at LSST's average and peak visit, and the
    archive server at the backfill rate. Kafka's cost counts every replica of a partition."""
    if config.kafka is None or config.archive is None:
        raise ValueError(f"the {config.facility} stack runs no facility components to provision")
    kafka, archive = config.kafka, config.archive
    store = archive.bucket.kind
    if isinstance(kafka, KafkaClusterSpec):
        broker_cores = cpu_cores(kafka.broker_resources.cpu)
        brokers: tuple[int, float | None] = (kafka.replicas, kafka.replicas * broker_cores)
    else:  # the facility's shared cluster: its brokers taken to be as ours, not declared here
        broker_cores = cpu_cores(BROKER_RESOURCES.cpu)
        brokers = (kafka.replicas, None)
    ingester = (archive.ingester_replicas, archive.ingester_replicas * archive.ingester_resources.cores)
    ingester_cores = min(PYTHON_PROCESS_CORES, archive.ingester_resources.cores)
    server = (archive.server_replicas, archive.server_replicas * archive.server_resources.cores)
    table = []
    for load, alerts in LOADS.items():
        rate = alerts / VISIT_SECONDS
        table.append(_need("archive-ingester", store, load, rate, ingester_cores, ingester))
        table.append(
            _need("kafka-broker", store, load, rate * config.replication.factor, broker_cores, brokers)
        )
        if config.producer.enabled:
            producer = (1, config.producer.resources.cores)
            table.append(
                _need("producer", store, load, rate, min(PYTHON_PROCESS_CORES, producer[1]), producer)
            )
    server_cores = min(PYTHON_PROCESS_CORES, archive.server_resources.cores)
    table.append(_need("archive-server", store, "backfill", BACKFILL_ALERTS_PER_S, server_cores, server))
    return table


def problems(config: StackConfig) -> list[str]:
    """What the stack declares short of the table: one sentence each, with the fix."""
    found = []
    assert config.archive is not None  # needs() refuses a stack without one
    for need in needs(config):
        if need.short:
            found.append(
                f"{need.component} at the {need.load} load ({need.alerts_per_s:,.0f} alerts/s) needs "
                f"{need.replicas} replicas and {need.cores:.1f} cores; the stack declares "
                f"{need.declared_replicas} replicas with {need.declared_cores:.1f} cores"
            )
    archive = config.archive
    memory = {
        "archive-ingester": archive.ingester_resources.mib,
        "archive-server": archive.server_resources.mib,
    }
    if isinstance(config.kafka, KafkaClusterSpec):
        memory["kafka-broker"] = memory_mib(config.kafka.broker_resources.memory)
    for component, declared in memory.items():
        needed = memory_needed(component, archive.bucket.kind)
        if declared < needed:
            found.append(f"{component} requests {declared} MiB of memory; it needs {needed} MiB")
    return found


def render(config: StackConfig) -> str:
    table = needs(config)
    assert config.archive is not None  # needs() refuses a stack without one
    lines = [
        f"Provisioning for the {config.facility} stack, its archive on {config.archive.bucket.kind}: "
        f"a visit every {VISIT_SECONDS:.0f} s, headroom x{HEADROOM:.0f}; costs measured on {MEASURED_ON}",
        "",
        "| component | load | alerts/s | cores | replicas | memory a replica | declared |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    lines_after = [
        "",
        "Kafka's memory is its JVM's; a broker's request (16Gi by default) leaves the rest to the page",
        "cache, which serves the brokers' reads of the latest visits.",
    ]
    for need in table:
        if need.declared_cores is None:
            declared = (
                f"{need.declared_replicas}, the facility's (taken as {BROKER_RESOURCES.cpu}-core brokers)"
            )
        else:
            declared = f"{need.declared_replicas} x {need.declared_cores / need.declared_replicas:g} cores"
        short = " SHORT" if need.short else ""
        lines.append(
            f"| {need.component} | {need.load} | {need.alerts_per_s:,.0f} | {need.cores:.1f} | "
            f"{need.replicas} | {need.memory_mib_per_replica} MiB | {declared}{short} |"
        )
    return "\n".join(lines + lines_after)


def main(argv: list[str] | None = None) -> int:
    from infra.stackfile import load_stack  # reads stack files; this module stays pure

    parser = argparse.ArgumentParser(prog="provisioning", description=__doc__.split("\n\n")[0])
    parser.add_argument("stack", help="a facility stack: idf or usdf")
    args = parser.parse_args(argv)
    config = load_stack(args.stack)
    print(render(config))
    for problem in problems(config):
        print(f"warning: {problem}")
    return 1 if problems(config) else 0


if __name__ == "__main__":
    raise SystemExit(main())
