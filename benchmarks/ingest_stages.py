"""Where the archive ingester's CPU goes, per alert: each stage of its hot path timed alone on
real alerts, against the running local facility's S3 server and GCS emulator; and what the
archive server pays to read an alert back from each.

uv run python -m benchmarks.ingest_stages    # prints and writes benchmarks/results/ingest_stages.json
"""

from __future__ import annotations

import time
from collections.abc import Callable

from benchmarks.harness import publish
from localfacility import objectstore
from localfacility.deploy import LocalDeployment
from localfacility.facility import LocalFacility
from localfacility.services import ArchiveServices
from localfacility.settings import FacilitySettings
from services.common.storage import ALERT_CONTENT_TYPE, GcsStore, alert_key, compress_alert
from services.common.wire import decode
from services.producer.alerts import AlertFactory

BUCKET = "benchmark-ingest-stages"


def cpu_ms_per_alert(alerts: list[bytes], stage: Callable[[int, bytes], object], rounds: int = 3) -> float:
    """Best-of-rounds CPU milliseconds of this process per alert (process time, not wall time)."""
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for index, alert in enumerate(alerts):
            stage(index, alert)
        best = min(best, time.process_time() - started)
    return best / len(alerts) * 1000


def main() -> int:
    factory = AlertFactory.from_package()
    alerts = [factory.encoded(10**12 + i) for i in range(300)]
    compressed = [compress_alert(alert) for alert in alerts]
    facility = LocalFacility(FacilitySettings())
    objectstore.ensure_buckets(facility.settings, facility.credentials, BUCKET)
    s3, gcs = (
        ArchiveServices(LocalDeployment(facility), backend=b, bucket=BUCKET).store() for b in ("s3", "gcs")
    )
    assert isinstance(gcs, GcsStore)
    gcs_library = gcs._bucket  # what GcsStore read through before
    boto3 = objectstore.s3_client(facility.settings, facility.credentials)  # what S3Store used before
    stages = {
        "decode (fastavro, whole alert)": lambda _i, a: decode(a, factory.parsed_schema),
        "compress (ISA-L gzip level 1)": lambda _i, a: compress_alert(a),
        "S3 put, boto3 put_object (before)": lambda i, _a: boto3.put_object(
            Bucket=BUCKET,
            Key=alert_key(i),
            Body=compressed[i],
            ContentType=ALERT_CONTENT_TYPE,
            ContentEncoding="gzip",
        ),
        "S3 put, S3Store on obstore (now)": lambda i, _a: s3.put(
            alert_key(i), compressed[i], ALERT_CONTENT_TYPE, "gzip"
        ),
        "GCS put, GcsStore on google-cloud-storage": lambda i, _a: gcs.put(
            alert_key(i), compressed[i], ALERT_CONTENT_TYPE, "gzip"
        ),
        "S3 get, S3Store on obstore": lambda i, _a: s3.get(alert_key(i)),
        "GCS get, google-cloud-storage (before)": lambda i, _a: gcs_library.blob(
            alert_key(i)
        ).download_as_bytes(raw_download=True),
        "GCS get, GcsStore on obstore (now)": lambda i, _a: gcs.get(alert_key(i)),
    }
    publish(
        "ingest_stages",
        {
            "alerts": len(alerts),
            "mean_alert_bytes": sum(map(len, alerts)) / len(alerts),
            "cpu_ms_per_alert": {name: cpu_ms_per_alert(alerts, stage) for name, stage in stages.items()},
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
