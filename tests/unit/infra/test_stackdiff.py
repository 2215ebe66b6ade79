"""The stack comparison operators use before switching facilities."""

from __future__ import annotations

import pytest

from infra.stackdiff import Change, changes, compare, flatten, main, render


def test_flatten_and_changes() -> None:
    before = flatten({"kafka": {"hosts": ["a", "b"], "size": 3}})
    after = flatten({"kafka": {"hosts": ["a", "c"]}, "new": True})
    assert before == {"kafka.hosts[0]": "a", "kafka.hosts[1]": "b", "kafka.size": 3}
    found = {c.path: c for c in changes(before, after)}
    assert set(found) == {"kafka.hosts[1]", "kafka.size", "new"}
    assert found["kafka.hosts[1]"] == Change("kafka.hosts[1]", "b", "c")


def test_a_stack_against_itself_has_no_difference() -> None:
    diff = compare("usdf", "usdf")
    assert (
        diff.config,
        diff.only_in_source,
        diff.only_in_target,
        diff.changed_resources,
        diff.for_brokers,
    ) == (
        [],
        [],
        [],
        {},
        [],
    )


def test_idf_to_usdf_differs_only_where_config_does() -> None:
    diff = compare("idf", "usdf")
    paths = {c.path for c in diff.config}
    assert "archive.bucket.kind" in paths
    assert "kafka.external.bootstrapHost" in paths
    assert "facility" in paths
    # the storage backend follows archive.bucket.kind
    assert "gcp:storage/bucket:Bucket archive-bucket" in diff.only_in_source
    assert "aws:s3/bucket:Bucket archive-bucket" in diff.only_in_target
    # the same system otherwise: cluster, registry, topics exist in both
    assert "kubernetes:kafka.strimzi.io/v1:Kafka kafka-alert-broker" in diff.changed_resources
    assert not [key for key in diff.only_in_source + diff.only_in_target if "KafkaTopic" in key]
    brokers = {c.path: c for c in diff.for_brokers}
    assert brokers["bootstrap servers"].after == "usdf-alert-stream.lsst.cloud:9094"
    assert brokers["fink username"] == Change("fink username", "fink-idf", "fink-usdf")
    assert "security protocol" not in brokers


def test_the_report_names_secrets_without_showing_them(capsys: pytest.CaptureFixture[str]) -> None:
    main(["idf", "usdf"])
    out = capsys.readouterr().out
    assert "What changes for the community brokers:" in out
    assert "PLACEHOLDER" not in out
    assert render(compare("idf", "usdf")) == out.rstrip("\n")
