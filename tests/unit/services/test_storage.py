"""Archive object names and the stored form of an alert."""

from __future__ import annotations

import gzip

import pytest

from services.common.storage import (
    ALERT_CONTENT_TYPE,
    SCHEMA_CONTENT_TYPE,
    GcsStore,
    S3Store,
    StoreUnavailableError,
    alert_key,
    alert_keys_to_read,
    compress_alert,
    gcs_reader_config,
    gcs_reader_options,
    is_missing_bucket,
    schema_key,
    schema_keys_to_read,
    stored_metadata,
)


def test_compressed_alerts_are_standard_gzip_and_deterministic() -> None:
    alert = b"\x00\x00\x00\x04M" + bytes(range(256)) * 300
    stored = compress_alert(alert)
    assert gzip.decompress(stored) == alert
    assert compress_alert(alert) == stored  # a replay rewrites identical bytes
    assert len(stored) < len(alert)


@pytest.mark.parametrize("level", [-1, 4, 9])
def test_levels_outside_isal_range_are_refused(level: int) -> None:
    with pytest.raises(ValueError, match=r"outside ISA-L's 0\.\.3"):
        compress_alert(b"x", level)


def test_keys_follow_rubins_v2_layout() -> None:
    """lsst-dm/alert_database_ingester alertingest/storage.py: v2/alerts/<first 6 digits>/<id>.avro.gz
    and v2/schemas/<id>.json."""
    assert alert_key(170032915032604679) == "v2/alerts/170032/170032915032604679.avro.gz"
    assert alert_key(42) == "v2/alerts/42/42.avro.gz"  # fewer than 6 digits: the whole id, as str[:6]
    assert schema_key(1101) == "v2/schemas/1101.json"
    with pytest.raises(ValueError, match="negative"):
        alert_key(-1)


def test_the_server_reads_v2_then_rubins_uncompressed_fallback_then_the_flat_layout() -> None:
    assert alert_keys_to_read(170032915032604679) == (
        "v2/alerts/170032/170032915032604679.avro.gz",
        "v2/alerts/170032/170032915032604679.avro",
        "v1/alerts/170032915032604679.avro.gz",
    )
    assert schema_keys_to_read(1101) == ("v2/schemas/1101.json", "v1/schemas/1101.json")


@pytest.mark.parametrize(
    ("key", "metadata"),
    [
        ("v2/alerts/170032/170032915032604679.avro.gz", (ALERT_CONTENT_TYPE, "gzip")),
        ("v2/alerts/170032/170032915032604679.avro", (ALERT_CONTENT_TYPE, None)),
        ("v1/alerts/170032915032604679.avro.gz", (ALERT_CONTENT_TYPE, "gzip")),
        ("v2/schemas/1101.json", (SCHEMA_CONTENT_TYPE, None)),
        ("v1/schemas/1101.json", (SCHEMA_CONTENT_TYPE, None)),
    ],
)
def test_every_layout_has_its_stored_metadata(key: str, metadata: tuple[str, str | None]) -> None:
    assert stored_metadata(key) == metadata


def test_a_key_outside_the_layouts_is_refused() -> None:
    with pytest.raises(ValueError, match="not an alert or a schema"):
        stored_metadata("v2/notes.txt")


def test_s3_stores_keep_their_own_credentials() -> None:
    """Two facilities' stores in one process (the migration) must not share one's keys."""
    source = S3Store("bucket", "http://127.0.0.1:9", credentials=("source-key", "source-secret"))
    target = S3Store("bucket", "http://127.0.0.1:9", credentials=("target-key", "target-secret"))
    assert [store._store.config.get("access_key_id") for store in (source, target)] == [
        "source-key",
        "target-key",
    ]


def test_gcs_reads_sign_with_the_pods_credentials_and_the_emulator_reads_unsigned() -> None:
    assert gcs_reader_config(None) == {}
    emulator = gcs_reader_config("http://127.0.0.1:4443/")
    assert emulator == {"base_url": "http://127.0.0.1:4443", "skip_signature": True}


def test_gcs_reads_ask_for_the_stored_gzip_and_allow_http_only_to_an_emulator_on_http() -> None:
    facility = gcs_reader_options(None, 8)
    emulator = gcs_reader_options("http://127.0.0.1:4443", 8)
    assert facility["default_headers"] == emulator["default_headers"] == {"Accept-Encoding": "gzip"}
    assert "allow_http" not in facility
    assert emulator["allow_http"] == "true"
    assert facility["pool_max_idle_per_host"] == "8"


@pytest.mark.parametrize(
    ("answer", "missing_bucket"),
    [
        ("404 Not Found: <?xml version='1.0'?><Error><Code>NoSuchBucket</Code></Error>", True),
        ("404 Not Found: <?xml version='1.0'?><Error><Code>NoSuchKey</Code></Error>", False),
        ("404 Not Found: Not Found", False),  # fake-gcs-server, for either
    ],
)
def test_a_gcs_404_is_a_missing_bucket_only_when_gcs_says_so(answer: str, missing_bucket: bool) -> None:
    assert is_missing_bucket(answer) is missing_bucket


def test_an_unreachable_gcs_is_unavailable_not_a_missing_alert() -> None:
    store = GcsStore("bucket", "local", "http://127.0.0.1:9")
    with pytest.raises(StoreUnavailableError, match=r"GCS get of v2/alerts/1\.avro\.gz failed"):
        store.get("v2/alerts/1.avro.gz")
