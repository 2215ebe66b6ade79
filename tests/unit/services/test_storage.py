"""Archive object names and the stored form of an alert."""

from __future__ import annotations

import gzip

import pytest

from services.common.storage import S3Store, alert_key, compress_alert, schema_key


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


def test_keys() -> None:
    assert alert_key(170032915032604679) == "v1/alerts/170032915032604679.avro.gz"
    assert schema_key(1101) == "v1/schemas/1101.json"
    with pytest.raises(ValueError, match="negative"):
        alert_key(-1)


def test_s3_stores_keep_their_own_credentials() -> None:
    """Two facilities' stores in one process (the migration) must not share one's keys."""
    source = S3Store("bucket", "http://127.0.0.1:9", credentials=("source-key", "source-secret"))
    target = S3Store("bucket", "http://127.0.0.1:9", credentials=("target-key", "target-secret"))
    assert [store._store.config.get("access_key_id") for store in (source, target)] == [
        "source-key",
        "target-key",
    ]
