#!/usr/bin/env bash
# Run the system locally end to end: install what is missing, bring up the local
# facility (real Kafka, schema registry, S3 and GCS servers) and check that every
# service answers.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
scripts/bootstrap.sh
scripts/facility up
scripts/facility status
