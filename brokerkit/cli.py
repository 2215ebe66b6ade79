"""`alertdist-broker-kit` (operators: write the brokers' kits) and `alertdist-connection-test`
(brokers: prove the connection from their side)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from alertdist_common.outputs import StackOutputs

from .connection import ConnectionTest, Target, default_group, report
from .kit import broker_names, write_kit


def kit_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="alertdist-broker-kit",
        description="Write a community broker's connection kit from a deployed stack's outputs.",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--stack", help="the deployed stack (idf, usdf), read with the Pulumi CLI")
    source.add_argument(
        "--stack-outputs",
        type=Path,
        help="a saved `pulumi stack output --json --show-secrets` "
        "(the local stack's: .run/local/stack-outputs.json)",
    )
    brokers = parser.add_mutually_exclusive_group(required=True)
    brokers.add_argument("--broker", help="the broker (fink) or its username (fink-usdf)")
    brokers.add_argument("--all", action="store_true", help="a kit for every broker, each in OUT/<broker>")
    parser.add_argument("--out", type=Path, help="the kit's folder (default kits/<stack>/<broker>)")
    args = parser.parse_args(argv)
    try:
        outputs = (
            StackOutputs.from_file(args.stack_outputs)
            if args.stack_outputs
            else StackOutputs.from_stack(args.stack)
        )
        root = args.out or Path("kits") / outputs.facility
        chosen = broker_names(outputs) if args.all else [args.broker]
        for broker in chosen:
            folder = root / broker if args.all or args.out is None else root
            kit = write_kit(outputs, broker, folder)
            print(f"{kit.username}: kit written to {folder} (password in {folder / 'password'}, mode 0600)")
    except (ValueError, KeyError) as exc:
        print(f"error: {exc.args[0] if isinstance(exc, KeyError) else exc}", file=sys.stderr)
        return 2
    return 0


def connection_test_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="alertdist-connection-test",
        description="Prove, from a broker's own machine, that it can connect, read, decode and fetch "
        "from the archive. Exit 0 only when every step passes.",
    )
    parser.add_argument("--kit", type=Path, help="your kit's folder (flags below override it)")
    parser.add_argument("--bootstrap-servers")
    parser.add_argument("--username")
    parser.add_argument("--password-file", type=Path)
    parser.add_argument("--security-protocol", choices=("SASL_PLAINTEXT", "SASL_SSL"))
    parser.add_argument("--ca-file", type=Path, help="CA of a SASL_SSL listener")
    parser.add_argument("--registry-url")
    parser.add_argument("--archive-url")
    parser.add_argument(
        "--topic", action="append", dest="topics", help="a topic to read (repeat; default: all alert topics)"
    )
    parser.add_argument(
        "--group", help="the consumer group to use (default <username>-connection-test-<random>)"
    )
    parser.add_argument("--count", type=int, default=10, help="how many of the newest alerts to read")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds for each Kafka step")
    parser.add_argument(
        "--archive-wait", type=float, default=30.0, help="seconds to wait for the alert in the archive"
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    try:
        target = _target(args)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    steps = ConnectionTest(target, args.count, args.timeout, args.archive_wait).run()
    result = report(steps)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"connection test of {target.username} at {target.bootstrap_servers}")
        for step in steps:
            print(step.line())
        print("ALL PASSED" if result["passed"] else "FAILED")
    return 0 if result["passed"] else 1


def _target(args: argparse.Namespace) -> Target:
    password = args.password_file.read_text().strip() if args.password_file else None
    overrides = {
        "bootstrap_servers": args.bootstrap_servers,
        "username": args.username,
        "password": password,
        "security_protocol": args.security_protocol,
        "ca_file": args.ca_file,
        "registry_url": args.registry_url,
        "archive_url": args.archive_url,
        "topics": args.topics,
        "group": args.group,
    }
    if args.kit is not None:
        return Target.from_kit(args.kit, **overrides)
    missing = [
        f"--{name.replace('_', '-')}"
        for name in ("bootstrap_servers", "username", "registry_url", "archive_url", "topics")
        if overrides[name] is None
    ]
    if password is None:
        missing.append("--password-file")
    if missing:
        raise ValueError(f"without --kit, give {', '.join(missing)}")
    values = {key: value for key, value in overrides.items() if value is not None}
    values.setdefault("group", default_group(args.username))
    return Target(**values, group_prefix=args.username, alert_topics=args.topics)
