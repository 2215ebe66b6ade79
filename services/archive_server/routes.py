"""The archive server's routes: alerts and schemas by id, straight from the object store. The
stores are the app's (`app.state.stores`, set by create_app)."""

from __future__ import annotations

import asyncio
import hashlib
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from alertdist_common.bulk import BULK_MEDIA_TYPE, frame
from services.archive_server.api import (
    ALERT_RESPONSE_TYPE,
    BULK_IN_FLIGHT,
    IMMUTABLE,
    INT32_MAX,
    INT64_MAX,
    BulkRequest,
    Health,
    Problem,
    bare_schema,
    gzipped,
    id_parameter,
    parse_id,
)
from services.common.storage import (
    SCHEMA_CONTENT_TYPE,
    ArchiveStores,
    ObjectStore,
    StoreUnavailableError,
    alert_keys_to_read,
    canary_keys_to_read,
    schema_key,
    schema_keys_to_read,
)

router = APIRouter()


def stores(request: Request) -> ArchiveStores:
    stored: ArchiveStores = request.app.state.stores
    return stored


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


KeysToRead = Callable[[int], tuple[str, ...]]


async def stored_alert(bucket: ObjectStore, dia_source_id: int, keys: KeysToRead) -> bytes | None:
    """The alert as the single and the bulk routes serve it, or None if it is not archived."""
    found = await first_stored(bucket, keys(dia_source_id))
    return None if found is None else gzipped(*found)


def cacheable(data: bytes, media_type: str, if_none_match: str | None) -> Response:
    """`data`, immutable, with an ETag; 304 when the client holds it already."""
    etag = f'"{hashlib.sha256(data).hexdigest()[:32]}"'
    headers = {"ETag": etag, "Cache-Control": IMMUTABLE}
    if if_none_match is not None and etag in (tag.strip() for tag in if_none_match.split(",")):
        return Response(status_code=304, headers=headers)
    return Response(content=data, media_type=media_type, headers=headers)


@router.get("/v1/health", response_model=Health, responses={503: {"model": Problem}})
async def health(request: Request) -> Health:
    await fetch(stores(request).schemas, schema_key(0))  # a cheap round trip to the store
    return Health(status="ok", store="reachable")


ALERT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {ALERT_RESPONSE_TYPE: {}},
        "description": "The alert as stored: gzip of its Confluent-framed Avro (gzip.decompress it)",
    },
    400: {"model": Problem},
    404: {"model": Problem},
    503: {"model": Problem},
}
BULK_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {BULK_MEDIA_TYPE: {}},
        "description": (
            "One record per requested id, in request order: the diaSourceId as a big-endian "
            "int64, the alert's length as a big-endian uint32 (0: not in the archive), then "
            "the alert, byte for byte as the single route returns it. The answer streams; one "
            "that ends mid-record was cut short (the store failed): ask again for the ids not "
            "received."
        ),
    },
    400: {"model": Problem},
    503: {"model": Problem},
}
DiaSourceId = Annotated[str, id_parameter("the alert's diaSourceId", INT64_MAX)]


async def one_alert(
    request: Request, dia_source_id: str, if_none_match: str | None, keys: KeysToRead, what: str
) -> Response:
    found = parse_id(dia_source_id, "diaSourceId")
    data = await stored_alert(stores(request).alerts, found, keys)
    if data is None:
        raise HTTPException(404, f"no {what} with diaSourceId {found}")
    return cacheable(data, ALERT_RESPONSE_TYPE, if_none_match)


async def many_alerts(request: Request, body: BulkRequest, keys: KeysToRead) -> StreamingResponse:
    ids, bucket = body.ids, stores(request).alerts
    first = await stored_alert(bucket, ids[0], keys)  # an unreachable store is still a 503 here

    async def records() -> AsyncIterator[bytes]:
        pending: deque[tuple[int, asyncio.Task[bytes | None]]] = deque()
        try:
            yield frame(ids[0], first)
            for dia_source_id in ids[1:]:
                pending.append(
                    (dia_source_id, asyncio.ensure_future(stored_alert(bucket, dia_source_id, keys)))
                )
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


@router.get("/v1/alerts/{dia_source_id}", response_class=Response, responses=ALERT_RESPONSES)
async def alert(
    request: Request, dia_source_id: DiaSourceId, if_none_match: Annotated[str | None, Header()] = None
) -> Response:
    return await one_alert(request, dia_source_id, if_none_match, alert_keys_to_read, "alert")


@router.post("/v1/bulk/alerts", response_class=StreamingResponse, responses=BULK_RESPONSES)
async def alerts_in_bulk(request: Request, body: BulkRequest) -> StreamingResponse:
    """Many alerts in one request: up to 1,000 diaSourceIds, for backfills."""
    return await many_alerts(request, body, alert_keys_to_read)


@router.get("/v1/canaries/{dia_source_id}", response_class=Response, responses=ALERT_RESPONSES)
async def canary(
    request: Request, dia_source_id: DiaSourceId, if_none_match: Annotated[str | None, Header()] = None
) -> Response:
    """A canary of the post-deploy suite (the stack's canary topic), kept apart from the alerts."""
    return await one_alert(request, dia_source_id, if_none_match, canary_keys_to_read, "canary")


@router.post("/v1/bulk/canaries", response_class=StreamingResponse, responses=BULK_RESPONSES)
async def canaries_in_bulk(request: Request, body: BulkRequest) -> StreamingResponse:
    """Many canaries in one request, as the alerts' bulk route."""
    return await many_alerts(request, body, canary_keys_to_read)


@router.get(
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
    request: Request,
    schema_id: Annotated[str, id_parameter("registry id, MAJOR*100+MINOR", INT32_MAX)],
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    found = parse_id(schema_id, "schema id", maximum=INT32_MAX)
    stored = await first_stored(stores(request).schemas, schema_keys_to_read(found))
    if stored is None:
        raise HTTPException(404, f"no schema with id {found}")
    return cacheable(bare_schema(stored[1]), SCHEMA_CONTENT_TYPE, if_none_match)
