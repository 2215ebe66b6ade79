"""Shared fixtures: the real local facility, started once per test session."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from localfacility.deploy import LocalDeployment
from localfacility.facility import LocalFacility
from localfacility.services import ArchiveServices
from localfacility.settings import FacilitySettings


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked `last` run after all the others."""
    items.sort(key=lambda item: item.get_closest_marker("last") is not None)


@pytest.fixture(scope="session")
def facility() -> Iterator[LocalFacility]:
    """The running local facility; reused when it already runs, else started and stopped here."""
    local = LocalFacility(FacilitySettings())
    already_up = local.is_up()
    if not already_up:
        local.up()
    yield local
    if not already_up:
        local.down()


@pytest.fixture(scope="session")
def local_stack(facility: LocalFacility) -> Iterator[dict[str, Any]]:
    """The local stack deployed on the facility, with the archive ingester and server running;
    yields its stack outputs (the post-deploy suite's input). Services it started, it stops."""
    deployment = LocalDeployment(facility)
    deployment.up()
    archive = ArchiveServices(deployment)
    was_running = all(facility.supervisor.running_pid(spec) for spec in archive.specs())
    archive.up()
    yield json.loads(deployment.outputs_file.read_text())
    if not was_running:
        archive.down()
