"""The alert wire format: Confluent framing (magic byte 0, big-endian schema id) + schemaless Avro."""

from __future__ import annotations

import io
import struct
from typing import Any

import fastavro

MAGIC_BYTE = 0
HEADER = struct.Struct(">bI")
PRODUCER_TIMESTAMP_HEADER = "producer_timestamp"


class WireFormatError(ValueError):
    """The bytes are not a Confluent-framed Avro alert."""


def frame(schema_id: int, payload: bytes) -> bytes:
    return HEADER.pack(MAGIC_BYTE, schema_id) + payload


def unframe(message: bytes) -> tuple[int, bytes]:
    """Split a message into its schema id and Avro payload, or say why it is not one."""
    if len(message) <= HEADER.size:
        raise WireFormatError(f"message of {len(message)} bytes is too short for Confluent framing")
    magic, schema_id = HEADER.unpack_from(message)
    if magic != MAGIC_BYTE:
        raise WireFormatError(f"wrong magic byte {magic} (expected {MAGIC_BYTE})")
    return schema_id, message[HEADER.size :]


def encode(record: dict[str, Any], parsed_schema: Any, schema_id: int) -> bytes:
    buffer = io.BytesIO()
    buffer.write(HEADER.pack(MAGIC_BYTE, schema_id))
    fastavro.schemaless_writer(buffer, parsed_schema, record)
    return buffer.getvalue()


def decode(message: bytes, parsed_schema: Any, expected_id: int | None = None) -> dict[str, Any]:
    """Decode a framed alert; the whole payload must be consumed by the schema."""
    schema_id, payload = unframe(message)
    if expected_id is not None and schema_id != expected_id:
        raise WireFormatError(f"schema id {schema_id} where {expected_id} was expected")
    buffer = io.BytesIO(payload)
    try:
        record = fastavro.schemaless_reader(buffer, parsed_schema, None)
    except (EOFError, StopIteration, ValueError, IndexError, UnicodeDecodeError, OverflowError) as exc:
        raise WireFormatError(f"Avro payload does not match schema {schema_id}: {exc!r}") from exc
    if buffer.tell() != len(payload):
        raise WireFormatError(f"{len(payload) - buffer.tell()} trailing bytes after the alert")
    if not isinstance(record, dict):
        raise WireFormatError("the payload is not an Avro record")
    return record
