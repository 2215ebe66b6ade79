"""The LSST alert schemas shipped by lsst-alert-packet, and their registry ids (MAJOR*100+MINOR)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from fastavro import parse_schema
from lsst.alert.packet import Schema
from lsst.alert.packet.schema import get_latest_schema_version, get_schema_root

ALERT_SUBJECT = "alert-packet"


@dataclass(frozen=True, order=True)
class SchemaVersion:
    major: int
    minor: int

    @property
    def schema_id(self) -> int:
        return schema_id(self.major, self.minor)

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"


def schema_id(major: int, minor: int) -> int:
    """The registry id of an alert schema version: 11.1 -> 1101."""
    if not 0 <= minor < 100 or major < 1:
        raise ValueError(f"no registry id for schema version {major}.{minor}")
    return major * 100 + minor


def version_of_id(registry_id: int) -> SchemaVersion:
    """Inverse of schema_id: 1101 -> 11.1."""
    if registry_id < 100:
        raise ValueError(f"{registry_id} is not an alert schema id")
    return SchemaVersion(registry_id // 100, registry_id % 100)


def _schema_root() -> Path:
    return Path(str(get_schema_root()))


@cache
def available_versions() -> tuple[SchemaVersion, ...]:
    """Every schema version the installed lsst-alert-packet carries, oldest first."""
    found = []
    for major_dir in _schema_root().iterdir():
        if not major_dir.name.isdigit():
            continue
        for minor_dir in major_dir.iterdir():
            version = SchemaVersion(int(major_dir.name), int(minor_dir.name))
            if (minor_dir / f"lsst.v{version.major}_{version.minor}.alert.avsc").exists():
                found.append(version)
    return tuple(sorted(found))


def latest_version() -> SchemaVersion:
    major, minor = get_latest_schema_version()
    return SchemaVersion(int(major), int(minor))


def schema_file(version: SchemaVersion) -> Path:
    return (
        _schema_root()
        / str(version.major)
        / str(version.minor)
        / (f"lsst.v{version.major}_{version.minor}.alert.avsc")
    )


@cache
def load_schema(version: SchemaVersion) -> Schema:
    """The resolved (self-contained) alert schema of one version."""
    return Schema.from_file(str(schema_file(version)))


def _without_parser_keys(node: Any) -> Any:
    """Drop fastavro's private bookkeeping (`__fastavro_parsed`, `__named_schemas`)."""
    if isinstance(node, dict):
        return {k: _without_parser_keys(v) for k, v in node.items() if not k.startswith("__")}
    if isinstance(node, list):
        return [_without_parser_keys(item) for item in node]
    return node


def schema_json(version: SchemaVersion) -> str:
    """The schema as the registry stores it: compact JSON, all named types inlined, keys sorted.

    Sorted because the parser's key order depends on what the process parsed before (after the
    latest schema, versions 3.0 to 5.0 come out reordered): every facility must hold the same text."""
    definition = _without_parser_keys(load_schema(version).definition)
    return json.dumps(definition, separators=(",", ":"), sort_keys=True)


def _normal_form(node: Any) -> Any:
    """Names fully qualified (so no `namespace` keys), `{"type": "long"}` as `"long"`, parser keys dropped."""
    if isinstance(node, dict):
        out = {k: _normal_form(v) for k, v in node.items() if not k.startswith("__") and k != "namespace"}
        if set(out) == {"type"} and isinstance(out["type"], str):
            return out["type"]
        return out
    if isinstance(node, list):
        return [_normal_form(item) for item in node]
    return node


def same_schema(stored: str, ours: str) -> bool:
    """Whether two Avro schema texts declare the same schema, docs and defaults included.

    Compared as parsed Avro, never as text or JSON: Confluent's registry answers with the canonical
    string Avro's Java `Schema.toString()` writes (its AvroSchema#canonicalString), not the text it
    was given, so key order, namespaces and nesting differ from `schema_json` even in IMPORT mode."""
    return bool(
        _normal_form(parse_schema(json.loads(stored), expand=True))
        == _normal_form(parse_schema(json.loads(ours), expand=True))
    )
