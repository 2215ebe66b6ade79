"""The stack comparison operators use before switching facilities."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.program import public_outputs
from infra.stackdiff import Change, changes, compare, compare_deployed, flatten, main, render
from infra.stackfile import load_stack


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
    assert "kafka.mode" in paths  # USDF's shared cluster
    assert "facility" in paths

    # the storage backend follows archive.bucket.kind: S3 keys reach the archive from a Secret
    def not_per_broker(keys: list[str]) -> list[str]:  # brokers' resources are named fink-idf, fink-usdf
        return [key for key in keys if not any(f"-{s}" in key for s in ("idf", "usdf"))]

    # idf runs its cluster (and its super user), its registry and the alert topics; at USDF
    # phalanx's sasquatch runs them, and the stack declares none of them
    cluster_parts = {"KafkaCluster", "Kafka", "KafkaNodePool", "ConfigMap"}
    registry_parts = {"SchemaRegistry", "Deployment", "Service", "ServiceAccount", "Ingress", "Job"}
    registry_parts |= {"NetworkPolicy", "PodDisruptionBudget"}
    gone = {key.split(" ")[0].rsplit(":", 1)[1] for key in not_per_broker(diff.only_in_source)}
    assert gone <= cluster_parts | registry_parts | {"KafkaUser", "Secret", "KafkaTopic"}
    assert {"Kafka", "KafkaNodePool", "SchemaRegistry"} <= gone
    # the storage backend follows archive.bucket.kind: S3 keys reach the archive from Secrets
    added = [key for key in not_per_broker(diff.only_in_target) if "s3-credentials" in key]
    assert sorted(added) == [
        "kubernetes:core/v1:Secret secret-archive-ingester-s3-credentials",
        "kubernetes:core/v1:Secret secret-archive-server-s3-credentials",
    ]
    # the topics: the dead-letter topic is declared by both, the alert topics only by idf, and so is
    # the canary topic (usdf has no producer of its own to write canaries)
    topics = [key for key in diff.only_in_source + diff.only_in_target if "KafkaTopic" in key]
    assert sorted(topics) == [
        "kubernetes:kafka.strimzi.io/v1:KafkaTopic kafkatopic-alerts-canary",
        "kubernetes:kafka.strimzi.io/v1:KafkaTopic kafkatopic-alerts-simulated",
        "kubernetes:kafka.strimzi.io/v1:KafkaTopic kafkatopic-lsst-alerts-v11",
        "kubernetes:kafka.strimzi.io/v1:KafkaTopic kafkatopic-schemas",
    ]
    brokers = {c.path: c for c in diff.for_brokers}
    assert brokers["bootstrap servers"].after == "rubin-alert-stream-bootstrap.slac.stanford.edu:9094"
    assert brokers["fink username"] == Change("fink username", "fink-idf", "fink-usdf")
    assert "security protocol" not in brokers


def test_the_report_names_secrets_without_showing_them(capsys: pytest.CaptureFixture[str]) -> None:
    main(["idf", "usdf"])
    out = capsys.readouterr().out
    assert "What changes for the community brokers:" in out
    assert "PLACEHOLDER" not in out
    assert render(compare("idf", "usdf")) == out.rstrip("\n")


def test_two_deployed_stacks_show_brokers_their_new_addresses_and_passwords(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def outputs(facility: str, port: int, passwords: dict[str, str]) -> Path:
        document = {
            **public_outputs(load_stack("local")),
            "bootstrapServers": f"127.0.0.1:{port}",
            "registryUrl": f"http://127.0.0.1:{port + 1}",
            "passwords": passwords,
        }
        path = tmp_path / f"{facility}.json"
        path.write_text(json.dumps(document))
        return path

    users = public_outputs(load_stack("local"))["users"]
    before = outputs("idf", 19094, dict.fromkeys(users, "old-secret-value"))
    after = outputs(
        "usdf", 29094, {**dict.fromkeys(users, "new-secret-value"), "fink-local": "old-secret-value"}
    )
    found = {c.path: c for c in compare_deployed(before, after)}
    assert found["bootstrap servers"] == Change("bootstrap servers", "127.0.0.1:19094", "127.0.0.1:29094")
    assert found["registry URL"].after == "http://127.0.0.1:29095"
    assert found["lasair password"] == Change("lasair password", "[secret]", "[new secret]")
    assert "fink password" not in found  # unchanged
    assert "alerce username" not in found
    main(["--outputs", str(before), str(after)])
    out = capsys.readouterr().out
    assert "bootstrap servers" in out
    assert "secret-value" not in out
