"""The services image holds only the services, the post-deploy suite and the shared module, with the
`services` dependency group and the `postdeploy` extra."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "services" / "Dockerfile"


def image_requirements() -> set[str]:
    """The package names the image installs: the shared dependencies, the lock's `services` group and
    the `postdeploy` extra."""
    command = "uv export --frozen --no-default-groups --group services --extra postdeploy"
    command += " --no-hashes --no-emit-project"
    exported = subprocess.run(
        [*command.split(), "--no-header", "--no-annotate"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {
        re.split(r"[=<>\[ ;]", line, maxsplit=1)[0].lower()
        for line in exported.splitlines()
        if line and not line.startswith(("#", " ", "-"))
    }


def test_dockerfile_copies_only_the_services_and_the_shared_module() -> None:
    copied = set()
    for line in DOCKERFILE.read_text().splitlines():
        if line.startswith("COPY") and "--from=" not in line:
            copied |= set(line.split()[1:-1])
    assert copied == {"pyproject.toml", "uv.lock", "README.md", "alertdist_common", "services", "postdeploy"}


def test_dockerfile_installs_the_services_group_alone() -> None:
    (sync,) = [line for line in DOCKERFILE.read_text().splitlines() if "uv sync" in line]
    assert "--no-default-groups --group services --extra postdeploy" in sync
    assert "--no-install-project" in sync  # the project's wheel would carry infra and the facility


def test_image_packages_have_no_pulumi_facility_or_development_tools() -> None:
    packages = image_requirements()
    assert {"fastapi", "confluent-kafka", "obstore", "isal", "lsst-alert-packet"} <= packages
    assert {"pytest", "pytest-testinfra"} <= packages  # the post-deploy suite's runner, and no more
    unwanted = {p for p in packages if p.startswith(("pulumi", "mypy", "ruff", "kubernetes"))}
    unwanted |= {p for p in packages if p.startswith("pytest-") and p != "pytest-testinfra"}
    unwanted |= packages & {"boto3", "hypothesis", "matplotlib", "bcrypt", "schemathesis", "jsonschema"}
    assert unwanted == set()
