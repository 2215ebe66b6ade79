"""The archive server's routes, on an in-memory store."""

from __future__ import annotations

import gzip
import json

import fastavro
import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from alertdist_common.bulk import BULK_MEDIA_TYPE, frame, read_frames
from services.archive_server.api import BULK_IN_FLIGHT, BULK_MAX_IDS
from services.archive_server.app import create_app
from services.common.storage import alert_key, alert_keys_to_read, canary_key, schema_key

from .memory_store import MemoryStore

SCHEMA = json.dumps({"type": "record", "name": "alert", "namespace": "lsst.v11_1", "fields": []})


@pytest.fixture
def store() -> MemoryStore:
    memory = MemoryStore()
    memory.put(alert_key(123), gzip.compress(b"\x00alert"), "x", "gzip")
    memory.put("v1/schemas/1101.json", json.dumps({"schema": SCHEMA}).encode(), "x")  # the flat layout
    memory.put(schema_key(1102), SCHEMA.encode(), "x")  # v2: the bare schema
    return memory


@pytest.fixture
def client(store: MemoryStore) -> TestClient:
    return TestClient(create_app(store))


def test_alert_is_returned_as_stored_with_cache_headers(client: TestClient, store: MemoryStore) -> None:
    """As Rubin's alert database answers: the stored gzip bytes, no Content-Encoding, so its
    documented recipe `gzip.decompress(response.content)` works with any HTTP client."""
    response = client.get("/v1/alerts/123")
    assert response.status_code == 200
    assert response.content == store.blobs[alert_key(123)]
    assert gzip.decompress(response.content) == b"\x00alert"
    assert response.headers["content-type"] == "application/octet-stream"
    assert "content-encoding" not in response.headers
    assert "immutable" in response.headers["cache-control"]
    again = client.get("/v1/alerts/123", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304


@pytest.mark.parametrize("schema_id", [1101, 1102])
def test_schema_by_id_is_the_bare_avro_schema(client: TestClient, schema_id: int) -> None:
    response = client.get(f"/v1/schemas/{schema_id}")
    assert response.status_code == 200
    assert response.content == SCHEMA.encode()
    fastavro.parse_schema(response.json())


def test_the_flat_layout_written_before_still_serves(client: TestClient, store: MemoryStore) -> None:
    store.put("v1/alerts/77.avro.gz", gzip.compress(b"\x00old"), "x", "gzip")
    response = client.get("/v1/alerts/77")
    assert response.status_code == 200
    assert response.content == store.blobs["v1/alerts/77.avro.gz"]


def test_an_uncompressed_alert_is_served_gzipped(client: TestClient, store: MemoryStore) -> None:
    """Rubin's server falls back to <id>.avro where no .gz exists; served here as gzip, so
    gzip.decompress works for every alert."""
    store.put("v2/alerts/170032/170032915032604679.avro", b"\x00plain", "x")
    response = client.get("/v1/alerts/170032915032604679")
    assert response.status_code == 200
    assert gzip.decompress(response.content) == b"\x00plain"


def test_the_gzip_object_wins_over_the_uncompressed_one(client: TestClient, store: MemoryStore) -> None:
    store.put("v2/alerts/123/123.avro", b"\x00other", "x")
    assert client.get("/v1/alerts/123").content == store.blobs[alert_key(123)]


def test_schemas_come_from_their_own_bucket(store: MemoryStore) -> None:
    schemas = MemoryStore()
    schemas.put(schema_key(900), SCHEMA.encode(), "x")
    client = TestClient(create_app(store, schema_store=schemas))
    assert client.get("/v1/schemas/900").content == SCHEMA.encode()
    assert client.get("/v1/schemas/1102").status_code == 404  # the alert bucket is not asked
    assert client.get("/v1/alerts/123").status_code == 200


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/v1/alerts/999", 404),
        ("/v1/schemas/77", 404),
        ("/v1/alerts/abc", 400),
        ("/v1/alerts/-5", 400),
        ("/v1/alerts/1e5", 400),
        ("/v1/alerts/99999999999999999999", 400),
        ("/v1/alerts/" + "9" * 60, 400),
        ("/v1/alerts/" + "9" * 5000, 400),
        ("/v1/alerts/%00", 400),
        ("/v1/schemas/4294967296", 400),
        ("/v1/alerts/..%2F..%2Fetc%2Fpasswd", 404),
        ("/v1/alerts/../../etc/passwd", 404),
        ("/v1/alerts/", 404),
        ("/admin", 404),
    ],
)
def test_bad_ids_get_clear_errors(client: TestClient, path: str, status: int) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert response.json()["detail"]


def test_store_outage_is_a_503(client: TestClient, store: MemoryStore) -> None:
    store.down = True
    assert client.get("/v1/alerts/123").status_code == 503
    assert client.get("/v1/health").status_code == 503


def test_openapi_documents_the_routes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert set(paths) == {
        "/v1/health",
        "/v1/alerts/{dia_source_id}",
        "/v1/bulk/alerts",
        "/v1/canaries/{dia_source_id}",
        "/v1/bulk/canaries",
        "/v1/schemas/{schema_id}",
    }
    bulk = paths["/v1/bulk/alerts"]["post"]
    assert BULK_MEDIA_TYPE in bulk["responses"]["200"]["content"]
    assert "big-endian int64" in bulk["responses"]["200"]["description"]


