"""Read a stack file (stacks/Pulumi.<stack>.yaml) into the typed model, without Pulumi."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from infra.config import StackConfig

PROJECT = "alertdist"
STACKS_DIR = Path(__file__).resolve().parent.parent / "stacks"


def stack_file(stack: str) -> Path:
    return STACKS_DIR / f"Pulumi.{stack}.yaml"


def stack_names() -> list[str]:
    """Every stack that has a file in stacks/."""
    return sorted(
        path.name.removeprefix("Pulumi.").removesuffix(".yaml") for path in STACKS_DIR.glob("Pulumi.*.yaml")
    )


def read_config_values(path: Path) -> dict[str, Any]:
    """The `config:` block of a stack file, keys as written (`alertdist:kafka`, `kubernetes:context`)."""
    document = yaml.safe_load(path.read_text()) or {}
    values = document.get("config") or {}
    if not isinstance(values, dict):
        raise ValueError(f"{path}: `config` must be a mapping")
    return values


def project_values(values: dict[str, Any]) -> dict[str, Any]:
    """The plain (non-secret) `alertdist:` keys, without the prefix."""
    prefix = f"{PROJECT}:"
    return {
        key.removeprefix(prefix): value
        for key, value in values.items()
        if key.startswith(prefix) and not (isinstance(value, dict) and "secure" in value)
    }


def model_from_values(values: dict[str, Any]) -> StackConfig:
    """Validate unprefixed config values into the typed model; unknown keys are left to secrets."""
    known = {field.alias or name for name, field in StackConfig.model_fields.items()}
    return StackConfig.model_validate({key: value for key, value in values.items() if key in known})


def load_stack(stack: str) -> StackConfig:
    return model_from_values(project_values(read_config_values(stack_file(stack))))


def as_pulumi_config(values: dict[str, Any]) -> dict[str, str]:
    """Stack values the way the Pulumi engine hands them to a program: objects as JSON strings."""
    return {key: value if isinstance(value, str) else json.dumps(value) for key, value in values.items()}
