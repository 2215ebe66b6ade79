"""Compare two stacks: their resolved config, their declared resources, and what brokers see.

uv run alertdist-stack-diff idf usdf [--json]
uv run alertdist-stack-diff --outputs idf-outputs.json usdf-outputs.json   # two deployed stacks
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alertdist_common.outputs import StackOutputs
from infra.program import public_outputs
from infra.render import ProgramRun, run_program
from infra.stackfile import load_stack, project_values, read_config_values, stack_file

Flat = dict[str, Any]


def flatten(value: Any, prefix: str = "") -> Flat:
    """Nested config or inputs as `a.b[0].c` paths to leaf values."""
    if isinstance(value, dict):
        flat: Flat = {}
        for key, item in value.items():
            flat.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return flat or {prefix: {}}
    if isinstance(value, list):
        flat = {}
        for index, item in enumerate(value):
            flat.update(flatten(item, f"{prefix}[{index}]"))
        return flat or {prefix: []}
    return {prefix: value}


@dataclass(frozen=True)
class Change:
    path: str
    before: Any
    after: Any


def changes(before: Flat, after: Flat) -> list[Change]:
    missing = object()
    return [
        Change(path, before.get(path, missing), after.get(path, missing))
        for path in sorted(before.keys() | after.keys())
        if before.get(path, missing) != after.get(path, missing)
    ]


@dataclass
class StackDiff:
    source: str
    target: str
    config: list[Change] = field(default_factory=list)
    only_in_source: list[str] = field(default_factory=list)
    only_in_target: list[str] = field(default_factory=list)
    changed_resources: dict[str, int] = field(default_factory=dict)
    for_brokers: list[Change] = field(default_factory=list)


def _resources(run: ProgramRun) -> dict[str, Flat]:
    secrets = set(run.placeholders.values())
    masked = {}
    for resource in run.resources:
        flat = flatten(resource.inputs)
        masked[f"{resource.type} {resource.name}"] = {
            path: "[secret]" if isinstance(value, str) and value in secrets else value
            for path, value in flat.items()
        }
    return masked


def _broker_name(username: str) -> str:
    return username.rsplit("-", 1)[0]


def _broker_view(outputs: dict[str, Any]) -> Flat:
    """What a community broker configures: addresses, protocol, topics, its username."""
    brokers = sorted(u for u, role in outputs["users"].items() if role == "community-broker")
    return {
        "bootstrap servers": outputs["bootstrapServers"],
        "security protocol": outputs["securityProtocol"],
        "SASL mechanism": outputs["saslMechanism"],
        "registry URL": outputs["registryUrl"],
        "archive URL": outputs["archiveUrl"],
        "alert topics": ", ".join(outputs["alertTopics"]),
        **{f"{_broker_name(name)} username": name for name in brokers},
    }


def compare_deployed(source: Path, target: Path) -> list[Change]:
    """What changes for the brokers between two deployed stacks, from their saved outputs
    (`pulumi stack output --json --show-secrets`). Passwords are compared, never shown."""
    before, after = StackOutputs.from_file(source), StackOutputs.from_file(target)
    found = changes(
        _broker_view(before.model_dump(by_alias=True)), _broker_view(after.model_dump(by_alias=True))
    )
    old = {_broker_name(user): before.password(user) for user in before.users_with_role("community-broker")}
    for user in after.users_with_role("community-broker"):
        broker = _broker_name(user)
        if old.get(broker) != after.password(user):
            found.append(Change(f"{broker} password", "[secret]" if broker in old else None, "[new secret]"))
    return found


def compare(source: str, target: str) -> StackDiff:
    """Everything that changes when operators switch from `source` to `target`."""
    diff = StackDiff(source, target)
    diff.config = changes(
        flatten(project_values(read_config_values(stack_file(source)))),
        flatten(project_values(read_config_values(stack_file(target)))),
    )
    before, after = _resources(run_program(source)), _resources(run_program(target))
    diff.only_in_source = sorted(before.keys() - after.keys())
    diff.only_in_target = sorted(after.keys() - before.keys())
    for key in sorted(before.keys() & after.keys()):
        if count := len(changes(before[key], after[key])):
            diff.changed_resources[key] = count
    diff.for_brokers = changes(
        _broker_view(public_outputs(load_stack(source))), _broker_view(public_outputs(load_stack(target)))
    )
    return diff


def _show(value: Any) -> str:
    return (
        "(absent)"
        if not isinstance(value, str | int | float | bool | list | dict | None)
        else json.dumps(value)
    )


def render_for_brokers(found: list[Change]) -> list[str]:
    shown = [f"  {c.path}: {_show(c.before)} -> {_show(c.after)}" for c in found]
    return ["What changes for the community brokers:", *(shown or ["  nothing"])]


def render(diff: StackDiff) -> str:
    lines = [f"Config differences ({diff.source} -> {diff.target}):"]
    lines += [f"  {c.path}: {_show(c.before)} -> {_show(c.after)}" for c in diff.config] or ["  none"]
    lines.append(f"Resources only in {diff.source}:")
    lines += [f"  - {key}" for key in diff.only_in_source] or ["  none"]
    lines.append(f"Resources only in {diff.target}:")
    lines += [f"  + {key}" for key in diff.only_in_target] or ["  none"]
    lines.append("Resources in both whose inputs change (number of changed fields):")
    lines += [f"  ~ {key} ({count})" for key, count in diff.changed_resources.items()] or ["  none"]
    return "\n".join(lines + render_for_brokers(diff.for_brokers))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("source", help="stack to move from, e.g. idf")
    parser.add_argument("target", help="stack to move to, e.g. usdf")
    parser.add_argument("--json", action="store_true", help="print the difference as JSON")
    parser.add_argument(
        "--outputs",
        action="store_true",
        help="source and target are saved outputs of two deployed stacks: show what changes for brokers",
    )
    args = parser.parse_args(argv)
    if args.outputs:
        found = compare_deployed(Path(args.source), Path(args.target))
        print(
            json.dumps([c.__dict__ for c in found], indent=2)
            if args.json
            else "\n".join(render_for_brokers(found))
        )
        return
    diff = compare(args.source, args.target)
    if args.json:
        print(json.dumps(diff, default=lambda o: o.__dict__ if hasattr(o, "__dict__") else str(o), indent=2))
    else:
        print(render(diff))
