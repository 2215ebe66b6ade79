"""Read alert schemas from the registry by id, cached; clear errors for unknown ids and outages."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any

import fastavro
import httpx

from services.common.settings import RegistrySettings


class UnknownSchemaError(LookupError):
    """The registry has no schema with this id."""


class RegistryUnavailableError(RuntimeError):
    """The registry could not be reached or failed; retry later."""


@dataclass(frozen=True)
class RegisteredSchema:
    schema_id: int
    avro_json: bytes  # the bare Avro schema, as the registry holds it
    parsed: Any


class RegistrySchemas:
    """Schemas by id from a Confluent-compatible registry; each id is fetched once."""

    def __init__(self, settings: RegistrySettings, timeout: float = 10.0) -> None:
        self._http = httpx.Client(base_url=settings.url, auth=settings.auth(), timeout=timeout)
        self._cache: dict[int, RegisteredSchema] = {}
        self._lock = threading.Lock()

    def get(self, schema_id: int) -> RegisteredSchema:
        with self._lock:
            cached = self._cache.get(schema_id)
        if cached is not None:
            return cached
        try:
            response = self._http.get(f"/schemas/ids/{schema_id}")
        except httpx.HTTPError as exc:
            raise RegistryUnavailableError(f"schema registry unreachable: {exc!r}") from exc
        if response.status_code == 404:
            raise UnknownSchemaError(f"schema id {schema_id} is not in the registry")
        if response.status_code != 200:
            raise RegistryUnavailableError(
                f"schema registry answered {response.status_code} for id {schema_id}"
            )
        body = response.json()
        if body.get("schemaType", "AVRO") != "AVRO":
            raise UnknownSchemaError(f"schema id {schema_id} is not an Avro schema")
        schema = RegisteredSchema(
            schema_id, body["schema"].encode(), fastavro.parse_schema(json.loads(body["schema"]))
        )
        with self._lock:
            self._cache[schema_id] = schema
        return schema

    def close(self) -> None:
        self._http.close()
