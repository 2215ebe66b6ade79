"""The registry serves every LSST alert schema at its fixed id and takes no writes from outside."""

from __future__ import annotations

import json

import httpx

from alertdist_common.outputs import StackOutputs
from alertdist_common.schemas import (
    available_versions,
    same_schema,
    schema_id,
    schema_json,
    version_of_id,
)

from .clients import registry

SUBJECT = "alert-packet"
PROBE_SCHEMA = json.dumps({"type": "record", "name": "postdeploy_probe", "fields": []})


def test_registry_serves_schema(outputs: StackOutputs, registry_schema_id: int) -> None:
    with registry(outputs) as http:
        response = http.get(f"/schemas/ids/{registry_schema_id}")
    assert response.status_code == 200, (
        f"schema id {registry_schema_id}: {response.status_code} {response.text}"
    )
    # The facility registry answers with Avro's canonical string, not our text: compare as Avro.
    assert same_schema(response.json()["schema"], schema_json(version_of_id(registry_schema_id)))


def test_alert_packet_versions_are_the_schema_ids(outputs: StackOutputs) -> None:
    """Read through `/schemas/ids/...`, the only routes the facilities' ingress exposes."""
    with registry(outputs) as http:
        for version in available_versions():
            registry_id = schema_id(version.major, version.minor)
            response = http.get(f"/schemas/ids/{registry_id}/versions")
            assert response.status_code == 200, f"schema id {registry_id}: {response.text}"
            assert {"subject": SUBJECT, "version": registry_id} in response.json()


def test_registry_refuses_writes_from_outside(outputs: StackOutputs) -> None:
    broker = outputs.users_with_role("community-broker")[0]
    logins = {
        "the registry's outside login": None,
        f"broker user {broker}": (broker, outputs.password(broker)),
    }
    accepted = []
    with registry(outputs) as outside:
        for who, login in logins.items():
            auth = httpx.BasicAuth(*login) if login else outside.auth
            attempts = {
                "register a schema": outside.post(
                    "/subjects/postdeploy-write-probe/versions", json={"schema": PROBE_SCHEMA}, auth=auth
                ),
                "change a subject's compatibility": outside.put(
                    "/config/postdeploy-write-probe", json={"compatibility": "NONE"}, auth=auth
                ),
                "change the mode": outside.put("/mode", json={"mode": "READWRITE"}, auth=auth),
            }
            accepted += [f"{who} could {what}" for what, r in attempts.items() if r.status_code < 400]
    assert not accepted, accepted
