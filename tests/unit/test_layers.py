"""Imports run only from a higher layer down: the shared module, then the services and the
Pulumi program (apart), then the local facility, then benchmarks and tests."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROJECT_PACKAGES = {
    "alertdist_common",
    "services",
    "infra",
    "enginehost",
    "localfacility",
    "benchmarks",
    "brokerkit",
    "postdeploy",
    "tests",
}
MAY_IMPORT = {
    "alertdist_common": set(),
    "enginehost": set(),
    "services": {"alertdist_common"},
    "infra": {"alertdist_common"},
    "localfacility": {"alertdist_common", "services", "infra"},
    "benchmarks": {"alertdist_common", "services", "infra", "localfacility"},
    "brokerkit": {"alertdist_common", "services"},  # what a broker installs: no program, no facility
    "postdeploy": {"alertdist_common", "services"},  # what an operator runs at a facility, and the image
}


def project_imports(source: str) -> set[str]:
    """The project packages a module imports (absolute imports; relative ones stay inside)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & PROJECT_PACKAGES


def test_project_imports_reads_absolute_imports_only() -> None:
    source = "import infra.config\nfrom services.common import wire\nfrom . import sibling\nimport json\n"
    assert project_imports(source) == {"infra", "services"}


@pytest.mark.parametrize("package", sorted(MAY_IMPORT))
def test_no_import_runs_up_or_across(package: str) -> None:
    allowed = MAY_IMPORT[package] | {package}
    files = sorted((ROOT / package).rglob("*.py"))
    assert files
    wrong = {
        str(path.relative_to(ROOT)): sorted(project_imports(path.read_text()) - allowed)
        for path in files
        if project_imports(path.read_text()) - allowed
    }
    assert wrong == {}
