"""The archive speaks Rubin's alert database: an archive written exactly as Rubin's ingester writes
it (lsst-dm/alert_database_ingester: v2 keys, level-9 gzip with a timestamp, the bare schema in a
bucket apart, an uncompressed .avro now and then) is served and copied, and brokers' documented
recipe decodes what our server returns."""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import fastavro
import httpx
import pytest

from alertdist_common.schemas import same_schema
from localfacility import objectstore
from localfacility.deploy import LocalDeployment
from localfacility.facility import LocalFacility
from localfacility.ports import free_port
from localfacility.services import ArchiveServices
from services.common.storage import compress_alert

from .test_archive import FACTORY, produce

ALERTS = 12
UNCOMPRESSED = 3  # the index of the alert Rubin's ingester stored without compression


def rubin_alert_key(dia_source_id: int, compressed: bool = True) -> str:
    """Rubin's key scheme, written out here as its ingester writes it (alertingest/storage.py)."""
    digits = str(dia_source_id)
    return f"v2/alerts/{digits[:6]}/{digits}.avro" + (".gz" if compressed else "")


def s3_client(archive: ArchiveServices) -> Any:
    env = archive.store_env()
    return boto3.client(
        "s3",
        endpoint_url=env["ALERTDIST_S3_ENDPOINT"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name="us-east-1",
    )


def server_of(facility: LocalFacility, label: str, bucket: str, schema_bucket: str | None) -> ArchiveServices:
    archive = ArchiveServices(
        LocalDeployment(facility),
        backend="s3",
        label=label,
        bucket=bucket,
        schema_bucket=schema_bucket,
        server_port=free_port(),
        metrics_port=free_port(),
    )
    for name in {bucket, schema_bucket or bucket}:
        objectstore.ensure_buckets(facility.settings, facility.credentials, name)
    return archive


@pytest.fixture(scope="module")
def rubin(
    facility: LocalFacility, local_stack: dict[str, Any]
) -> Iterator[tuple[ArchiveServices, list[int]]]:
    """Rubin's two buckets filled as its ingester fills them, served by our archive server."""
    archive = server_of(facility, "rubin", "rubin-alert-packets", "rubin-alert-schemas")
    client = s3_client(archive)
    schema = httpx.get(f"{local_stack['registryUrl']}/schemas/ids/{FACTORY.schema_id}", timeout=10)
    client.put_object(
        Bucket="rubin-alert-schemas", Key=f"v2/schemas/{FACTORY.schema_id}.json", Body=schema.json()["schema"]
    )
    first_id = time.time_ns() // 1000
    ids = [first_id + i for i in range(ALERTS)]
    for index, dia_source_id in enumerate(ids):
        payload = FACTORY.encoded(dia_source_id)
        compressed = index != UNCOMPRESSED
        client.put_object(
            Bucket="rubin-alert-packets",
            Key=rubin_alert_key(dia_source_id, compressed),
            Body=gzip.compress(payload) if compressed else payload,  # level 9, with a timestamp
        )
    facility.supervisor.start(archive.server_spec())
    yield archive, ids
    facility.supervisor.stop(archive.server_spec())


def decode_as_brokers_do(archive_url: str, dia_source_id: int) -> dict[str, Any]:
    """Rubin's documented recipe: gzip.decompress the body, read the schema id, fetch that schema
    from the archive, and read the Avro record."""
    response = httpx.get(f"{archive_url}/v1/alerts/{dia_source_id}", timeout=10)
    response.raise_for_status()
    framed = io.BytesIO(gzip.decompress(response.content))
    assert framed.read(1) == b"\x00"
    schema_id = int.from_bytes(framed.read(4), "big")
    schema = httpx.get(f"{archive_url}/v1/schemas/{schema_id}", timeout=10).json()
    record: dict[str, Any] = fastavro.schemaless_reader(framed, fastavro.parse_schema(schema), None)
    return record


def test_rubins_recipe_decodes_every_alert_of_a_rubin_layout_archive(
    rubin: tuple[ArchiveServices, list[int]],
) -> None:
    archive, ids = rubin
    for dia_source_id in ids:
        alert = decode_as_brokers_do(archive.archive_url(), dia_source_id)
        assert alert["diaSourceId"] == dia_source_id
    response = httpx.get(f"{archive.archive_url()}/v1/alerts/{ids[0]}", timeout=10)
    assert response.headers["content-type"] == "application/octet-stream"
    assert "content-encoding" not in response.headers
    assert gzip.decompress(response.content) == FACTORY.encoded(ids[0])


def test_rubins_uncompressed_fallback_is_served_gzipped(rubin: tuple[ArchiveServices, list[int]]) -> None:
    archive, ids = rubin
    response = httpx.get(f"{archive.archive_url()}/v1/alerts/{ids[UNCOMPRESSED]}", timeout=10)
    assert response.status_code == 200
    assert response.content == compress_alert(FACTORY.encoded(ids[UNCOMPRESSED]))


def test_the_schema_body_is_the_registrys_avro_schema(
    rubin: tuple[ArchiveServices, list[int]], local_stack: dict[str, Any]
) -> None:
    archive, _ = rubin
    served = httpx.get(f"{archive.archive_url()}/v1/schemas/{FACTORY.schema_id}", timeout=10)
    assert served.status_code == 200
    fastavro.parse_schema(served.json())
    registry = httpx.get(f"{local_stack['registryUrl']}/schemas/ids/{FACTORY.schema_id}", timeout=10)
    assert same_schema(served.text, registry.json()["schema"])
    stack_archive = httpx.get(f"{local_stack['archiveUrl']}/v1/schemas/{FACTORY.schema_id}", timeout=10)
    assert stack_archive.content == served.content  # our ingester stores what Rubin's stores


def test_our_ingester_writes_rubins_layout(local_stack: dict[str, Any], facility: LocalFacility) -> None:
    """The stack's own archive: the alerts the tests produced are under Rubin's v2 keys, the schema
    at v2/schemas/<id>.json as its bare Avro JSON."""
    store = ArchiveServices(LocalDeployment(facility)).store()
    first_id = produce(local_stack, 5)
    deadline = time.monotonic() + 60
    while store.get(rubin_alert_key(first_id + 4)) is None:
        assert time.monotonic() < deadline, "the stack's ingester never archived the alerts"
        time.sleep(0.5)
    assert store.get(rubin_alert_key(first_id)) == compress_alert(FACTORY.encoded(first_id))
    schema = store.get(f"v2/schemas/{FACTORY.schema_id}.json")
    assert schema is not None
    fastavro.parse_schema(json.loads(schema))


def test_flat_layout_objects_written_before_still_serve(
    local_stack: dict[str, Any], facility: LocalFacility
) -> None:
    """An archive upgraded in place: objects of the flat v1 layout beside the new ones."""
    store = ArchiveServices(LocalDeployment(facility)).store()
    old_id = 1_000_000_000 + time.time_ns() % 1_000_000
    store.put(f"v1/alerts/{old_id}.avro.gz", compress_alert(FACTORY.encoded(old_id)), "x", "gzip")
    alert = decode_as_brokers_do(local_stack["archiveUrl"], old_id)
    assert alert["diaSourceId"] == old_id


def test_a_rubin_layout_archive_is_copied_verified_and_served_the_same(
    rubin: tuple[ArchiveServices, list[int]], facility: LocalFacility, tmp_path: Path
) -> None:
    source, ids = rubin
    target = server_of(facility, "from-rubin", f"alert-archive-from-rubin-{os.getpid()}", None)
    endpoint = source.store_env()["ALERTDIST_S3_ENDPOINT"]
    report = tmp_path / "copy.json"
    argv = [
        str(Path(sys.executable).parent / "alertdist-archive-copy"),
        "--source", "s3://rubin-alert-packets", "--source-schemas", "s3://rubin-alert-schemas",
        "--target", f"s3://{target.bucket}",
        "--source-endpoint", endpoint, "--target-endpoint", endpoint,
        "--report", str(report),
    ]  # fmt: skip
    env = {**os.environ, **{k: v for k, v in source.store_env().items() if k.startswith("AWS_")}}
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    counts = json.loads(report.read_text())
    assert counts["ok"] is True
    assert counts["verified"] == counts["source_objects"] >= ALERTS + 1
    facility.supervisor.start(target.server_spec())
    try:
        for path in [f"/v1/alerts/{i}" for i in ids] + [f"/v1/schemas/{FACTORY.schema_id}"]:
            before = httpx.get(source.archive_url() + path, timeout=10)
            after = httpx.get(target.archive_url() + path, timeout=10)
            assert (before.status_code, after.status_code) == (200, 200), path
            assert before.content == after.content, path
    finally:
        facility.supervisor.stop(target.server_spec())
