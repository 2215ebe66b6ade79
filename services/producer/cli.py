"""alertdist-producer: replay LSST alerts into Kafka at visit cadence.

Credentials come from ALERTDIST_KAFKA_BOOTSTRAP, ALERTDIST_KAFKA_USERNAME and ALERTDIST_KAFKA_PASSWORD.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from pydantic import ValidationError
from tqdm import tqdm

from alertdist_common.kafka import KafkaSettings
from alertdist_common.schemas import latest_version
from services.common import logs
from services.common.metrics import add_metrics_arguments
from services.producer.alerts import AlertFactory, AlertInputError, read_alert_file
from services.producer.metrics import ProducerMetrics
from services.producer.producer import AlertProducer, DeliveryError


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="alertdist-producer", description=__doc__)
    parser.add_argument("--topic", default="alerts-simulated")
    parser.add_argument(
        "--alerts-per-visit", type=int, default=10_000, help="alerts in each visit (max 40,000)"
    )
    parser.add_argument("--visits", type=int, default=1, help="number of visits to produce")
    parser.add_argument("--forever", action="store_true", help="keep producing visits until stopped")
    parser.add_argument(
        "--visit-interval", type=float, default=37.0, help="seconds from one visit's start to the next"
    )
    parser.add_argument(
        "--rate", type=float, default=0.0, help="cap on alerts per second (0: as fast as Kafka takes them)"
    )
    parser.add_argument(
        "--first-id", type=int, default=None, help="first diaSourceId (default: now in microseconds)"
    )
    parser.add_argument(
        "--alerts-file", type=Path, action="append", help="Avro file of template alerts (repeatable)"
    )
    add_metrics_arguments(parser)
    args = parser.parse_args(argv)
    if not 1 <= args.alerts_per_visit <= 40_000:
        parser.error("--alerts-per-visit must be between 1 and 40,000")
    if args.visits < 1 or args.visit_interval <= 0 or args.rate < 0:
        parser.error("--visits must be positive, --visit-interval above 0, --rate not negative")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    log = logs.configure("alertdist.producer")
    try:
        kafka = KafkaSettings()
        if args.alerts_file:
            templates = [alert for path in args.alerts_file for alert in read_alert_file(path)]
            factory = AlertFactory(templates, latest_version())
        else:
            factory = AlertFactory.from_package()
        producer = AlertProducer(kafka, args.topic, factory)
        producer.check_connection()
    except ValidationError as exc:
        log.error("missing or bad settings", extra={"problems": [e["loc"][0] for e in exc.errors()]})
        return 2
    except (AlertInputError, DeliveryError) as exc:
        log.error(str(exc))
        return 2
    metrics = ProducerMetrics.serve(args.metrics_port, args.metrics_host) if args.metrics_port else None
    next_id = args.first_id if args.first_id is not None else time.time_ns() // 1000
    visit = 0
    while args.forever or visit < args.visits:
        started = time.monotonic()
        with tqdm(
            total=args.alerts_per_visit, desc=f"visit {visit}", unit="alert", disable=not sys.stderr.isatty()
        ) as bar:
            try:
                report = producer.produce_visit(visit, next_id, args.alerts_per_visit, args.rate, bar.update)
            except DeliveryError as exc:
                log.error(str(exc))
                return 1
        if metrics is not None:
            metrics.record(report)
        next_id += args.alerts_per_visit
        visit += 1
        if args.forever or visit < args.visits:
            time.sleep(max(0.0, started + args.visit_interval - time.monotonic()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
