#!/usr/bin/env bash
# The test command: lint, type-check, then unit and integration tests. The
# integration tests start the local facility once (or reuse a running one).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
scripts/bootstrap.sh
uv run --frozen ruff check .
uv run --frozen ruff format --check .
uv run --frozen mypy
uv run --frozen pytest "$@"
