#!/usr/bin/env bash
# Install everything the project needs on a fresh machine: uv, the locked Python
# environment, and the local facility's servers (Kafka jars, schema registry,
# S3 and GCS servers, PostgreSQL). Idempotent: a second run only checks.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

uv sync --frozen --quiet
uv run --frozen alertdist-facility install
