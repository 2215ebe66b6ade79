"""alertdist-archive-ingester: copy every alert from Kafka into the archive's object store.

Settings: ALERTDIST_KAFKA_* (its own SCRAM user), ALERTDIST_REGISTRY_URL, ALERTDIST_ARCHIVE_BACKEND,
ALERTDIST_ARCHIVE_BUCKET, ALERTDIST_S3_ENDPOINT / AWS_* or STORAGE_EMULATOR_HOST, ALERTDIST_TOPICS,
ALERTDIST_DEAD_LETTER_TOPIC.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

from pydantic import ValidationError

from alertdist_common.kafka import KafkaSettings
from services.archive_ingester.ingester import DEFAULT_GROUP, ArchiveIngester, IngestStats
from services.common import logs
from services.common.registry import RegistrySchemas
from services.common.settings import ArchiveSettings, RegistrySettings
from services.common.storage import open_store


def write_metrics(path: Path, stats: IngestStats) -> None:
    """Prometheus text format, replaced atomically (node-exporter textfile style)."""
    lines = [
        f"alertdist_archive_alerts_total {stats.alerts}",
        f"alertdist_archive_dead_letters_total {stats.dead_letters}",
        f"alertdist_archive_schemas {stats.schemas}",
        f"alertdist_archive_batches_total {stats.batches}",
        f"alertdist_archive_retries_total {stats.retries}",
    ]
    partial = path.with_suffix(".tmp")
    partial.write_text("\n".join(lines) + "\n")
    partial.replace(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="alertdist-archive-ingester", description=__doc__)
    parser.add_argument(
        "--topics", default=os.environ.get("ALERTDIST_TOPICS", "alerts-simulated,lsst-alerts-v11")
    )
    parser.add_argument(
        "--dead-letter-topic",
        default=os.environ.get("ALERTDIST_DEAD_LETTER_TOPIC", "alert-archive-dead-letter"),
    )
    parser.add_argument(
        "--group",
        default=os.environ.get("ALERTDIST_ARCHIVE_GROUP", DEFAULT_GROUP),
        help="consumer group; a second archive (e.g. a new store during a migration) needs its own, "
        f"prefixed with {DEFAULT_GROUP!r}",
    )
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--writers", type=int, default=16, help="parallel object store writes")
    parser.add_argument("--gzip-level", type=int, default=1, choices=range(4))
    parser.add_argument(
        "--metrics-file", type=Path, help="write Prometheus metrics here after each batch and each retry"
    )
    args = parser.parse_args(argv)
    log = logs.configure("alertdist.archive_ingester")
    try:
        kafka, registry, archive = KafkaSettings(), RegistrySettings(), ArchiveSettings()
    except ValidationError as exc:
        log.error("missing or bad settings", extra={"problems": [str(e["loc"][0]) for e in exc.errors()]})
        return 2
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    ingester = ArchiveIngester(
        kafka,
        [t for t in args.topics.split(",") if t],
        args.dead_letter_topic,
        open_store(archive),
        RegistrySchemas(registry),
        batch_size=args.batch_size,
        writers=args.writers,
        gzip_level=args.gzip_level,
        group=args.group,
    )
    metrics = (lambda stats: write_metrics(args.metrics_file, stats)) if args.metrics_file else None
    ingester.run(stop, on_stats=metrics)
    return 0


if __name__ == "__main__":
    sys.exit(main())
