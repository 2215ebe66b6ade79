"""The broker configuration the local facility writes: secure by construction."""

from __future__ import annotations

import uuid

import pytest

from localfacility.credentials import FacilityCredentials
from localfacility.facility import LocalFacility
from localfacility.kafka import (
    MAX_MESSAGE_BYTES,
    QuorumMismatchError,
    bootstrap_servers,
    format_storage,
    kafka_nodes,
    new_cluster_id,
    server_properties,
)
from localfacility.settings import FacilitySettings


def _props(tmp_path, node: int = 1, **overrides) -> dict[str, str]:  # type: ignore[no-untyped-def]
    settings = FacilitySettings(run_dir=tmp_path, **overrides)
    return server_properties(settings, FacilityCredentials.generate(), kafka_nodes(settings)[node - 1])


def test_every_listener_authenticates_with_sasl(tmp_path) -> None:  # type: ignore[no-untyped-def]
    protocols = dict(
        item.split(":") for item in _props(tmp_path)["listener.security.protocol.map"].split(",")
    )
    assert protocols == {
        "INTERNAL": "SASL_PLAINTEXT",
        "CONTROLLER": "SASL_PLAINTEXT",
        "EXTERNAL": "SASL_PLAINTEXT",
        "EXTERNAL_TLS": "SASL_SSL",
    }


def test_brokers_listeners_use_scram_sha_512(tmp_path) -> None:  # type: ignore[no-untyped-def]
    props = _props(tmp_path)
    for listener in ("internal", "external", "external_tls"):
        assert props[f"listener.name.{listener}.sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert props["sasl.mechanism.inter.broker.protocol"] == "SCRAM-SHA-512"


def test_tls_listener_is_optional(tmp_path) -> None:  # type: ignore[no-untyped-def]
    props = _props(tmp_path, kafka_external_tls_port=0)
    assert "EXTERNAL_TLS" not in props["listeners"]
    assert "SASL_SSL" not in props["listener.security.protocol.map"]
    assert not (tmp_path / "conf" / "tls").exists()


def test_authorization_denies_by_default(tmp_path) -> None:  # type: ignore[no-untyped-def]
    props = _props(tmp_path)
    assert props["authorizer.class.name"] == "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    assert props["allow.everyone.if.no.acl.found"] == "false"
    assert props["super.users"] == "User:admin;User:controller"
    assert props["auto.create.topics.enable"] == "false"


def test_binds_only_the_configured_host(tmp_path) -> None:  # type: ignore[no-untyped-def]
    props = _props(tmp_path, kafka_external_port=29094)
    hosts = {entry.split("://")[1].rsplit(":", 1)[0] for entry in props["listeners"].split(",")}
    assert hosts == {"127.0.0.1"}
    assert "EXTERNAL://127.0.0.1:29094" in props["advertised.listeners"]
    assert "CONTROLLER" not in props["advertised.listeners"]


def test_large_alerts_fit(tmp_path) -> None:  # type: ignore[no-untyped-def]
    props = _props(tmp_path)
    assert int(props["message.max.bytes"]) >= 10 * 1024 * 1024 == MAX_MESSAGE_BYTES
    assert int(props["replica.fetch.max.bytes"]) >= int(props["message.max.bytes"])


def test_a_single_node_replicates_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    props = _props(tmp_path)
    assert props["controller.quorum.voters"] == "1@127.0.0.1:19093"
    assert props["default.replication.factor"] == props["offsets.topic.replication.factor"] == "1"
    assert props["min.insync.replicas"] == "1"


def test_three_nodes_form_one_quorum_on_ports_of_their_own(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = FacilitySettings(run_dir=tmp_path, kafka_nodes=3)
    nodes = [
        server_properties(settings, FacilityCredentials.generate(), node) for node in kafka_nodes(settings)
    ]
    assert [props["node.id"] for props in nodes] == ["1", "2", "3"]
    voters = "1@127.0.0.1:19093,2@127.0.0.1:19103,3@127.0.0.1:19113"
    assert {props["controller.quorum.voters"] for props in nodes} == {voters}
    listeners = [address for props in nodes for address in props["listeners"].split(",")]
    assert len(listeners) == len(set(listeners)) == 12
    assert "EXTERNAL://127.0.0.1:19114" in nodes[2]["advertised.listeners"]
    assert len({props["log.dirs"] for props in nodes}) == 3
    assert bootstrap_servers(settings) == "127.0.0.1:19094,127.0.0.1:19104,127.0.0.1:19114"
    assert bootstrap_servers(settings, tls=True) == "127.0.0.1:19095,127.0.0.1:19105,127.0.0.1:19115"


def test_three_nodes_replicate_as_the_facility_stacks(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """RF 3, min ISR 2 (stacks/Pulumi.idf.yaml), for Kafka's own topics too; only in-sync
    replicas become leaders."""
    props = _props(tmp_path, node=2, kafka_nodes=3)
    for key in (
        "default.replication.factor",
        "offsets.topic.replication.factor",
        "transaction.state.log.replication.factor",
        "share.coordinator.state.topic.replication.factor",
    ):
        assert props[key] == "3", key
    for key in (
        "min.insync.replicas",
        "transaction.state.log.min.isr",
        "share.coordinator.state.topic.min.isr",
    ):
        assert props[key] == "2", key
    assert props["unclean.leader.election.enable"] == "false"


def test_a_node_count_change_on_formatted_data_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "data" / "kafka-1").mkdir(parents=True)
    (tmp_path / "data" / "kafka-1" / "meta.properties").write_text("node.id=1\n")
    settings = FacilitySettings(run_dir=tmp_path, kafka_nodes=3)
    with pytest.raises(QuorumMismatchError, match="down --purge"):
        format_storage(settings, FacilityCredentials.generate())


def test_purge_removes_every_file_holding_credentials(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`down --purge` of a stopped facility leaves no password behind, the stack's outputs included."""
    settings = FacilitySettings(run_dir=tmp_path)
    facility = LocalFacility(settings)
    assert facility.credentials  # generated into secrets.json
    for path in (settings.stack_outputs_file, settings.endpoints_file):
        path.write_text("{}")
    (settings.conf_dir / "kafka").mkdir(parents=True)
    facility.down(purge=True)
    assert [path.name for path in tmp_path.rglob("*") if path.is_file()] == []


def test_a_cluster_id_never_reads_as_an_option(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A drawn id whose text starts with "-" (first byte 0xf8) is drawn again, as Kafka's own Uuid does:
    the storage tool refused `--cluster-id -…` ("expected one argument") in a CI run."""
    draws = iter([uuid.UUID(bytes=b"\xf8" + bytes(15)), uuid.UUID(bytes=b"\x01" + bytes(15))])
    monkeypatch.setattr(uuid, "uuid4", lambda: next(draws))
    drawn = new_cluster_id()
    assert drawn == "AQAAAAAAAAAAAAAAAAAAAA"
    assert len(drawn) == 22
