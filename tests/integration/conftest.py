"""Integration tests run against the real local facility."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from localfacility import objectstore
from localfacility.deploy import LocalDeployment
from localfacility.facility import LocalFacility
from localfacility.services import ArchiveServices

from .kafka_helpers import delete_groups, end_offsets, start_group_at
from .ports import free_port


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.path):
            item.add_marker(pytest.mark.integration)


@pytest.fixture
def separate_archive(
    facility: LocalFacility, local_stack: dict[str, Any], request: pytest.FixtureRequest
) -> Iterator[ArchiveServices]:
    """A second archive beside the stack's own: its own group (starting at the topics' current
    end), its own bucket and ports. Parametrised with (backend, label)."""
    backend, label = request.param
    services = ArchiveServices(
        LocalDeployment(facility),
        backend=backend,
        label=label,
        bucket=f"alert-archive-{label}",
        server_port=free_port(),
        metrics_port=free_port(),
    )
    objectstore.ensure_buckets(facility.settings, facility.credentials, services.bucket)
    start_group_at(facility, services.ingester_name, end_offsets(facility, local_stack["alertTopics"]))
    services.metrics_file.unlink(missing_ok=True)
    yield services
    services.down()
    delete_groups(facility, [services.ingester_name])
