"""Will the topics fit on the brokers' disks? Pure arithmetic on the topics of a stack (the stack
config's validation calls it, so it reads topics through a protocol, not the config module).

Kafka's `retention.bytes` bounds each partition's log, not the topic (Kafka docs, topic configs:
"This configuration controls the maximum size a partition ... can grow to"), so a topic may hold
partitions x retention.bytes, on each of its replicas. Time retention is judged at the rate the
topic is expected to receive: LSST's alert stream is about 0.8 TB a night."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

LSST_ALERT_BYTES_PER_NIGHT = 800 * 10**9
DAY_MS = 24 * 3600 * 1000
SIZE_UNITS = {"Gi": 2**30, "Ti": 2**40}
ALERTS, REGISTRY = "alerts", "registry"  # the roles capacity treats apart (infra.config.TopicRole)


class RetainedTopic(Protocol):
    """What capacity reads of a topic (infra.config.TopicSpec)."""

    @property
    def name(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def partitions(self) -> int: ...
    @property
    def retention_ms(self) -> int: ...
    @property
    def retention_bytes(self) -> int: ...
    @property
    def bytes_per_day(self) -> int | None: ...


def storage_bytes(size: str) -> int:
    """A Kubernetes quantity such as `1500Gi` in bytes (the units StorageSpec allows)."""
    return int(size[:-2]) * SIZE_UNITS[size[-2:]]


def daily_bytes(topic: RetainedTopic) -> int | None:
    """What the topic is expected to receive a day: its `bytesPerDay`, else LSST's rate for alert topics."""
    if topic.bytes_per_day is not None:
        return topic.bytes_per_day
    return LSST_ALERT_BYTES_PER_NIGHT if topic.role == ALERTS else None


@dataclass(frozen=True)
class TopicFootprint:
    """The most one replica of a topic keeps: its size bound, else its time bound at the expected rate."""

    topic: str
    size_bound: int | None
    time_bound: int | None

    @property
    def bytes(self) -> int | None:
        return self.size_bound if self.size_bound is not None else self.time_bound


def footprint(topic: RetainedTopic) -> TopicFootprint:
    size = topic.partitions * topic.retention_bytes if topic.retention_bytes >= 0 else None
    rate = daily_bytes(topic)
    time = rate * topic.retention_ms // DAY_MS if rate is not None and topic.retention_ms >= 0 else None
    return TopicFootprint(topic.name, size, time)


def disk_problems(
    topics: Sequence[RetainedTopic], replication_factor: int, brokers: int, broker_disk: int, budget: float
) -> list[str]:
    """Why the topics would not fit `budget` of each broker's disk; empty when they do.

    A topic must be bounded (by size, or by time at a known rate), and its size bound must hold
    what its time retention promises, or alerts go sooner than retention.ms says."""
    problems = []
    kept = 0
    for topic in topics:
        if topic.role == REGISTRY:
            continue  # compacted schemas: kilobytes
        kept_by = footprint(topic)
        if kept_by.bytes is None:
            problems.append(
                f"topic {topic.name} is unbounded on disk: "
                "set retentionBytes, or bytesPerDay with retentionMs"
            )
            continue
        size, time = kept_by.size_bound, kept_by.time_bound
        if size is not None and time is not None and size < time:
            days = topic.retention_ms / DAY_MS
            problems.append(
                f"topic {topic.name}: {topic.partitions} partitions x retentionBytes {topic.retention_bytes} "
                f"= {_tb(size)} holds less than its {days:g} days of retentionMs at "
                f"{_tb(daily_bytes(topic) or 0)}/day ({_tb(time)})"
            )
        kept += kept_by.bytes
    per_broker = kept * replication_factor / brokers
    if per_broker > budget * broker_disk:
        problems.append(
            f"the topics keep up to {_tb(per_broker)} per broker (x{replication_factor} replicas over "
            f"{brokers} brokers), above {budget:.0%} of each broker's {_tb(broker_disk)} disk"
        )
    return problems


def _tb(size: float) -> str:
    return f"{size / 10**12:.2f} TB"
