"""The archive server's wire contract: ids, the models of its answers, the bulk route's records.
Pure: brokers' clients, the tests and the benchmark read answers with these."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

from fastapi import HTTPException, Path
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from services.common.storage import compress_alert, is_compressed

INT64_MAX = 2**63 - 1
INT32_MAX = 2**31 - 1
IMMUTABLE = "public, max-age=31536000, immutable"
DIGITS = re.compile(r"^[0-9]{1,19}$")
# Responses as Rubin's alert database answers them (lsst-dm/alert_database_server, alertdb/server.py),
# which brokers' archive clients were written against: an alert is the stored gzip bytes as
# application/octet-stream with no Content-Encoding (the documented recipe is
# gzip.decompress(response.content)); a schema is the bare Avro schema JSON.
ALERT_RESPONSE_TYPE = "application/octet-stream"
# The bulk route: at most this many ids a request (about 80 MB of alerts), fetched this many at
# a time while the answer streams in request order, so a request holds a bounded few MB.
BULK_MAX_IDS = 1000
BULK_IN_FLIGHT = 32


def bare_schema(stored: bytes) -> bytes:
    """The Avro schema of a stored schema object: the registry's `{"schema": "..."}` answer of the
    flat layout, unwrapped; an object that already is a schema (the v2 layout) as it is."""
    document = json.loads(stored)
    if isinstance(document, dict) and isinstance(document.get("schema"), str) and "type" not in document:
        return str(document["schema"]).encode()
    return stored


class Health(BaseModel):
    status: str
    store: str


class Problem(BaseModel):
    detail: str


def whole_number(value: object) -> object:
    """An integer as JSON Schema has it: 7 or 7.0, never true or "7"."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


# A whole float is made int first, then a strict int (no bool, no string) is checked for range.
DiaSourceId = Annotated[int, Field(strict=True, ge=0, le=INT64_MAX), BeforeValidator(whole_number)]


class BulkRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[DiaSourceId] = Field(
        min_length=1, max_length=BULK_MAX_IDS, description="diaSourceIds, answered in this order"
    )


def id_parameter(description: str, maximum: int) -> Any:
    """A path id as the API documents it (an integer from 0 to maximum); parsed by parse_id, so
    that anything else gets a 400 with the reason rather than a validation error."""
    return Path(
        description=description,
        json_schema_extra={"type": "integer", "minimum": 0, "maximum": maximum},
    )


def parse_id(raw: str, what: str, maximum: int = INT64_MAX) -> int:
    """A non-negative decimal id, or a 400 that says why not."""
    if not DIGITS.fullmatch(raw) or int(raw) > maximum:
        raise HTTPException(
            400, f"{what} must be a non-negative integer of at most {len(str(maximum))} digits"
        )
    return int(raw)


def gzipped(key: str, stored: bytes) -> bytes:
    """An alert as served: gzip, as stored; an uncompressed object (Rubin's fallback) compressed
    here, deterministically, so that gzip.decompress works for every alert."""
    return stored if is_compressed(key) else compress_alert(stored)
