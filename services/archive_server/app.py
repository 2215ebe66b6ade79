"""The alert archive's HTTP app: the routes (routes.py) over the archive's stores, with request
metrics when asked."""

from __future__ import annotations

import time

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.archive_server.routes import router
from services.common.storage import ArchiveStores, ObjectStore


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


def create_app(
    store: ObjectStore, metrics: CollectorRegistry | None = None, schema_store: ObjectStore | None = None
) -> FastAPI:
    """The API over the alerts in `store` and the schemas in `schema_store` (default: `store`);
    with a metrics registry, requests are recorded in it."""
    app = FastAPI(
        title="Rubin alert archive",
        version="1",
        description=(
            "LSST alerts by diaSourceId and their schemas by id, as Rubin's alert database answers: "
            "an alert is gzip of its Confluent-framed Avro as application/octet-stream with no "
            "Content-Encoding (gzip.decompress(response.content)); a schema is its bare Avro JSON."
        ),
    )
    app.state.stores = ArchiveStores(store, schema_store or store)
    if metrics is not None:
        app.add_middleware(RequestMetrics, registry=metrics)
    app.exception_handler(RequestValidationError)(bad_request)
    app.include_router(router)
    return app


async def bad_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
    """A malformed body is a 400 with the reason, as a malformed id is."""
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"][1:]) or "body"
    return JSONResponse({"detail": f"{where}: {first['msg']}"}, status_code=400)
