"""The products install as their users install them, each into a clean venv with pip, and work
from there against the local facility: the broker tools as docs/brokers.md says (`pip install .`),
the post-deploy suite as an operator's runner would (`pip install '.[postdeploy]'`). Slow (a minute
or two an install): pip builds the project and fetches its dependencies from the package index."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from alertdist_common.outputs import StackOutputs
from localfacility.deploy import LocalDeployment
from localfacility.facility import LocalFacility
from localfacility.settings import PROJECT_ROOT
from services.producer.producer import AlertProducer

from .test_archive import FACTORY

# What a broker's install must not pull in: the Pulumi program, the services' servers and stores,
# the alert schemas' scientific stack, the test and lint tools.
NOT_FOR_BROKERS = (
    "pulumi",
    "pytest",
    "fastapi",
    "uvicorn",
    "boto3",
    "google-cloud",
    "obstore",
    "lsst-",
    "astropy",
)


def interpreter(version: str) -> str:
    """A Python of that version that runs: one pyenv installed, or one on PATH (a pyenv shim of a
    version not selected exits 127, so each is tried); the test skips, naming it, where the machine
    has none."""
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates = [str(p) for p in sorted(pyenv.glob(f"{version}.*/bin/python{version}"))]
    on_path = shutil.which(f"python{version}")
    candidates += [on_path] if on_path else []
    for candidate in candidates:
        if subprocess.run([candidate, "-c", "import venv"], capture_output=True, check=False).returncode == 0:
            return candidate
    pytest.skip(f"no working Python {version} on this machine (pyenv or PATH)")


# The oldest and the newest Python the project supports (pyproject.toml requires-python).
@pytest.mark.parametrize("version", ["3.11", "3.13"])
def test_a_broker_s_pip_install_runs_the_connection_test_and_it_passes(
    facility: LocalFacility, local_stack: dict[str, Any], version: str
) -> None:
    outputs = StackOutputs.model_validate(local_stack)
    for topic in outputs.alert_topics:  # the newest alerts, for the test's read and archive steps
        AlertProducer(outputs.kafka_settings("alert-producer"), topic, FACTORY).produce_visit(
            0, time.time_ns() // 1000, 20
        )
    work = facility.settings.run_dir / "broker-install"  # the kit holds a password: not /tmp
    shutil.rmtree(work, ignore_errors=True)
    venv, kit = work / "venv", work / "kit"
    try:
        subprocess.run([interpreter(version), "-m", "venv", str(venv)], check=True)
        bin_dir = venv / "bin"
        pip = [str(bin_dir / "pip"), "install", "--quiet", str(PROJECT_ROOT)]
        installed = subprocess.run(pip, capture_output=True, text=True, timeout=900, check=False)
        assert installed.returncode == 0, installed.stderr[-3000:]
        frozen = subprocess.run(
            [str(bin_dir / "pip"), "freeze"], capture_output=True, text=True, check=True
        ).stdout.lower()
        assert [line for line in frozen.splitlines() if line.startswith(NOT_FOR_BROKERS)] == []
        for tool in ("alertdist-broker-kit", "alertdist-connection-test"):
            shown = subprocess.run(
                [str(bin_dir / tool), "--help"], capture_output=True, text=True, check=False
            )
            assert shown.returncode == 0, shown.stderr
        outputs_file = LocalDeployment(facility).outputs_file
        kit_argv = ["--stack-outputs", str(outputs_file), "--broker", "fink", "--out", str(kit)]
        subprocess.run([str(bin_dir / "alertdist-broker-kit"), *kit_argv], capture_output=True, check=True)
        done = subprocess.run(
            [str(bin_dir / "alertdist-connection-test"), "--kit", str(kit)],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            cwd=work,  # not the repository: the installed package, not the source tree, runs
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert done.stdout.strip().endswith("ALL PASSED")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_an_operator_s_pip_install_runs_the_post_deploy_suite_and_it_passes(
    facility: LocalFacility, local_stack: dict[str, Any]
) -> None:
    work = facility.settings.run_dir / "postdeploy-install"
    shutil.rmtree(work, ignore_errors=True)
    venv, reports = work / "venv", work / "reports"
    try:
        subprocess.run([interpreter("3.11"), "-m", "venv", str(venv)], check=True)
        bin_dir = venv / "bin"
        pip = [str(bin_dir / "pip"), "install", "--quiet", f"{PROJECT_ROOT}[postdeploy]"]
        installed = subprocess.run(pip, capture_output=True, text=True, timeout=900, check=False)
        assert installed.returncode == 0, installed.stderr[-3000:]
        frozen = subprocess.run(
            [str(bin_dir / "pip"), "freeze"], capture_output=True, text=True, check=True
        ).stdout.lower()
        not_for_runners = ("pulumi", "fastapi", "uvicorn", "boto3", "google-cloud", "obstore", "ruff", "mypy")
        assert [line for line in frozen.splitlines() if line.startswith(not_for_runners)] == []
        outputs_file = LocalDeployment(facility).outputs_file
        argv = [str(bin_dir / "alertdist-postdeploy"), "--stack-outputs", str(outputs_file)]
        argv += ["--report-dir", str(reports), "--canaries", "3"]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False, cwd=work)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
        summary = (reports / "summary.txt").read_text()
        counted = re.match(r"post-deploy checks: (\d+) of (\d+) passed", summary)
        assert counted is not None, summary
        assert counted.group(1) == counted.group(2)
    finally:
        shutil.rmtree(work, ignore_errors=True)
