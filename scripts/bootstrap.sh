#!/usr/bin/env bash
# Install everything the project needs on a fresh machine: uv, the locked Python
# environment, and the local facility's servers (Kafka jars, schema registry,
# S3 and GCS servers, PostgreSQL, nginx) and the Pulumi CLI. Idempotent: a second
# run only checks. `--kubernetes-provider` also builds the provider that renders
# of the facility stacks need (the tests do; the local stack does not).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

uv sync --frozen --quiet
uv run --frozen alertdist-facility install "$@"
