"""The products install as their users install them, each into a clean venv, and work from there
against the local facility: the broker tools as docs/brokers.md says (`pip install .`), the
post-deploy suite as an operator's runner would (`pip install '.[postdeploy]'`), and the services
image's tree as services/Dockerfile builds it. Slow (a minute or two an install): pip builds the
project and fetches its dependencies from the package index."""

from __future__ import annotations

import os
import re
import shlex
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


def assert_every_check_passed(reports: Path) -> None:
    """The post-deploy suite's summary counts every check passed."""
    summary = (reports / "summary.txt").read_text()
    counted = re.match(r"post-deploy checks: (\d+) of (\d+) passed", summary)
    assert counted is not None, summary
    assert counted.group(1) == counted.group(2)


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
        assert_every_check_passed(reports)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def image_tree(work: Path) -> tuple[Path, dict[str, str]]:
    """The services image's /app built in `work` as services/Dockerfile builds it, with no Docker:
    its COPY lines, its `uv sync` on the Python of its FROM line, its ENV (/app read as `work`).
    The file's other lines (the uv binary, the user) change nothing a test here can see."""
    lines = (PROJECT_ROOT / "services" / "Dockerfile").read_text().splitlines()
    (base,) = [line.split()[1] for line in lines if line.startswith("FROM ")]
    python = re.fullmatch(r"python:(\d+\.\d+)\.\d+-slim-\w+", base)
    assert python is not None, f"services/Dockerfile: FROM {base} is not a pinned python image"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "UV_", "PYTHON"))}
    env["UV_PYTHON"] = interpreter(python.group(1))
    app = work / "app"
    app.mkdir(parents=True)
    for line in lines:
        if not line.startswith(("COPY ", "RUN ", "ENV ")):
            continue  # comments (which shlex cannot read), FROM, WORKDIR, USER
        argv = shlex.split(line)
        if line.startswith("COPY ") and not argv[1].startswith("--from="):
            *sources, target = argv[1:]
            for source in sources:
                origin, into = PROJECT_ROOT / source, app / target
                if origin.is_dir():
                    shutil.copytree(origin, into, ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    shutil.copy(origin, into / source if target.endswith("/") else into)
        elif line.startswith("RUN uv "):
            synced = subprocess.run(argv[1:], cwd=app, env=env, capture_output=True, text=True, check=False)
            assert synced.returncode == 0, synced.stderr[-3000:]
        elif line.startswith("ENV "):
            for name, value in (item.split("=", 1) for item in argv[1:]):
                env[name] = value.replace("/app", str(app)).replace("$PATH", env["PATH"])
    return app, env


def test_the_services_image_s_tree_runs_every_service_and_the_post_deploy_suite(
    facility: LocalFacility, local_stack: dict[str, Any]
) -> None:
    """What the image installs is enough, and nothing of the repository outside it is needed:
    every service's command starts (its imports), and the post-deploy suite, as the image's Job
    runs it, passes against the local facility."""
    work = facility.settings.run_dir / "image-tree"
    shutil.rmtree(work, ignore_errors=True)
    try:
        app, env = image_tree(work)
        env["ALERTDIST_REPORT_DIR"] = str(work / "reports")  # the image's /tmp/postdeploy
        python = str(app / ".venv" / "bin" / "python")
        services = sorted(p.parent.name for p in (app / "services").glob("*/cli.py"))
        assert {"archive_ingester", "archive_server", "producer", "schema_sync"} <= set(services)
        for service in services:
            shown = subprocess.run(
                [python, "-m", f"services.{service}.cli", "--help"],
                cwd=work,  # not /app: the image's PYTHONPATH finds the code
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            assert shown.returncode == 0, f"services.{service}.cli: {shown.stderr[-2000:]}"
        outputs_file = LocalDeployment(facility).outputs_file
        argv = [python, "-m", "postdeploy.cli", "--stack-outputs", str(outputs_file), "--canaries", "3"]
        done = subprocess.run(
            argv, cwd=work, env=env, capture_output=True, text=True, timeout=600, check=False
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
        assert_every_check_passed(work / "reports")
    finally:
        shutil.rmtree(work, ignore_errors=True)
