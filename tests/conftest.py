"""Shared fixtures: the real local facility, started once per test session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from localfacility.facility import LocalFacility
from localfacility.settings import FacilitySettings


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
