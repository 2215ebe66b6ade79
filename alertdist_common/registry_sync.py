"""Load every LSST alert schema into the registry with its fixed id, in IMPORT mode."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from alertdist_common.schemas import (
    ALERT_SUBJECT,
    SchemaVersion,
    available_versions,
    same_schema,
    schema_json,
)


class SchemaConflictError(RuntimeError):
    """The registry holds a different schema under an id we own."""


@dataclass
class SyncReport:
    registered: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)


def sync_schemas(
    http: httpx.Client, versions: tuple[SchemaVersion, ...] | None = None, subject: str = ALERT_SUBJECT
) -> SyncReport:
    """Register each version under `subject` with id = version = MAJOR*100+MINOR; idempotent.

    `http` carries the registry's base URL and write credentials. The subject is put in
    IMPORT mode only while something is missing, and left in READWRITE.
    """
    report = SyncReport()
    missing: list[SchemaVersion] = []
    for version in versions or available_versions():
        stored = http.get(f"/schemas/ids/{version.schema_id}")
        if stored.status_code == 404:
            missing.append(version)
            continue
        stored.raise_for_status()
        if not same_schema(stored.json()["schema"], schema_json(version)):
            raise SchemaConflictError(
                f"registry id {version.schema_id} holds a schema that is not alert schema {version}"
            )
        report.unchanged.append(version.schema_id)
    if not missing:
        return report
    _set_mode(http, subject, "IMPORT")
    try:
        for version in missing:
            response = http.post(
                f"/subjects/{subject}/versions",
                json={
                    "schema": schema_json(version),
                    "schemaType": "AVRO",
                    "id": version.schema_id,
                    "version": version.schema_id,
                },
            )
            response.raise_for_status()
            report.registered.append(version.schema_id)
    finally:
        _set_mode(http, subject, "READWRITE")
    return report


def _set_mode(http: httpx.Client, subject: str, mode: str) -> None:
    response = http.put(f"/mode/{subject}", params={"force": "true"}, json={"mode": mode})
    response.raise_for_status()


def delete_subject(http: httpx.Client, subject: str = ALERT_SUBJECT) -> bool:
    """Delete the subject softly, then permanently; True if it existed. Idempotent."""
    existed = False
    for permanent in ("false", "true"):
        response = http.delete(f"/subjects/{subject}", params={"permanent": permanent})
        if response.status_code not in (200, 404):
            response.raise_for_status()
        existed |= response.status_code == 200
    return existed


def registered_ids(http: httpx.Client, ids: list[int]) -> list[int]:
    """Which of `ids` the registry serves, sorted."""
    found = []
    for schema_id in ids:
        response = http.get(f"/schemas/ids/{schema_id}")
        if response.status_code == 404:
            continue
        response.raise_for_status()
        found.append(schema_id)
    return sorted(found)
