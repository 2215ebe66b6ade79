"""alertdist-archive-ingester: copy every alert from Kafka into the archive's object store.

Settings: ALERTDIST_KAFKA_* (its own SCRAM user), ALERTDIST_REGISTRY_URL, ALERTDIST_ARCHIVE_BACKEND,
ALERTDIST_ARCHIVE_BUCKET, ALERTDIST_S3_ENDPOINT / AWS_* or STORAGE_EMULATOR_HOST, ALERTDIST_TOPICS,
ALERTDIST_CANARY_TOPIC, ALERTDIST_DEAD_LETTER_TOPIC.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from prometheus_client import CollectorRegistry, Metric
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector
from pydantic import ValidationError

from alertdist_common.kafka import KafkaSettings
from services.archive_ingester.ingester import DEFAULT_GROUP, ArchiveIngester, IngestStats
from services.common import logs
from services.common.metrics import add_metrics_arguments, serve_metrics
from services.common.registry import RegistrySchemas
from services.common.settings import ArchiveSettings, RegistrySettings
from services.common.storage import open_archive

METRICS = {
    "alertdist_archive_alerts_total": ("alerts", "Alerts stored in the archive"),
    "alertdist_archive_dead_letters_total": ("dead_letters", "Alerts sent to the dead-letter topic"),
    "alertdist_archive_schemas": ("schemas", "Alert schemas copied into the archive"),
    "alertdist_archive_batches_total": ("batches", "Batches committed"),
    "alertdist_archive_retries_total": ("retries", "Retries after an object store or Kafka failure"),
}

ALERT_AGE_METRIC = "alertdist_archive_alert_age_seconds"


class IngestCollector(Collector):
    """The latest IngestStats, for the metrics port (what a pod's scraper reads)."""

    def __init__(self) -> None:
        self.stats = IngestStats()

    def collect(self) -> Iterator[Metric]:
        for name, (field, help_text) in METRICS.items():
            family = CounterMetricFamily if name.endswith("_total") else GaugeMetricFamily
            yield family(name.removesuffix("_total"), help_text, value=getattr(self.stats, field))
        yield HistogramMetricFamily(
            ALERT_AGE_METRIC,
            "Age of each alert when archived and committed, from its Kafka timestamp",
            buckets=self.stats.ages.cumulative(),
            sum_value=self.stats.ages.total_seconds,
        )


def write_metrics(path: Path, stats: IngestStats) -> None:
    """The same figures in Prometheus text format, replaced atomically (textfile style): they
    outlive the process, which the local facility's crash tests read after a kill."""
    lines = [f"{name} {getattr(stats, field)}" for name, (field, _) in METRICS.items()]
    partial = path.with_suffix(".tmp")
    partial.write_text("\n".join(lines) + "\n")
    partial.replace(path)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="alertdist-archive-ingester", description=__doc__)
    parser.add_argument(
        "--topics", default=os.environ.get("ALERTDIST_TOPICS", "alerts-simulated,lsst-alerts-v11")
    )
    parser.add_argument(
        "--canary-topic",
        default=os.environ.get("ALERTDIST_CANARY_TOPIC", ""),
        help="the post-deploy suite's canaries, archived apart from the alerts (none if empty)",
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
    parser.add_argument(
        "--max-poll-interval",
        type=float,
        default=300.0,
        help="seconds a stuck process may go unpolled before it leaves the group (outages do not count)",
    )
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--writers", type=int, default=16, help="parallel object store writes")
    parser.add_argument("--gzip-level", type=int, default=1, choices=range(4))
    parser.add_argument(
        "--metrics-file", type=Path, help="write Prometheus metrics here after each batch and each retry"
    )
    add_metrics_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
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
        open_archive(archive),
        RegistrySchemas(registry),
        batch_size=args.batch_size,
        writers=args.writers,
        gzip_level=args.gzip_level,
        group=args.group,
        max_poll_interval_s=args.max_poll_interval,
        canary_topic=args.canary_topic or None,
    )
    collector = IngestCollector()
    if args.metrics_port:
        scraped = CollectorRegistry()
        scraped.register(collector)
        serve_metrics(args.metrics_port, args.metrics_host, scraped)

    def on_stats(stats: IngestStats) -> None:
        collector.stats = stats
        if args.metrics_file:
            write_metrics(args.metrics_file, stats)

    ingester.run(stop, on_stats=on_stats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
