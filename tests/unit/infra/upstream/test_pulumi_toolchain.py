"""What Pulumi's own Python host (pulumi/pulumi 1b59498, the operators' toolchain at a facility)
does with this project, transcribed from its source and checked against the project: what a
runner installs, which plugins the CLI fetches, how a failed program ends. Our own host's side of
the exit codes is pinned in tests/unit/enginehost/test_language_host.py."""

from __future__ import annotations

import os
import re
import subprocess
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[4]
DEPLOY = ROOT / ".github" / "workflows" / "deploy.yml"
DEVELOPMENT_ONLY = (
    "pytest",
    "ruff",
    "mypy",
    "fastapi",
    "uvicorn",
    "obstore",
    "matplotlib",
    "schemathesis",
    "hypothesis",
)


def runner_packages() -> set[str]:
    """What `uv sync --inexact` installs on a facility's runner (sdk/python/toolchain/uv.go:346-382:
    no group flags, so uv's defaults and the workflow's UV_NO_GROUP decide)."""
    env = {**os.environ, **yaml.safe_load(DEPLOY.read_text())["env"]}
    exported = subprocess.run(
        ["uv", "export", "--frozen", "--no-hashes", "--no-header", "--no-annotate", "--no-emit-project"],
        cwd=ROOT,
        env={key: str(value) for key, value in env.items()},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {re.split(r"[=<>\[ ;]", line, maxsplit=1)[0].lower() for line in exported.splitlines() if line}


def test_a_facility_runner_installs_what_the_programs_need_and_no_development_tool() -> None:
    packages = runner_packages()
    assert {"pulumi", "pulumi-kubernetes", "pulumi-policy", "pydantic", "lsst-alert-packet"} <= packages
    assert {"pulumi-gcp", "pulumi-aws"} <= packages  # the prerequisites program's buckets
    assert [p for p in packages if p.startswith(DEVELOPMENT_ONLY)] == []


def plugins_the_cli_fetches() -> set[str]:
    """The host's GetRequiredPackages: every package of uv.lock but the project (uv.go:301-344),
    kept when its name starts with `pulumi-` (or it ships a pulumi-plugin.json), but for
    pulumi-policy and pulumi-esc-sdk (cmd/pulumi-language-python/main.go:608-649), whatever the
    program imports."""
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    names = {package["name"] for package in lock["package"]} - {"alert-distribution"}
    return {n for n in names if n.startswith("pulumi-")} - {"pulumi-policy", "pulumi-esc-sdk"}


def imported_pulumi_packages() -> set[str]:
    found = set()
    for path in (ROOT / "infra").rglob("*.py"):
        found |= {m.replace("_", "-") for m in re.findall(r"^\s*import (pulumi_\w+)", path.read_text(), re.M)}
    return found - {"pulumi-policy"}


def test_every_plugin_the_cli_fetches_is_used_but_the_one_the_docs_name() -> None:
    fetched = plugins_the_cli_fetches()
    assert fetched - imported_pulumi_packages() == {"pulumi-kafka"}
    operators = (ROOT / "docs" / "operators.md").read_text()
    assert "pulumi-kafka" in operators
    assert "fetches the kafka plugin" in operators
