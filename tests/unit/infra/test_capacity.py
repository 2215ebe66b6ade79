"""The disk check: retention.bytes is per partition, replicas multiply it, brokers share it."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from infra.capacity import LSST_ALERT_BYTES_PER_NIGHT, disk_problems, footprint, storage_bytes
from infra.config import TopicSpec
from infra.stackfile import load_stack, model_from_values, project_values, read_config_values, stack_file

GB = 10**9


def topic(name: str, role: str = "alerts", **fields: Any) -> TopicSpec:
    return TopicSpec.model_validate({"name": name, "role": role, "partitions": 45, **fields})


def test_storage_sizes() -> None:
    assert storage_bytes("1500Gi") == 1500 * 2**30
    assert storage_bytes("4Ti") == 4 * 2**40


def test_the_issue_s_numbers_do_not_fit() -> None:
    """2 alert topics x 45 partitions x 100 GB, 3 replicas on 3 brokers of 1,500 Gi: 9 TB each."""
    topics = [topic(name, retentionMs=7 * 86_400_000, retentionBytes=100 * GB) for name in ("a", "b")]
    problems = disk_problems(topics, 3, 3, storage_bytes("1500Gi"), 0.75)
    assert any("9.00 TB per broker" in problem for problem in problems), problems


def test_retention_bytes_counts_per_partition() -> None:
    one_day = {"retentionMs": 86_400_000, "bytesPerDay": 10 * GB}
    small = [topic("a", retentionBytes=GB, **one_day)]  # 45 GB a replica
    assert disk_problems(small, 3, 3, storage_bytes("100Gi"), 0.75) == []
    large = [topic("a", retentionBytes=3 * GB, **one_day)]  # 135 GB a replica
    assert disk_problems(large, 3, 3, storage_bytes("100Gi"), 0.75) != []


def test_more_brokers_share_the_replicas() -> None:
    topics = [topic("a", retentionMs=86_400_000, retentionBytes=20 * GB)]  # 900 GB a replica
    disk = storage_bytes("1000Gi")
    assert disk_problems(topics, 3, 3, disk, 0.75) != []  # 900 GB each
    assert disk_problems(topics, 3, 5, disk, 0.75) == []  # 540 GB each


def test_time_retention_is_judged_at_lsst_s_rate() -> None:
    week = topic("a", retentionMs=7 * 86_400_000)
    assert footprint(week).time_bound == 7 * LSST_ALERT_BYTES_PER_NIGHT
    assert disk_problems([week], 3, 3, storage_bytes("4Ti"), 0.75) != []  # 5.6 TB a replica
    three_nights = topic("a", retentionMs=3 * 86_400_000)
    assert disk_problems([three_nights], 3, 3, storage_bytes("4Ti"), 0.75) == []


def test_a_size_bound_below_the_promised_time_is_refused() -> None:
    short = topic("a", retentionMs=3 * 86_400_000, retentionBytes=10 * GB)  # 450 GB < 2.4 TB
    (problem,) = disk_problems([short], 3, 3, storage_bytes("4Ti"), 0.75)
    assert "holds less than its 3 days" in problem


def test_unbounded_topics_are_refused_and_the_registry_topic_is_not_counted() -> None:
    dead_letter = topic("dl", role="dead-letter", retentionMs=86_400_000)
    (problem,) = disk_problems([dead_letter], 3, 3, storage_bytes("4Ti"), 0.75)
    assert "unbounded" in problem
    schemas = topic("_schemas", role="registry", retentionMs=-1)
    assert disk_problems([schemas], 3, 3, storage_bytes("20Gi"), 0.75) == []


@pytest.mark.parametrize("stack", ["idf", "usdf"])
def test_the_stack_files_fit_and_the_old_values_would_not(stack: str) -> None:
    load_stack(stack)
    values = project_values(read_config_values(stack_file(stack)))
    values["kafka"]["brokerStorage"]["size"] = "1500Gi"
    with pytest.raises(ValidationError, match="per broker"):
        model_from_values(values)
