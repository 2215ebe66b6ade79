"""The Confluent wire format shared by every service."""

from __future__ import annotations

import contextlib
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.common.wire import WireFormatError, decode, frame, unframe
from services.producer.alerts import AlertFactory

FACTORY = AlertFactory.from_package()


@pytest.fixture(scope="module")
def factory() -> AlertFactory:
    return FACTORY


def test_round_trip_keeps_id_and_cutouts(factory: AlertFactory) -> None:
    message = factory.encoded(42)
    assert message[0] == 0
    assert struct.unpack(">I", message[1:5])[0] == 1101 == factory.schema_id
    alert = decode(message, factory.parsed_schema, expected_id=1101)
    assert alert["diaSourceId"] == 42 == alert["diaSource"]["diaSourceId"]
    assert all(
        alert[f].startswith(b"SIMPLE  =") for f in ("cutoutDifference", "cutoutScience", "cutoutTemplate")
    )
    assert 70_000 < len(message) < 90_000


def test_every_alert_has_its_own_id(factory: AlertFactory) -> None:
    ids = {decode(factory.encoded(i), factory.parsed_schema)["diaSourceId"] for i in range(5)}
    assert ids == set(range(5))


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda m: m[:3], "too short"),
        (lambda m: b"\x01" + m[1:], "wrong magic byte 1"),
        (lambda m: m[:-10], "does not match schema"),
        (lambda m: m + b"\x00\x00", "trailing bytes"),
    ],
)
def test_broken_messages_say_why(factory: AlertFactory, mutate, reason: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(WireFormatError, match=reason):
        decode(mutate(factory.encoded(7)), factory.parsed_schema)


def test_unexpected_schema_id_is_refused(factory: AlertFactory) -> None:
    with pytest.raises(WireFormatError, match="schema id 1101 where 1100"):
        decode(factory.encoded(7), factory.parsed_schema, expected_id=1100)


def test_frame_and_unframe_are_inverse() -> None:
    assert unframe(frame(905, b"payload")) == (905, b"payload")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_decoder_never_crashes_on_garbage(garbage: bytes) -> None:
    with contextlib.suppress(WireFormatError):
        decode(garbage, FACTORY.parsed_schema)


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=2**63 - 1))
def test_any_dia_source_id_round_trips(dia_source_id: int) -> None:
    assert decode(FACTORY.encoded(dia_source_id), FACTORY.parsed_schema)["diaSourceId"] == dia_source_id
