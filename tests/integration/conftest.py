"""Integration tests run against the real local facility."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from localfacility.facility import LocalFacility
from localfacility.services import ArchiveServices

from .archives import separate_archive_on


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.path):
            item.add_marker(pytest.mark.integration)


@pytest.fixture
def separate_archive(
    facility: LocalFacility, local_stack: dict[str, Any], request: pytest.FixtureRequest
) -> Iterator[ArchiveServices]:
    """A second archive beside the stack's own, not started. Parametrised with (backend, label)."""
    backend, label = request.param
    with separate_archive_on(facility, local_stack["alertTopics"], backend, label) as services:
        yield services
