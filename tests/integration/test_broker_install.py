"""A broker installs the broker tools as docs/brokers.md says, `pip install` of the repository into
a clean venv, and proves its connection from there against the local facility. Slow (about two
minutes): pip builds the project and fetches its dependencies from the package index."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from typing import Any

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


def test_a_broker_s_pip_install_runs_the_connection_test_and_it_passes(
    facility: LocalFacility, local_stack: dict[str, Any]
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
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
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
