"""`alertdist-postdeploy --stack X` reads the stack's outputs, passwords included, in its own
process and hands them to the suite: no file with a password is written, anywhere."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from alertdist_common.outputs import StackOutputs
from infra.program import public_outputs
from infra.stackfile import load_stack

ROOT = Path(__file__).resolve().parents[2]
MARKER = "pw-that-must-never-reach-a-file"


def stand_in_pulumi(folder: Path) -> None:
    """A `pulumi` that prints idf's outputs as `stack output --json --show-secrets` would."""
    declared = public_outputs(load_stack("idf"))
    outputs = {**declared, "passwords": {user: MARKER for user in declared["users"]}}
    script = folder / "pulumi"
    script.write_text(f"#!/bin/sh\ncat <<'EOF'\n{json.dumps(outputs)}\nEOF\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)


def files_holding(marker: str, *folders: Path) -> list[Path]:
    return [
        path
        for folder in folders
        for path in folder.rglob("*")
        if path.is_file() and marker.encode() in path.read_bytes()
    ]


@pytest.mark.parametrize("options", [["--collect-only"], ["-k", "no_check_has_this_name"]])
def test_no_password_reaches_a_file(tmp_path: Path, options: list[str]) -> None:
    """The suite collects every check from the outputs it was handed (so it saw them), and
    neither the temp folder nor the report folder holds a password afterwards."""
    bin_dir, temp, reports = tmp_path / "bin", tmp_path / "tmp", tmp_path / "reports"
    for folder in (bin_dir, temp):
        folder.mkdir()
    stand_in_pulumi(bin_dir)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "TMPDIR": str(temp)}
    argv = [sys.executable, "-m", "postdeploy.cli", "--stack", "idf", "--report-dir", str(reports), *options]
    done = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode in (0, 5), done.stdout + done.stderr  # 5: nothing selected
    if options == ["--collect-only"]:
        brokers = StackOutputs.model_validate(
            {**public_outputs(load_stack("idf")), "passwords": {}}
        ).users_with_role("community-broker")
        assert f"test_broker_receives_every_canary[{brokers[0]}]" in done.stdout
    assert MARKER not in done.stdout + done.stderr
    assert files_holding(MARKER, temp, reports) == []


def test_the_wrapper_script_hands_everything_to_the_command(tmp_path: Path) -> None:
    """scripts/postdeploy is the command in this clone's environment: a stand-in `uv` records it."""
    calls = tmp_path / "calls"
    uv = tmp_path / "uv"
    uv.write_text(f'#!/bin/sh\necho "$*" >> {calls}\n')
    uv.chmod(uv.stat().st_mode | stat.S_IXUSR)
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"}
    subprocess.run([str(ROOT / "scripts" / "postdeploy"), "--stack", "idf", "-x"], env=env, check=True)
    assert calls.read_text().splitlines() == ["run --frozen alertdist-postdeploy --stack idf -x"]
