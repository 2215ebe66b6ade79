"""LSST-scale visits through the whole local system, measured against Kafka itself.

    scripts/benchmark                  # full run: visits of 10,000 and 40,000 alerts, then the archive
    scripts/benchmark --quick          # a smoke run: visits of 1,000 and 2,000
    scripts/benchmark --part visits    # only the visits: brokers fetching only (repeated), then decoding
    scripts/benchmark --part archive   # only the archive server (single and bulk), on a fresh visit

Needs the local facility up with the local stack deployed and the archive services running
(`scripts/run-local.sh` leaves it so). Writes benchmarks/results/<name>.json and PNG plots.
Timings are reported, never asserted.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from benchmarks.archive_load import archive_server
from benchmarks.figures import VisitResult, visit_stats
from benchmarks.harness import RESULTS, Local, machine
from benchmarks.plots import plot
from benchmarks.producer_compare import producer_vs_kafka
from benchmarks.visit import archive_a_visit, ingester_draining, visit_end_to_end
from localfacility import objectstore
from localfacility.deploy import LocalDeployment
from localfacility.ports import free_port
from localfacility.services import ArchiveServices
from services.producer.alerts import AlertFactory


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="benchmark", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="visits of 1,000 and 2,000, two repeats: a smoke run"
    )
    parser.add_argument("--name", default=None, help="results file stem (default: the part, or quick)")
    parser.add_argument(
        "--part", choices=("all", "visits", "archive"), default="all", help="what to measure (default all)"
    )
    args = parser.parse_args(argv)
    local = Local.attach()
    factory = AlertFactory.from_package()
    results: dict[str, Any] = {"machine": machine(), "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    seconds = 5 if args.quick else 20
    if args.part == "archive":
        print("a visit to archive, then the archive server under load, on S3 and on GCS")
        ids = archive_a_visit(local, 2_000 if args.quick else 10_000, factory)
        results["archive_server"] = archive_on_both_stores(local, ids, seconds)
        return write(results, args.name or "archive")
    sizes = [1_000, 2_000] if args.quick else [10_000, 40_000]
    repeats = dict.fromkeys(sizes, 2) if args.quick else {10_000: 3, 40_000: 2}
    if args.part == "all":
        print("producer against kafka-producer-perf-test")
        results["producer"] = producer_vs_kafka(local, sizes, repeats, factory)
    visits: dict[int, VisitResult] = {}
    for decoding, key in ((False, "visits"), (True, "visits_decoding")):
        readers = "read and decode it" if decoding else "fetch it without decoding"
        for count in sizes:
            summaries = []
            for run in range(repeats[count] if not decoding else 1):
                print(
                    f"visit of {count:,} alerts ({run + 1}): seven brokers {readers}, the archive stores it"
                )
                visits[count] = visit_end_to_end(local, count, factory, decoding)
                summaries.append(visits[count].summary())
                print(f"  {json.dumps({k: v for k, v in summaries[-1].items() if k != 'resources'})}")
            results.setdefault(key, {})[str(count)] = {"stats": visit_stats(summaries), "runs": summaries}
    if args.part == "visits":
        return write(results, args.name or "visits")
    print("archive server under load")
    last = visits[sizes[-1]]
    ids = list(range(last.first_id, last.first_id + last.alerts))
    results["archive_server"] = archive_on_both_stores(local, ids, seconds)
    stem = RESULTS / (args.name or ("quick" if args.quick else "full"))
    results["plots"] = [plot(results, visits, stem).name]
    return write(results, stem.name)


def archive_on_both_stores(local: Local, ids: list[int], seconds: int) -> dict[str, Any]:
    """The stack's archive server on S3; then an archive of its own on the GCS emulator: its
    ingester drains the alert topic (the visit included) and is measured doing it, then its
    server is driven as the S3 one was. Both are stopped afterwards."""
    pids = local.service_pids()
    figures = {
        "s3": archive_server(
            local.outputs.archive_url, ids, {k: pids[k] for k in ("archive-server", "s3")}, seconds
        )
    }
    with gcs_archive(local) as services:
        print("the GCS archive's ingester drains the alert topic")
        figures["gcs_ingester"] = ingester_draining(local, services)
        print(f"  {json.dumps(figures['gcs_ingester'])}")
        server = local.facility.supervisor.start(services.server_spec())[0]
        servers = {"archive-server": server, "gcs": local.service_pids()["gcs"]}
        figures["gcs"] = archive_server(services.archive_url(), ids, servers, seconds)
    return figures


@contextmanager
def gcs_archive(local: Local) -> Iterator[ArchiveServices]:
    services = ArchiveServices(
        LocalDeployment(local.facility),
        backend="gcs",
        label="benchmark-gcs",
        bucket="alert-archive-benchmark-gcs",
        server_port=free_port(),
        metrics_port=free_port(),
    )
    objectstore.ensure_buckets(local.facility.settings, local.facility.credentials, services.bucket)
    try:
        yield services
    finally:
        for spec in services.specs():
            local.facility.supervisor.stop(spec)


def write(results: dict[str, Any], name: str) -> int:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results.get("archive_server", {}), indent=2))
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
