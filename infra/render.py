"""Render a stack offline: run its Pulumi program under mocks and record every resource it declares.

Used by the stack diff command and by the unit tests; secrets are replaced by placeholders."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime.mocks import MockMonitor, MockResourceArgs, Mocks

from infra.program import declare, load_stack_config
from infra.stack_secrets import read_secrets
from infra.stackfile import (
    PROJECT,
    as_pulumi_config,
    load_stack,
    project_values,
    read_config_values,
    stack_file,
)
from infra.tables import stack_users

SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"  # noqa: S105 - Pulumi's secret marker
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"  # noqa: S105 - Pulumi's secret marker


@dataclass(frozen=True)
class Registered:
    """One resource the program registered, with its inputs as the engine would receive them."""

    urn: str
    type: str
    name: str
    custom: bool
    inputs: dict[str, Any]
    wire: dict[str, Any]  # serialized inputs, secrets still wrapped
    retain_on_delete: bool = False
    protect: bool = False
    dependencies: tuple[str, ...] = ()  # URNs of its explicit dependencies

    @property
    def parent_type(self) -> str:
        chain = self.urn.split("::")[2]
        return chain.rsplit("$", 1)[0] if "$" in chain else ""


@dataclass(frozen=True)
class ProgramRun:
    stack: str
    resources: list[Registered]
    outputs: dict[str, Any]
    secret_outputs: set[str]
    placeholders: dict[str, str]  # secret config key (or key/username) -> placeholder value

    def of_type(self, type_: str) -> list[Registered]:
        return [r for r in self.resources if r.type == type_]

    def strimzi(self, kind: str) -> list[Registered]:
        """Strimzi custom resources of one kind, whatever API version the stack chose."""
        return [
            r
            for r in self.resources
            if r.type.startswith("kubernetes:kafka.strimzi.io/") and r.type.endswith(f":{kind}")
        ]


class _Mocks(Mocks):
    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[Any, Any]]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
        return {}, None


class RecordingMonitor(MockMonitor):
    """Records what a program registers, with its options, as the engine receives it."""

    def __init__(self) -> None:
        super().__init__(_Mocks())
        self.recorded: list[Registered] = []

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - the gRPC method name
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != "pulumi:pulumi:Stack":
            self.recorded.append(
                Registered(
                    urn=response.urn,
                    type=request.type,
                    name=request.name,
                    custom=request.custom,
                    inputs=unwrap_secrets(self.resources[response.urn].state),
                    wire=json_format.MessageToDict(request.object),
                    retain_on_delete=request.retainOnDelete,
                    protect=request.protect,
                    dependencies=tuple(request.dependencies),
                )
            )
        return response


def placeholder_secrets(stack: str) -> tuple[dict[str, Any], dict[str, str]]:
    """Every secret the stack needs, as recognisable placeholders (config values, key -> value)."""
    config = load_stack(stack)
    passwords = {user.username: f"PLACEHOLDER-{user.username}-pw" for user in stack_users(config)}
    values: dict[str, Any] = {"kafkaUserPasswords": passwords}
    if config.local is not None:
        values["localKafkaAdminPassword"] = "PLACEHOLDER-local-kafka-admin"
        values["localRegistryAdminPassword"] = "PLACEHOLDER-local-registry-admin"
        values["localRegistryReaderPassword"] = "PLACEHOLDER-local-registry-reader"
        values["localS3AccessKey"] = "PLACEHOLDER-local-s3-access"
        values["localS3SecretKey"] = "PLACEHOLDER-local-s3-secret"
    if config.archive is not None and config.archive.bucket.kind == "s3":
        values["archiveS3AccessKey"] = "PLACEHOLDER-s3-access"
        values["archiveS3SecretKey"] = "PLACEHOLDER-s3-secret"
        values["archiveS3ReaderAccessKey"] = "PLACEHOLDER-s3-reader-access"
        values["archiveS3ReaderSecretKey"] = "PLACEHOLDER-s3-reader-secret"
    flat = {f"kafkaUserPasswords/{user}": value for user, value in passwords.items()}
    flat.update({key: value for key, value in values.items() if isinstance(value, str)})
    return values, flat


def run_program(stack: str, overrides: dict[str, Any] | None = None) -> ProgramRun:
    """Declare the whole stack under mocks, exactly as `pulumi up --stack <stack>` would; `overrides`
    replaces keys of its stack file (`alertdist:registry`), as a changed stack file would."""
    plain = project_values({**read_config_values(stack_file(stack)), **(overrides or {})})
    secret_values, placeholders = placeholder_secrets(stack)
    all_values = {f"{PROJECT}:{k}": v for k, v in as_pulumi_config({**plain, **secret_values}).items()}
    monitor = RecordingMonitor()
    pulumi.runtime.set_mocks(
        monitor.mocks, project="alert-distribution", stack=stack, preview=False, monitor=monitor
    )
    pulumi.runtime.set_all_config(all_values, secret_keys=[f"{PROJECT}:{key}" for key in secret_values])
    outputs: dict[str, Any] = {}
    secret_outputs: set[str] = set()

    async def record(declared: dict[str, Any]) -> None:
        for key, value in declared.items():
            output = pulumi.Output.from_input(value)
            if await output.is_secret():
                secret_outputs.add(key)
            outputs[key] = await output.future()

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def program() -> Any:
        config = pulumi.Config(PROJECT)
        model = load_stack_config(config)
        return record(declare(model, read_secrets(config, model)))

    program()
    return ProgramRun(stack, list(monitor.recorded), outputs, secret_outputs, placeholders)


def unwrap_secrets(value: Any) -> Any:
    """Inputs as the resource sees them: secret wrappers replaced by their values."""
    if isinstance(value, dict):
        if value.get(SECRET_SIG_KEY) == SECRET_SIG:
            return unwrap_secrets(value["value"])
        return {key: unwrap_secrets(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unwrap_secrets(item) for item in value]
    return value


def plaintext_leaks(wire: Any, placeholders: set[str], in_secret: bool = False) -> list[str]:
    """Placeholders that appear in serialized inputs outside a secret wrapper."""
    if isinstance(wire, dict):
        inside = in_secret or wire.get(SECRET_SIG_KEY) == SECRET_SIG
        return [leak for value in wire.values() for leak in plaintext_leaks(value, placeholders, inside)]
    if isinstance(wire, list):
        return [leak for value in wire for leak in plaintext_leaks(value, placeholders, in_secret)]
    if isinstance(wire, str) and not in_secret:
        return [p for p in placeholders if p in wire]
    return []
