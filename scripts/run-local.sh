#!/usr/bin/env bash
# Run the system locally end to end: install what is missing, bring up the local facility
# (real Kafka, schema registry, S3 and GCS servers), deploy the local stack (topics, SCRAM
# users, ACLs, schemas, buckets), start the archive ingester and server, stream a visit of
# alerts with the producer, and prove delivery with the post-deploy suite.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
scripts/bootstrap.sh
scripts/facility up
scripts/facility deploy
scripts/facility services up
scripts/facility stream --alerts "${ALERTDIST_DEMO_ALERTS:-1000}"
scripts/postdeploy --stack-outputs "${ALERTDIST_RUN_DIR:-.run/local}/stack-outputs.json" -q
