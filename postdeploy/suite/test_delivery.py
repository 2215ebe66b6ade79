"""Canary alerts reach every broker identity and the archive, intact and in time."""

from __future__ import annotations

import gzip
import statistics
import time

import httpx
import pytest

from alertdist_common.bulk import read_frames
from alertdist_common.outputs import StackOutputs

from .canary import CanaryRun
from .clients import archive


def test_broker_receives_every_canary(
    canaries: CanaryRun, broker_user: str, measurements: dict[str, str], request: pytest.FixtureRequest
) -> None:
    delivery = canaries.deliveries[broker_user]
    timeout = request.config.getoption("delivery_timeout")
    assert delivery.error is None, f"{broker_user}: {delivery.error}"
    assert not delivery.decode_errors, delivery.decode_errors[:3]
    missing = sorted(set(canaries.ids) - delivery.received.keys())
    assert not missing, (
        f"{broker_user} read {len(delivery.received)}/{len(canaries.ids)} canaries in {timeout:.0f} s"
    )
    assert all(delivery.received[i] == canaries.encoded[i] for i in canaries.ids), "a canary arrived altered"
    measurements[f"delivery to {broker_user}"] = (
        f"median {statistics.median(delivery.latencies_ms):.0f} ms, max {max(delivery.latencies_ms):.0f} ms"
    )


def test_delivery_latency_over_all_brokers(canaries: CanaryRun, measurements: dict[str, str]) -> None:
    latencies = sorted(ms for d in canaries.deliveries.values() for ms in d.latencies_ms)
    assert latencies, "no broker received a canary"
    p98 = latencies[min(len(latencies) - 1, int(0.98 * len(latencies)))]
    measurements["delivery latency, all brokers"] = (
        f"{len(latencies)} deliveries, median {statistics.median(latencies):.0f} ms, "
        f"p98 {p98:.0f} ms, max {latencies[-1]:.0f} ms"
    )
    assert p98 < 60_000, "LSST asks for 98% of alerts within 60 s"


def test_every_canary_is_archived_byte_identical(
    outputs: StackOutputs, canaries: CanaryRun, measurements: dict[str, str], request: pytest.FixtureRequest
) -> None:
    """Producer, Kafka, ingester, object store, server: the alerts' way, under the canaries' own
    prefix (v2/canaries/, which the facility expires), so the production archive holds no canary."""
    timeout: float = request.config.getoption("archive_timeout")
    deadline = canaries.produced_at + timeout
    pending = set(canaries.ids)
    altered = []
    with archive(outputs) as http:
        while pending and time.time() < deadline:
            for dia_source_id in sorted(pending):
                stored = _raw(http, f"/v1/canaries/{dia_source_id}")
                if stored is not None:
                    pending.discard(dia_source_id)
                    if gzip.decompress(stored) != canaries.encoded[dia_source_id]:
                        altered.append(dia_source_id)
            if pending:
                time.sleep(0.5)
    assert not pending, (
        f"{len(pending)}/{len(canaries.ids)} canaries not in the archive after {timeout:.0f} s"
    )
    assert not altered, f"archived canaries differ from what was produced: {altered[:5]}"
    measurements["archive"] = f"all {len(canaries.ids)} canaries served byte-identical " + (
        f"{time.time() - canaries.produced_at:.1f} s after production"
    )


def test_the_bulk_route_serves_the_canaries_as_the_single_route_does(
    outputs: StackOutputs, canaries: CanaryRun, measurements: dict[str, str]
) -> None:
    """Backfilling brokers fetch many alerts in one request: every canary, in the order asked,
    byte for byte as the single route serves it (the canaries' routes mirror the alerts')."""
    asked = sorted(canaries.ids, reverse=True)
    with archive(outputs) as http:
        answer = http.post("/v1/bulk/canaries", json={"ids": asked})
        answer.raise_for_status()
        records = read_frames(answer.content)
        assert [dia_source_id for dia_source_id, _ in records] == asked
        for dia_source_id, alert in records:
            assert alert is not None, f"{dia_source_id} missing from the bulk answer"
            assert alert == _raw(http, f"/v1/canaries/{dia_source_id}")
            assert gzip.decompress(alert) == canaries.encoded[dia_source_id]
    measurements["archive bulk"] = f"{len(asked)} canaries in one request, byte-identical"


def _raw(http: httpx.Client, path: str) -> bytes | None:
    """The body as brokers read it (Rubin's recipe: gzip.decompress(response.content)), or None
    while absent."""
    response = http.get(path)
    if response.status_code == 404:
        return None
    response.raise_for_status()
    return response.content
