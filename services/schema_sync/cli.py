"""`alertdist-schema-sync`: load the LSST alert schemas into a schema registry."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys

import httpx

from alertdist_common.registry_sync import SchemaConflictError, sync_schemas

log = logging.getLogger("alertdist.schema_sync")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="alertdist-schema-sync", description=__doc__)
    parser.add_argument("--registry-url", default=os.environ.get("ALERTDIST_REGISTRY_URL"), required=False)
    parser.add_argument("--username", default=os.environ.get("ALERTDIST_REGISTRY_USERNAME"))
    args = parser.parse_args(argv)
    if not args.registry_url:
        parser.error("--registry-url or ALERTDIST_REGISTRY_URL is required")
    logging.basicConfig(level=logging.INFO, format='{"level":"%(levelname)s","msg":%(message)s}')
    logging.getLogger("httpx").setLevel(logging.WARNING)
    password = os.environ.get("ALERTDIST_REGISTRY_PASSWORD")
    auth = (args.username, password) if args.username and password else None
    with httpx.Client(base_url=args.registry_url, auth=auth, timeout=30) as http:
        try:
            report = sync_schemas(http)
        except (SchemaConflictError, httpx.HTTPError) as error:
            log.error(json.dumps(f"schema sync failed: {error}"))
            return 1
    log.info(json.dumps({"registered": report.registered, "unchanged": report.unchanged}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
