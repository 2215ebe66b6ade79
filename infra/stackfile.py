"""Read a stack file (stacks/Pulumi.<stack>.yaml) into the typed model, without Pulumi."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import yaml

from infra.config import StackConfig, pinned_image

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


SERVICES_IMAGE_KEY = f"{PROJECT}:servicesImage"


def pin_services_image(path: Path, image: str) -> None:
    """Set the stack file's services image to `image` (a release's name:tag@sha256:digest),
    editing that one line so the file's comments and layout stay as operators wrote them."""
    pinned_image(image)
    if "@sha256:" not in image:
        raise ValueError(f"{image}: the stack files pin the services image by digest")
    lines = path.read_text().splitlines(keepends=True)
    found = [i for i, line in enumerate(lines) if line.strip().startswith(f"{SERVICES_IMAGE_KEY}:")]
    if len(found) != 1:
        raise ValueError(f"{path}: expected one `{SERVICES_IMAGE_KEY}` line, found {len(found)}")
    (index,) = found
    indent = lines[index][: len(lines[index]) - len(lines[index].lstrip())]
    lines[index] = f"{indent}{SERVICES_IMAGE_KEY}: {image}\n"
    path.write_text("".join(lines))
    if load_values_image(path) != image:
        raise ValueError(f"{path}: the pinned image did not read back")


def load_values_image(path: Path) -> str | None:
    image = read_config_values(path).get(SERVICES_IMAGE_KEY)
    return None if image is None else str(image)


def pin_main(argv: list[str] | None = None) -> None:
    """alertdist-pin-image IMAGE@DIGEST [STACK...]: pin the services image in the stack files."""
    parser = argparse.ArgumentParser(prog="alertdist-pin-image", description=pin_main.__doc__)
    parser.add_argument("image", help="name:tag@sha256:digest, as the release workflow pushed it")
    parser.add_argument("stacks", nargs="*", default=["idf", "usdf"], help="stacks to pin (idf usdf)")
    args = parser.parse_args(argv)
    for stack in args.stacks:
        pin_services_image(stack_file(stack), args.image)
        load_stack(stack)  # the whole file still validates
        print(f"{stack}: {args.image}")
