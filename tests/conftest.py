"""Shared fixtures: the real local facility, started once per test session."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from localfacility.deploy import LocalDeployment
from localfacility.facility import LocalFacility
from localfacility.services import ArchiveServices
from localfacility.settings import FacilitySettings


def pytest_addoption(parser: pytest.Parser) -> None:
    """The post-deploy suite's options (declared at the top so they exist however pytest is run)."""
    group = parser.getgroup("postdeploy", "post-deploy validation (tests/postdeploy)")
    group.addoption(
        "--stack-outputs",
        type=Path,
        help="the deployed stack's outputs (`pulumi stack output --json --show-secrets`); "
        "without it the suite checks the local stack",
    )
    group.addoption("--canaries", type=int, default=10, help="canary alerts to produce")
    group.addoption("--canary-topic", help="topic for the canaries (default: the first alert topic)")
    group.addoption(
        "--delivery-timeout", type=float, default=60.0, help="seconds for every broker to read every canary"
    )
    group.addoption(
        "--archive-timeout", type=float, default=120.0, help="seconds for every canary to be in the archive"
    )
    group.addoption("--summary-file", type=Path, help="also write the short human summary here")


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
