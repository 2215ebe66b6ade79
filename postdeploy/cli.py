"""`alertdist-postdeploy`: prove, right after `pulumi up`, that alerts reach every broker and the
archive, from the deployed stack's outputs alone. Writes junit.xml and summary.txt to the report
folder; exits 0 only when every check passed."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import pytest

from alertdist_common.outputs import StackOutputs
from postdeploy.suite.source import StackOutputsSource

SUITE = Path(__file__).with_name("suite")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="alertdist-postdeploy",
        description=__doc__,
        epilog="Other options go to the suite and to pytest: --canaries N, "
        "--delivery-timeout S, --archive-timeout S, -k EXPR, -x, ...",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--stack", help="a deployed stack: its outputs read with the Pulumi CLI, never saved")
    source.add_argument(
        "--stack-outputs",
        type=Path,
        help="a saved `pulumi stack output --json --show-secrets` (keep it 0600)",
    )
    parser.add_argument(
        "--report-dir",
        type=Path,
        help="where junit.xml and summary.txt go "
        "(default: $ALERTDIST_REPORT_DIR, else .run/postdeploy/<stack>)",
    )
    args, suite_args = parser.parse_known_args(argv)
    plugins: list[object] = []
    if args.stack is not None:
        try:
            plugins.append(StackOutputsSource(StackOutputs.from_stack(args.stack)))
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        name = args.stack
    else:
        if not args.stack_outputs.is_file():
            print(f"error: cannot read stack outputs {args.stack_outputs}", file=sys.stderr)
            return 2
        suite_args = ["--stack-outputs", str(args.stack_outputs), *suite_args]
        name = args.stack_outputs.stem
    reports = args.report_dir or Path(os.environ.get("ALERTDIST_REPORT_DIR") or f".run/postdeploy/{name}")
    reports.mkdir(parents=True, exist_ok=True)
    pytest_args = [str(SUITE), "-c", str(SUITE / "pytest.ini"), "-p", "no:cacheprovider", "--no-header"]
    pytest_args += ["--junitxml", str(reports / "junit.xml"), "--summary-file", str(reports / "summary.txt")]
    return int(pytest.main([*pytest_args, *suite_args], plugins=plugins))


if __name__ == "__main__":
    sys.exit(main())
