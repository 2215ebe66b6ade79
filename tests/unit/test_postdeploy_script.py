"""`scripts/postdeploy --stack X` reads the stack's outputs, passwords included, into a 0600 temp
file for the suite: that file must be gone when the script ends, whatever the suite's result."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MARKER = "pw-that-must-not-stay-behind"


def stand_in(folder: Path, name: str, body: str) -> None:
    script = folder / name
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)


@pytest.mark.parametrize("suite_exit", [0, 1])
def test_no_password_file_stays_behind(tmp_path: Path, suite_exit: int) -> None:
    """Stand-ins for `pulumi` (prints outputs holding a password) and `uv` (the suite, which
    checks that it was handed the file and then passes or fails)."""
    bin_dir, temp, reports = tmp_path / "bin", tmp_path / "tmp", tmp_path / "reports"
    for folder in (bin_dir, temp):
        folder.mkdir()
    stand_in(bin_dir, "pulumi", f'echo \'{{"passwords": {{"fink-idf": "{MARKER}"}}}}\'')
    stand_in(
        bin_dir,
        "uv",
        'for a in "$@"; do [ -n "$next" ] && grep -q ' + MARKER + ' "$a" && found=1; next=; '
        '[ "$a" = --stack-outputs ] && next=1; done; [ -n "$found" ] || exit 9; exit ' + str(suite_exit),
    )
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "TMPDIR": str(temp),
        "ALERTDIST_REPORT_DIR": str(reports),
    }
    done = subprocess.run(
        [str(ROOT / "scripts" / "postdeploy"), "--stack", "idf"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == suite_exit, done.stderr
    left = [path for path in temp.rglob("*") if path.is_file() and MARKER in path.read_text()]
    assert left == []
