"""After everything the tests did, the brokers' topics hold only alerts: a broker client that reads
from the oldest offset and stops at the first bad message (common) still reads the local facility
to the end. Bad input goes to the tests' own topic (the `bad_input` fixture)."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import fastavro
import pytest

from alertdist_common.schemas import schema_json, version_of_id
from localfacility.facility import LocalFacility
from services.common.wire import WireFormatError, decode, unframe

from .kafka_helpers import read_from


@cache
def parsed(schema_id: int) -> Any:
    return fastavro.parse_schema(json.loads(schema_json(version_of_id(schema_id))))


def not_an_alert(value: bytes) -> str | None:
    """Why a message is not an LSST alert, or None."""
    try:
        schema_id, _ = unframe(value)
        alert = decode(value, parsed(schema_id), schema_id)
    except (WireFormatError, LookupError, ValueError) as exc:
        return str(exc)
    return None if isinstance(alert.get("diaSourceId"), int) else "no integer diaSourceId"


@pytest.mark.last
@pytest.mark.timeout(900)
def test_the_brokers_topics_hold_only_alerts_after_the_tests(
    facility: LocalFacility, brokers_topics_at_start: dict[tuple[str, int], int]
) -> None:
    written = read_from(
        facility,
        brokers_topics_at_start,
        timeout=600,
        settings={"fetch.max.bytes": 64 * 2**20, "max.partition.fetch.bytes": 16 * 2**20},
    )
    assert written, "the tests wrote nothing to the brokers' topics: this check proves nothing"
    bad = {
        f"{m.topic()}[{m.partition()}]@{m.offset()}": reason
        for m in written
        if (reason := not_an_alert(m.value() or b"")) is not None
    }
    assert bad == {}, f"{len(bad)} of {len(written)} messages are not alerts"
