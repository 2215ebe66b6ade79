"""Schemas compared as Avro: what the sync and the post-deploy suite accept from a registry."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from alertdist_common.registry_sync import SchemaConflictError, sync_schemas
from alertdist_common.schemas import latest_version, same_schema, schema_json

PRIMITIVES = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}


def _spelled_out(node: Any) -> Any:
    """The same schema with each field's primitive type written as {"type": ...}, keys reversed."""
    if isinstance(node, dict):
        out = {key: _spelled_out(value) for key, value in reversed(node.items())}
        if "name" in out and isinstance(out.get("type"), str) and out["type"] in PRIMITIVES:
            out["type"] = {"type": out["type"]}
        return out
    if isinstance(node, list):
        return [_spelled_out(item) for item in node]
    return node


def _latest() -> dict[str, Any]:
    return dict(json.loads(schema_json(latest_version())))


def test_the_same_schema_written_differently_is_the_same() -> None:
    ours = schema_json(latest_version())
    other = json.dumps(_spelled_out(_latest()), indent=2)
    assert json.loads(other) != json.loads(ours)
    assert same_schema(other, ours)


@pytest.mark.parametrize(
    ("path", "value"),
    [(("doc",), "another doc"), (("fields", 0, "type"), "int"), (("fields", 1, "default"), "none")],
)
def test_a_changed_doc_type_or_default_is_a_different_schema(path: tuple[Any, ...], value: Any) -> None:
    changed = _latest()
    node: Any = changed
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value if path[-1] != "default" else None
    if path[-1] == "default":
        node["type"] = ["string", "null"]
        node["default"] = "none"
    assert not same_schema(json.dumps(changed), schema_json(latest_version()))


def _registry(answer: str) -> httpx.Client:
    """A registry that holds `answer` under every id and refuses writes."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"schema": answer})
        return httpx.Response(405)

    return httpx.Client(base_url="http://registry", transport=httpx.MockTransport(handle))


def test_sync_accepts_the_registry_s_own_spelling_of_our_schema() -> None:
    version = latest_version()
    with _registry(json.dumps(_spelled_out(_latest()))) as http:
        report = sync_schemas(http, (version,))
    assert report.unchanged == [version.schema_id]
    assert report.registered == []


def test_sync_refuses_a_different_schema_under_our_id() -> None:
    changed = _latest() | {"doc": "not the alert schema"}
    with (
        _registry(json.dumps(changed)) as http,
        pytest.raises(SchemaConflictError, match=str(latest_version().schema_id)),
    ):
        sync_schemas(http, (latest_version(),))
