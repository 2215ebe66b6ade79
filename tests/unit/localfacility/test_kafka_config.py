"""The broker configuration the local facility writes: secure by construction."""

from __future__ import annotations

from localfacility.credentials import FacilityCredentials
from localfacility.kafka import MAX_MESSAGE_BYTES, server_properties
from localfacility.settings import FacilitySettings


def _props(tmp_path, **overrides) -> dict[str, str]:  # type: ignore[no-untyped-def]
    settings = FacilitySettings(run_dir=tmp_path, **overrides)
    return server_properties(settings, FacilityCredentials.generate())


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
