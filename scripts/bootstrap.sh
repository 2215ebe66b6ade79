#!/usr/bin/env bash
# Install everything the project needs on a fresh machine: uv, the locked Python
# environment, and the local facility's servers (Kafka jars, schema registry,
# S3 and GCS servers, PostgreSQL, nginx) and the Pulumi CLI. Idempotent: a second
# run only checks. `--test-tools` also builds what only the tests use: the Kubernetes
# provider, and the local Kubernetes with KWOK (the facility stacks rendered and applied; the
# local stack has no Kubernetes), actionlint and promtool.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

uv sync --frozen --quiet
uv run --frozen alertdist-facility install "$@"