def test_bulk_answers_every_id_in_order_byte_identical_to_the_single_route(
    client: TestClient, store: MemoryStore
) -> None:
    """More ids than are fetched at once, some missing, one stored uncompressed: each record is
    what GET /v1/alerts/{id} returns, in the order asked, and a missing alert is an empty record."""
    ids = [10_000 + i for i in range(3 * BULK_IN_FLIGHT + 5)]
    for i in ids[::2]:
        store.put(alert_key(i), gzip.compress(i.to_bytes(8, "big") * 50), "x", "gzip")
    store.put(alert_keys_to_read(ids[1])[1], b"\x00plain", "x")  # Rubin's uncompressed fallback
    asked = [*reversed(ids), ids[0]]
    response = client.post("/v1/bulk/alerts", json={"ids": asked})
    assert response.status_code == 200
    assert response.headers["content-type"] == BULK_MEDIA_TYPE
    records = read_frames(response.content)
    assert [dia_source_id for dia_source_id, _ in records] == asked
    for dia_source_id, alert in records:
        single = client.get(f"/v1/alerts/{dia_source_id}")
        assert alert == (single.content if single.status_code == 200 else None), dia_source_id
    assert sum(alert is not None for _, alert in records) == len(ids[::2]) + 2


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"ids": []}, "ids: List should have at least 1 item"),
        ({"ids": list(range(BULK_MAX_IDS + 1))}, "ids: List should have at most 1000 items"),
        ({"ids": [1, -5]}, "ids.1: Input should be greater than or equal to 0"),
        ({"ids": [2**63]}, "ids.0: Input should be less than or equal to 9223372036854775807"),
        ({"ids": ["7"]}, "ids.0: Input should be a valid integer"),
        ({"ids": [True]}, "ids.0: Input should be a valid integer"),
        ({"ids": [1.5]}, "ids.0: Input should be a valid integer"),
        ({"ids": [1], "more": 2}, "more: Extra inputs are not permitted"),
        ({"id": [1]}, "ids: Field required"),
    ],
)
def test_bulk_refuses_a_bad_request_with_the_reason(client: TestClient, body: object, reason: str) -> None:
    response = client.post("/v1/bulk/alerts", json=body)
    assert response.status_code == 400
    assert response.json()["detail"].startswith(reason)


def test_bulk_with_the_store_down_is_a_503(client: TestClient, store: MemoryStore) -> None:
    store.down = True
    assert client.post("/v1/bulk/alerts", json={"ids": [123]}).status_code == 503


def test_a_bulk_answer_cut_short_is_detected() -> None:
    whole = frame(1, b"abc") + frame(2, None) + frame(3, b"defg")
    assert read_frames(whole) == [(1, b"abc"), (2, None), (3, b"defg")]
    for cut in (len(whole) - 1, len(whole) - 5, 3):
        with pytest.raises(ValueError, match="cut short"):
            read_frames(whole[:cut])


def test_requests_are_counted_by_route_template_not_raw_path(store: MemoryStore) -> None:
    metrics = CollectorRegistry()
    client = TestClient(create_app(store, metrics))
    for path in ("/v1/alerts/123", "/v1/alerts/124", "/v1/alerts/x", "/v1/schemas/1101", "/nowhere"):
        client.get(path)

    def requests(route: str, status: str) -> float | None:
        return metrics.get_sample_value(
            "alertdist_archive_http_requests_total", {"route": route, "status": status}
        )

    assert requests("/v1/alerts/{dia_source_id}", "200") == 1
    assert requests("/v1/alerts/{dia_source_id}", "404") == 1
    assert requests("/v1/alerts/{dia_source_id}", "400") == 1
    assert requests("/v1/schemas/{schema_id}", "200") == 1
    assert requests("unmatched", "404") == 1
    assert (
        metrics.get_sample_value(
            "alertdist_archive_http_request_seconds_count", {"route": "/v1/alerts/{dia_source_id}"}
        )
        == 3
    )


def test_canaries_are_served_from_their_own_prefix_only(client: TestClient, store: MemoryStore) -> None:
    """A canary is not an alert and an alert is not a canary: each route reads its own prefix."""
    store.put(canary_key(9_000_000_000_000_000_010), gzip.compress(b"\x00canary"), "x", "gzip")
    canary = client.get("/v1/canaries/9000000000000000010")
    assert canary.status_code == 200
    assert gzip.decompress(canary.content) == b"\x00canary"
    assert client.get("/v1/alerts/9000000000000000010").status_code == 404
    missing = client.get("/v1/canaries/123")  # an alert's id
    assert missing.status_code == 404
    assert "no canary with diaSourceId 123" in missing.text
    bulk = client.post("/v1/bulk/canaries", json={"ids": [9_000_000_000_000_000_010, 123]})
    assert read_frames(bulk.content) == [(9_000_000_000_000_000_010, canary.content), (123, None)]
