"""The archive services can be stopped whether or not the stack is deployed."""

from __future__ import annotations

from pathlib import Path

from localfacility.deploy import LocalDeployment
from localfacility.facility import LocalFacility
from localfacility.services import ArchiveServices
from localfacility.settings import FacilitySettings


def test_stopping_needs_no_stack_outputs(tmp_path: Path) -> None:
    """`facility down` after `deploy --destroy` (or before any deploy) has no passwords to read."""
    deployment = LocalDeployment(LocalFacility(FacilitySettings(run_dir=tmp_path)))
    assert not deployment.outputs_file.exists()
    assert ArchiveServices(deployment).down() == []
