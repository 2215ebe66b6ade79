"""Handles on the running local system, and where results go."""

from __future__ import annotations

import json
import os
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from alertdist_common.outputs import StackOutputs
from localfacility.deploy import LocalDeployment
from localfacility.facility import LocalFacility
from localfacility.kafka import admin_client_config
from localfacility.services import ArchiveServices
from localfacility.settings import FacilitySettings

RESULTS = Path(__file__).parent / "results"


@dataclass
class Local:
    """Handles on the running local system."""

    facility: LocalFacility
    outputs: StackOutputs
    admin_config: dict[str, Any]

    @classmethod
    def attach(cls) -> Local:
        facility = LocalFacility(FacilitySettings())
        if not facility.is_up():
            raise SystemExit("the local facility is not up: run scripts/run-local.sh first")
        deployment = LocalDeployment(facility)
        return cls(
            facility,
            StackOutputs.from_file(deployment.outputs_file),
            admin_client_config(facility.settings, facility.credentials),
        )

    def service_pids(self) -> dict[str, int]:
        supervisor = self.facility.supervisor
        specs = [*self.facility.specs(), *ArchiveServices(LocalDeployment(self.facility)).specs()]
        return {spec.name: pid for spec in specs if (pid := supervisor.running_pid(spec)) is not None}


def publish(name: str, figures: dict[str, Any]) -> Path:
    """Print the figures and write them, with the machine, to benchmarks/results/<name>.json."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **figures}, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    return path


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "cpu_model": next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            platform.processor(),
        ),
        "kernel": platform.release(),
        "python": platform.python_version(),
    }
