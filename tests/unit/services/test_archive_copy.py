"""Copying the archive between stores: planned from listings, verified by MD5, resumable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.archive_copy.cli import StoreLocation, main
from services.archive_copy.copy import ArchiveCopier, plan_copy
from services.common.storage import (
    ALERT_CONTENT_TYPE,
    SCHEMA_CONTENT_TYPE,
    ObjectInfo,
    alert_key,
    md5_hex,
    schema_key,
)

from .memory_store import MemoryStore


def archive(alerts: int) -> MemoryStore:
    store = MemoryStore()
    for dia_source_id in range(alerts):
        store.put(alert_key(dia_source_id), f"gzip-{dia_source_id}".encode() * 50, ALERT_CONTENT_TYPE, "gzip")
    store.put(schema_key(1101), b'{"schema": "..."}', SCHEMA_CONTENT_TYPE)
    return store


def copier(source: MemoryStore, target: MemoryStore, **options: int) -> ArchiveCopier:
    return ArchiveCopier(source, target, workers=4, sleep=lambda _: None, **options)


def test_plan_copies_what_is_missing_or_differs_and_keeps_the_rest() -> None:
    same = ObjectInfo("v1/a", 3, md5_hex(b"abc"))
    differs = ObjectInfo("v1/b", 3, md5_hex(b"abc"))
    missing = ObjectInfo("v1/c", 3, md5_hex(b"abc"))
    unknown = ObjectInfo("v1/d", 3, None)  # no MD5 listed: nothing proves the copy is good
    plan = plan_copy(
        [missing, same, differs, unknown],
        [same, ObjectInfo("v1/b", 3, md5_hex(b"xyz")), ObjectInfo("v1/d", 3, None)],
    )
    assert [o.key for o in plan.to_copy] == ["v1/b", "v1/c", "v1/d"]
    assert plan.present == [same]
    assert plan.differing == ["v1/b", "v1/d"]
    assert plan.bytes_to_copy == 9


def test_everything_is_copied_with_its_metadata_and_verified() -> None:
    source, target = archive(40), MemoryStore()
    report = copier(source, target).run()
    assert report.ok
    assert target.blobs == source.blobs
    assert target.metadata == source.metadata
    assert (report.source_objects, report.copied, report.verified) == (41, 41, 41)
    assert report.copied_bytes == report.source_bytes == sum(len(b) for b in source.blobs.values())


def test_rubins_layout_with_a_schema_bucket_apart_and_the_flat_layout_are_copied_key_for_key() -> None:
    alerts, schemas, target = MemoryStore(), MemoryStore(), MemoryStore()
    alerts.put("v2/alerts/170032/170032915032604679.avro.gz", b"gz" * 40, ALERT_CONTENT_TYPE, "gzip")
    alerts.put("v2/alerts/170032/170032915032604680.avro", b"raw" * 40, ALERT_CONTENT_TYPE)
    alerts.put("v1/alerts/5.avro.gz", b"old" * 40, ALERT_CONTENT_TYPE, "gzip")
    schemas.put("v2/schemas/1101.json", b'{"type": "record"}', SCHEMA_CONTENT_TYPE)
    copy = ArchiveCopier(alerts, target, workers=2, sleep=lambda _: None, source_schemas=schemas)
    report = copy.run()
    assert report.ok
    assert target.blobs == {**alerts.blobs, **schemas.blobs}
    assert target.metadata["v2/alerts/170032/170032915032604680.avro"] == (ALERT_CONTENT_TYPE, None)
    assert (report.source_objects, report.verified) == (4, 4)


def test_a_prefix_copies_that_share_alone() -> None:
    source, target = archive(40), MemoryStore()
    share = alert_key(17).rsplit("/", 1)[0] + "/"  # v2/alerts/17/: diaSourceId 17 alone
    report = copier(source, target).run(share)
    assert report.ok
    assert set(target.blobs) == {alert_key(17)}
    everything = copier(source, target).run()
    assert (everything.already_present, everything.copied) == (1, 40)


def test_a_second_run_copies_nothing() -> None:
    source, target = archive(20), MemoryStore()
    copier(source, target).run()
    puts = target.puts
    again = copier(source, target).run()
    assert again.ok
    assert (again.copied, again.already_present, again.verified) == (0, 21, 21)
    assert target.puts == puts


def test_an_interrupted_copy_resumes_where_the_target_stands() -> None:
    source, target = archive(30), MemoryStore()
    for key in sorted(source.blobs)[:12]:  # what a first, interrupted run had written
        target.put(key, source.blobs[key], *source.metadata[key])
    report = copier(source, target).run()
    assert report.ok
    assert (report.already_present, report.copied) == (12, 19)
    assert target.blobs == source.blobs


def test_a_differing_copy_in_the_target_is_replaced() -> None:
    source, target = archive(5), MemoryStore()
    target.put(alert_key(3), b"truncated", ALERT_CONTENT_TYPE, "gzip")
    report = copier(source, target).run()
    assert report.ok
    assert report.replaced == 1
    assert target.blobs[alert_key(3)] == source.blobs[alert_key(3)]


def test_passing_store_failures_are_retried() -> None:
    source, target = archive(10), MemoryStore()
    target.fail_puts = 2  # fewer than the attempts, so no object can run out of them
    report = copier(source, target, attempts=3).run()
    assert report.ok
    assert target.blobs == source.blobs


def test_a_corrupt_read_fails_that_object_only_and_says_why() -> None:
    source, target = archive(10), MemoryStore()
    source.corrupt_reads = {alert_key(7)}
    report = copier(source, target).run()
    assert not report.ok
    assert set(report.failed) == {alert_key(7)}
    assert "ChecksumMismatchError" in report.failed[alert_key(7)]
    assert alert_key(7) not in target.blobs
    assert report.verified == 10
    assert "INCOMPLETE" in report.summary()


def test_an_object_outside_the_archive_layout_is_refused_clearly() -> None:
    source, target = archive(2), MemoryStore()
    source.put("v1/notes.txt", b"hello", "text/plain")
    report = copier(source, target).run()
    assert "not an alert or a schema" in report.failed["v1/notes.txt"]
    assert report.verified == 3


def test_a_target_that_loses_writes_is_caught_by_the_verification() -> None:
    class ForgetfulStore(MemoryStore):
        def put(self, key: str, data: bytes, *args: object, **kwargs: object) -> None:
            if key != alert_key(1):
                super().put(key, data, *args, **kwargs)  # type: ignore[arg-type]

    source, target = archive(3), ForgetfulStore()
    report = copier(source, target).run()
    assert report.not_verified == [alert_key(1)]
    assert not report.ok


@pytest.mark.parametrize(
    ("url", "kind", "bucket"),
    [
        ("gcs://rubin-alert-archive-idf", "gcs", "rubin-alert-archive-idf"),
        ("gs://b", "gcs", "b"),
        ("s3://b/", "s3", "b"),
    ],
)
def test_locations(url: str, kind: str, bucket: str) -> None:
    location = StoreLocation.parse(url, "http://127.0.0.1:1")
    assert (location.kind, location.bucket, location.endpoint) == (kind, bucket, "http://127.0.0.1:1")


@pytest.mark.parametrize("url", ["file:///tmp/x", "s3://", "s3://bucket/some/prefix", "bucket"])
def test_bad_locations_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="is not a bucket"):
        StoreLocation.parse(url)


def test_the_command_refuses_to_copy_a_bucket_onto_itself(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--source", "s3://a", "--target", "s3://a"]) == 2
    assert "the same bucket" in capsys.readouterr().err


def test_the_command_reports_counts_as_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source, target = archive(4), MemoryStore()
    stores = {"gcs": source, "s3": target}
    monkeypatch.setattr(StoreLocation, "open", lambda self, *args: stores[self.kind])
    report = tmp_path / "report.json"
    assert main(["--source", "gcs://idf", "--target", "s3://usdf", "--report", str(report)]) == 0
    counts = json.loads(report.read_text())
    assert (counts["ok"], counts["copied"], counts["verified"]) == (True, 5, 5)
    assert "archive copy complete" in capsys.readouterr().out
    source.corrupt_reads = {alert_key(0)}
    target.blobs.clear()
    assert main(["--source", "gcs://idf", "--target", "s3://usdf", "--no-progress"]) == 1


def test_a_target_that_stays_down_fails_every_object_and_loses_nothing() -> None:
    source, target = archive(3), MemoryStore()
    target.fail_puts = 100
    report = copier(source, target, attempts=2).run()
    assert not report.ok
    assert set(report.failed) == set(source.blobs)
    assert all("put refused" in reason for reason in report.failed.values())
    assert (report.copied, report.verified, len(source.blobs)) == (0, 0, 4)
