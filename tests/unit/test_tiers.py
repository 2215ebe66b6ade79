"""Tests in tiers: a bare `pytest` is the unit tier; `scripts/test.sh` (the README's test command,
and CI's) runs every tier unless it is handed a test path."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_a_bare_pytest_collects_the_unit_tier_only() -> None:
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    node_ids = [line for line in collected if "::" in line]
    assert node_ids
    assert [n for n in node_ids if not n.startswith("tests/unit/")] == []


@pytest.mark.parametrize(
    ("arguments", "pytest_arguments"),
    [
        ([], ["tests"]),
        (["-x", "-k", "kafka"], ["-x", "-k", "kafka", "tests"]),
        (["tests/unit/test_layers.py::test_x", "-x"], ["tests/unit/test_layers.py::test_x", "-x"]),
    ],
)
def test_the_test_command_runs_every_tier_unless_given_a_path(
    tmp_path: Path, arguments: list[str], pytest_arguments: list[str]
) -> None:
    """Stand-ins for `uv` and the installed actionlint record each call; the last is pytest's."""
    calls = tmp_path / "calls"
    for stand_in in (tmp_path / "uv", tmp_path / "bin" / "actionlint"):
        stand_in.parent.mkdir(exist_ok=True)
        stand_in.write_text(f'#!/bin/sh\necho "$*" >> {calls}\n')
        stand_in.chmod(stand_in.stat().st_mode | stat.S_IXUSR)
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}", "ALERTDIST_INSTALL_DIR": str(tmp_path)}
    subprocess.run([str(ROOT / "scripts" / "test.sh"), *arguments], env=env, check=True, cwd=ROOT)
    last = calls.read_text().splitlines()[-1]
    assert last == " ".join(["run", "--frozen", "pytest", *pytest_arguments])
