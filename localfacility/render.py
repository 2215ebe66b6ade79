"""Run a facility stack's program under the real engine with the Kubernetes provider in render
mode: `pulumi up` writes every manifest as YAML instead of applying it, so what the facilities
would receive can be validated here. Secrets are recognisable placeholders (infra.render)."""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path
from typing import Any

from infra.render import placeholder_secrets
from infra.stackfile import read_config_values, stack_file
from localfacility.engine import Engine

RENDER_KEY = "kubernetes:renderYamlToDirectory"
CLUSTER_KEYS = ("kubernetes:context", "kubernetes:kubeconfig", "kubernetes:cluster")  # refused in render mode


POLICY_PACK = Path(__file__).resolve().parents[1] / "infra" / "policy"


def render_stack(stack: str, work_dir: Path, bin_dir: Path, changes: dict[str, Any] | None = None) -> Path:
    """`pulumi up --policy-pack infra/policy` of `stack` in render mode on a fresh backend in
    `work_dir`, as the facilities' deploy runs it; returns the folder of manifests. `changes`
    replaces config values (keys as in a stack file). A policy violation fails the run."""
    shutil.rmtree(work_dir, ignore_errors=True)
    manifests = work_dir.resolve() / "manifests"
    engine = Engine(state_dir=work_dir / "pulumi", bin_dir=bin_dir, passphrase=secrets.token_urlsafe(24))
    deployed = engine.stack(stack)
    values = {**read_config_values(stack_file(stack)), **(changes or {}), RENDER_KEY: str(manifests)}
    values = {key: value for key, value in values.items() if key not in CLUSTER_KEYS}
    engine.write_plain_config(stack, values)
    engine.set_missing_secrets(stack, placeholder_secrets(stack)[0])
    deployed.up(color="never", policy_packs=[str(POLICY_PACK)])
    return manifests
