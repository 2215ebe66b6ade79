"""alertdist-archive-server: serve alerts and schemas from the archive's object store.

Settings: ALERTDIST_ARCHIVE_BACKEND, ALERTDIST_ARCHIVE_BUCKET, ALERTDIST_S3_ENDPOINT / AWS_* or
STORAGE_EMULATOR_HOST.
"""

from __future__ import annotations

import argparse
import sys

import uvicorn
from prometheus_client import CollectorRegistry
from pydantic import ValidationError

from services.archive_server.app import create_app
from services.common import logs
from services.common.metrics import add_metrics_arguments, serve_metrics
from services.common.settings import ArchiveSettings
from services.common.storage import open_archive


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="alertdist-archive-server", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (0.0.0.0 in a pod)")
    parser.add_argument("--port", type=int, default=8080)
    add_metrics_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    log = logs.configure("alertdist.archive_server")
    try:
        archive = ArchiveSettings()
    except ValidationError as exc:
        log.error("missing or bad settings", extra={"problems": [str(e["loc"][0]) for e in exc.errors()]})
        return 2
    metrics = CollectorRegistry() if args.metrics_port else None
    stores = open_archive(archive)
    app = create_app(stores.alerts, metrics, stores.schemas)
    if metrics is not None:
        serve_metrics(args.metrics_port, args.metrics_host, metrics)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_config=None,
        access_log=True,
        limit_concurrency=1000,
        # uvloop's event loop and httptools' parser, not asyncio's and h11's: 555 -> 699-736
        # requests/s and p99 194 -> 156-164 ms at 64 connections (scripts/benchmark --part archive).
        loop="uvloop",
        http="httptools",
        timeout_keep_alive=5,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
