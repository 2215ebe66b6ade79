#!/usr/bin/env bash
# The test command: lint, type-check, then every tier of tests (unit, integration, post-deploy;
# a bare `uv run pytest` runs the unit tier alone). The integration tests start the local facility
# once (or reuse a running one). Arguments go to pytest; without a test path among them, all of
# `tests` runs.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
scripts/bootstrap.sh --test-tools
"${ALERTDIST_INSTALL_DIR:-${ALERTDIST_RUN_DIR:-.run/local}}/bin/actionlint"   # the GitHub workflows (.github/actionlint.yaml)
uv run --frozen ruff check .
uv run --frozen ruff format --check .
uv run --frozen mypy
has_path=0
for arg in "$@"; do [ -e "${arg%%::*}" ] && has_path=1; done
[ "$has_path" = 1 ] || set -- "$@" tests
uv run --frozen pytest "$@"
