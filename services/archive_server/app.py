"""The alert archive's HTTP API: alerts and schemas by id, straight from the object store."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import struct
import time
from collections import deque
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import FastAPI, Header, HTTPException, Path, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from prometheus_client import CollectorRegistry, Counter, Histogram
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.common.storage import (
    SCHEMA_CONTENT_TYPE,
    ObjectStore,
    StoreUnavailableError,
    alert_keys_to_read,
    compress_alert,
    is_compressed,
    schema_key,
    schema_keys_to_read,
)

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
BULK_MEDIA_TYPE = "application/vnd.alertdist.alert-frames"
BULK_FRAME_HEADER = struct.Struct(">qI")  # diaSourceId (int64), length (uint32), big-endian


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


def frame(dia_source_id: int, alert: bytes | None) -> bytes:
    """One record of the bulk answer: the id, the alert's length (0: not in the archive), the
    alert exactly as GET /v1/alerts/{id} returns it."""
    body = alert or b""
    return BULK_FRAME_HEADER.pack(dia_source_id, len(body)) + body


def read_frames(answer: bytes) -> list[tuple[int, bytes | None]]:
    """The records of a bulk answer as (diaSourceId, alert or None); ValueError if it was cut short."""
    records: list[tuple[int, bytes | None]] = []
    offset = 0
    while offset < len(answer):
        if offset + BULK_FRAME_HEADER.size > len(answer):
            raise ValueError(f"bulk answer cut short after {len(records)} records")
        dia_source_id, length = BULK_FRAME_HEADER.unpack_from(answer, offset)
        offset += BULK_FRAME_HEADER.size
        if offset + length > len(answer):
            raise ValueError(f"bulk answer cut short in the record of {dia_source_id}")
        records.append((dia_source_id, answer[offset : offset + length] if length else None))
        offset += length
    return records


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


class RequestMetrics:
    """ASGI middleware: requests counted by route template and status, and their latency.

    Labels use the route template (e.g. /v1/alerts/{dia_source_id}), never the raw path, so
    clients cannot grow the number of series.
    """

    def __init__(self, app: ASGIApp, registry: CollectorRegistry) -> None:
        self.app = app
        self.requests = Counter(
            "alertdist_archive_http_requests",
            "HTTP requests by route and status",
            ["route", "status"],
            registry=registry,
        )
        self.seconds = Histogram(
            "alertdist_archive_http_request_seconds",
            "HTTP request latency by route",
            ["route"],
            registry=registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            self.requests.labels(template, str(status)).inc()
            self.seconds.labels(template).observe(time.perf_counter() - started)


def gzipped(key: str, stored: bytes) -> bytes:
    """An alert as served: gzip, as stored; an uncompressed object (Rubin's fallback) compressed
    here, deterministically, so that gzip.decompress works for every alert."""
    return stored if is_compressed(key) else compress_alert(stored)


def create_app(
    store: ObjectStore, metrics: CollectorRegistry | None = None, schema_store: ObjectStore | None = None
) -> FastAPI:
    """The API over the alerts in `store` and the schemas in `schema_store` (default: `store`);
    with a metrics registry, requests are recorded in it."""
    schemas = schema_store or store
    app = FastAPI(
        title="Rubin alert archive",
        version="1",
        description=(
            "LSST alerts by diaSourceId and their schemas by id, as Rubin's alert database answers: "
            "an alert is gzip of its Confluent-framed Avro as application/octet-stream with no "
            "Content-Encoding (gzip.decompress(response.content)); a schema is its bare Avro JSON."
        ),
    )
    if metrics is not None:
        app.add_middleware(RequestMetrics, registry=metrics)

    @app.exception_handler(RequestValidationError)
    async def bad_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        """A malformed body is a 400 with the reason, as a malformed id is."""
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"][1:]) or "body"
        return JSONResponse({"detail": f"{where}: {first['msg']}"}, status_code=400)

    async def fetch(bucket: ObjectStore, key: str) -> bytes | None:
        try:
            return await run_in_threadpool(bucket.get, key)
        except StoreUnavailableError as exc:
            raise HTTPException(503, "the archive's object store is unavailable; retry later") from exc

    async def first_stored(bucket: ObjectStore, keys: tuple[str, ...]) -> tuple[str, bytes] | None:
        """The first of `keys` stored, and its bytes; None if none is."""
        for key in keys:
            stored = await fetch(bucket, key)
            if stored is not None:
                return key, stored
        return None

    async def stored_alert(dia_source_id: int) -> bytes | None:
        """The alert as both alert routes serve it, or None if it is not archived."""
        found = await first_stored(store, alert_keys_to_read(dia_source_id))
        return None if found is None else gzipped(*found)

    def cacheable(data: bytes, media_type: str, if_none_match: str | None) -> Response:
        """`data`, immutable, with an ETag; 304 when the client holds it already."""
        etag = f'"{hashlib.sha256(data).hexdigest()[:32]}"'
        headers = {"ETag": etag, "Cache-Control": IMMUTABLE}
        if if_none_match is not None and etag in (tag.strip() for tag in if_none_match.split(",")):
            return Response(status_code=304, headers=headers)
        return Response(content=data, media_type=media_type, headers=headers)

    @app.get("/v1/health", response_model=Health, responses={503: {"model": Problem}})
    async def health() -> Health:
        await fetch(schemas, schema_key(0))  # a cheap round trip to the store
        return Health(status="ok", store="reachable")

    @app.get(
        "/v1/alerts/{dia_source_id}",
        response_class=Response,
        responses={
            200: {
                "content": {ALERT_RESPONSE_TYPE: {}},
                "description": "The alert as stored: gzip of its Confluent-framed Avro (gzip.decompress it)",
            },
            400: {"model": Problem},
            404: {"model": Problem},
            503: {"model": Problem},
        },
    )
    async def alert(
        dia_source_id: Annotated[str, id_parameter("the alert's diaSourceId", INT64_MAX)],
        if_none_match: Annotated[str | None, Header()] = None,
    ) -> Response:
        found = parse_id(dia_source_id, "diaSourceId")
        data = await stored_alert(found)
        if data is None:
            raise HTTPException(404, f"no alert with diaSourceId {found}")
        return cacheable(data, ALERT_RESPONSE_TYPE, if_none_match)

    @app.post(
        "/v1/bulk/alerts",
        response_class=StreamingResponse,
        responses={
            200: {
                "content": {BULK_MEDIA_TYPE: {}},
                "description": (
                    "One record per requested id, in request order: the diaSourceId as a big-endian "
                    "int64, the alert's length as a big-endian uint32 (0: not in the archive), then "
                    "the alert, byte for byte as GET /v1/alerts/{dia_source_id} returns it. The "
                    "answer streams; one that ends mid-record was cut short (the store failed): "
                    "ask again for the ids not received."
                ),
            },
            400: {"model": Problem},
            503: {"model": Problem},
        },
    )
    async def alerts_in_bulk(request: BulkRequest) -> StreamingResponse:
        """Many alerts in one request: up to 1,000 diaSourceIds, for backfills."""
        ids = request.ids
        first = await stored_alert(ids[0])  # an unreachable store is still a 503 here

        async def records() -> AsyncIterator[bytes]:
            pending: deque[tuple[int, asyncio.Task[bytes | None]]] = deque()
            try:
                yield frame(ids[0], first)
                for dia_source_id in ids[1:]:
                    pending.append((dia_source_id, asyncio.ensure_future(stored_alert(dia_source_id))))
                    if len(pending) >= BULK_IN_FLIGHT:
                        done_id, task = pending.popleft()
                        yield frame(done_id, await task)
                while pending:
                    done_id, task = pending.popleft()
                    yield frame(done_id, await task)
            finally:
                for _, task in pending:
                    task.cancel()

        return StreamingResponse(records(), media_type=BULK_MEDIA_TYPE)

    @app.get(
        "/v1/schemas/{schema_id}",
        response_class=Response,
        responses={
            200: {"content": {SCHEMA_CONTENT_TYPE: {}}, "description": "The Avro schema of this id, as JSON"},
            400: {"model": Problem},
            404: {"model": Problem},
            503: {"model": Problem},
        },
    )
    async def schema(
        schema_id: Annotated[str, id_parameter("registry id, MAJOR*100+MINOR", INT32_MAX)],
        if_none_match: Annotated[str | None, Header()] = None,
    ) -> Response:
        found = parse_id(schema_id, "schema id", maximum=INT32_MAX)
        stored = await first_stored(schemas, schema_keys_to_read(found))
        if stored is None:
            raise HTTPException(404, f"no schema with id {found}")
        return cacheable(bare_schema(stored[1]), SCHEMA_CONTENT_TYPE, if_none_match)

    return app
