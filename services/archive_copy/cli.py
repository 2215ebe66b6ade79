"""alertdist-archive-copy: copy the alert archive between object stores, verified by MD5.

  alertdist-archive-copy --source gcs://rubin-alert-archive-idf --target s3://rubin-alert-archive-usdf \\
      --target-endpoint https://s3dfrgw.slac.stanford.edu
  alertdist-archive-copy --source s3://alert-packets --source-schemas s3://alert-schemas \\
      --target s3://rubin-alert-archive-usdf      # Rubin's alert database, schemas in a bucket apart

GCS credentials come from the environment's Google credentials (or no credentials for an emulator
named by --source-endpoint/--target-endpoint); S3 credentials from the standard AWS_* variables.
Resumable and idempotent: run it again after an interruption and it copies only what is missing.
Exit status 0 only when every source object is verified in the target.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict

from services.archive_copy.copy import ArchiveCopier
from services.common import logs
from services.common.storage import GcsStore, ObjectStore, S3Store, StoreUnavailableError


class StoreLocation(BaseModel):
    """A bucket named as `s3://bucket` or `gcs://bucket`, with an optional endpoint."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["s3", "gcs"]
    bucket: str
    endpoint: str | None = None

    @classmethod
    def parse(cls, url: str, endpoint: str | None = None) -> StoreLocation:
        parts = urlsplit(url)
        scheme = {"gs": "gcs"}.get(parts.scheme, parts.scheme)
        if scheme not in ("s3", "gcs") or not parts.netloc or parts.path.strip("/"):
            raise ValueError(f"{url!r} is not a bucket: use s3://BUCKET or gcs://BUCKET")
        return cls(kind=scheme, bucket=parts.netloc, endpoint=endpoint)

    def open(self, gcs_project: str | None, workers: int) -> ObjectStore:
        if self.kind == "s3":
            return S3Store(self.bucket, self.endpoint, max_connections=workers)
        return GcsStore(self.bucket, gcs_project, self.endpoint, max_connections=workers)

    def __str__(self) -> str:
        return f"{self.kind}://{self.bucket}" + (f" at {self.endpoint}" if self.endpoint else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="alertdist-archive-copy",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--source", required=True, help="s3://BUCKET or gcs://BUCKET to copy from")
    parser.add_argument("--target", required=True, help="s3://BUCKET or gcs://BUCKET to copy to")
    parser.add_argument("--source-schemas", help="the source's schema bucket, when apart (Rubin's layout)")
    parser.add_argument("--target-schemas", help="the target's schema bucket, when apart")
    parser.add_argument("--source-endpoint", help="the source store's endpoint (S3 server or GCS emulator)")
    parser.add_argument("--target-endpoint", help="the target store's endpoint (S3 server or GCS emulator)")
    parser.add_argument("--gcs-project", help="Google Cloud project of a GCS bucket")
    parser.add_argument(
        "--prefix", default="", help="copy only keys under this prefix, e.g. v2/alerts/170 (default: all)"
    )
    parser.add_argument("--workers", type=int, default=16, help="objects copied at once (default: 16)")
    parser.add_argument("--attempts", type=int, default=3, help="tries per object before it counts as failed")
    parser.add_argument("--report", type=Path, help="also write the counts as JSON to this file")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar (default: on a terminal)")
    args = parser.parse_args(argv)
    logs.configure("archive-copy")

    try:
        source = StoreLocation.parse(args.source, args.source_endpoint)
        target = StoreLocation.parse(args.target, args.target_endpoint)
        source_schemas, target_schemas = (
            StoreLocation.parse(url, endpoint) if url else None
            for url, endpoint in (
                (args.source_schemas, args.source_endpoint),
                (args.target_schemas, args.target_endpoint),
            )
        )
        if {source, source_schemas} & {target, target_schemas} - {None}:
            raise ValueError("the source and the target are the same bucket")
        copier = ArchiveCopier(
            source.open(args.gcs_project, args.workers),
            target.open(args.gcs_project, args.workers),
            workers=args.workers,
            attempts=args.attempts,
            source_schemas=source_schemas.open(args.gcs_project, args.workers) if source_schemas else None,
            target_schemas=target_schemas.open(args.gcs_project, args.workers) if target_schemas else None,
        )
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    schemas = f" (schemas from {source_schemas})" if source_schemas else ""
    print(f"copying the archive from {source}{schemas} to {target}", file=sys.stderr, flush=True)
    try:
        report = copier.run(args.prefix, progress=not args.no_progress and sys.stderr.isatty())
    except StoreUnavailableError as error:
        print(f"error: cannot list the archive: {error}", file=sys.stderr)
        return 2
    print(report.summary(), flush=True)
    if args.report:
        args.report.write_text(json.dumps(report.as_dict(), indent=2) + "\n")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
