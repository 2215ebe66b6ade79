"""The client floor: one statement of it, in the outputs, the broker docs and our own clients."""

from __future__ import annotations

from pathlib import Path

import confluent_kafka
import pytest

from alertdist_common.clients import MIN_JAVA_CLIENT, MIN_LIBRDKAFKA, librdkafka_supported, version_tuple
from infra.program import public_outputs
from infra.stackfile import load_stack

BROKER_DOCS = Path(__file__).resolve().parents[3] / "docs" / "brokers.md"


@pytest.mark.parametrize(
    ("version", "ok"),
    [
        ("2.3.0", False),
        ("2.5.3", False),
        ("2.6.0", False),
        ("2.6.1", True),
        ("2.10.0", True),
        ("3.0.0rc1", True),
    ],
)
def test_the_floor_compares_versions_as_numbers(version: str, ok: bool) -> None:
    assert librdkafka_supported(version) is ok


def test_version_tuples() -> None:
    assert version_tuple("2.12.1") == (2, 12, 1)
    assert version_tuple("3.0.0rc1") == (3, 0, 0)


def test_brokers_read_the_floor_in_the_docs_and_the_outputs() -> None:
    text = BROKER_DOCS.read_text()
    assert f"**{MIN_LIBRDKAFKA}**" in text
    assert f"**{MIN_JAVA_CLIENT}**" in text
    for stack in ("idf", "usdf", "local"):
        floor = public_outputs(load_stack(stack))["clientFloor"]
        assert floor == {"librdkafka": MIN_LIBRDKAFKA, "javaClient": MIN_JAVA_CLIENT}


def test_our_own_clients_meet_the_floor() -> None:
    assert librdkafka_supported(confluent_kafka.libversion()[0])
