"""Run a facility stack's program under the real engine with the real Kubernetes provider: in
render mode (`pulumi up` writes every manifest as YAML instead of applying it, so what the
facilities would receive can be validated here) or against the local Kubernetes
(localfacility.kubernetes), whose API server answers for every object. Secrets are recognisable
placeholders (infra.render)."""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path
from typing import Any

import yaml
from pulumi import automation as auto

from infra.render import placeholder_secrets
from infra.stackfile import read_config_values, stack_file
from localfacility.engine import Engine

RENDER_KEY = "kubernetes:renderYamlToDirectory"
KUBECONFIG_KEY = "kubernetes:kubeconfig"
CLUSTER_KEYS = ("kubernetes:context", KUBECONFIG_KEY, "kubernetes:cluster")  # the facility's own cluster


POLICY_PACK = Path(__file__).resolve().parents[1] / "infra" / "policy"


def facility_stack(
    stack: str, work_dir: Path, bin_dir: Path, target: dict[str, str], changes: dict[str, Any] | None = None
) -> auto.Stack:
    """`stack` on a fresh backend in `work_dir`, its cluster settings replaced by `target` (render
    mode, or a kubeconfig). `changes` replaces config values (keys as in a stack file)."""
    shutil.rmtree(work_dir, ignore_errors=True)
    engine = Engine(state_dir=work_dir / "pulumi", bin_dir=bin_dir, passphrase=secrets.token_urlsafe(24))
    deployed = engine.stack(stack)
    values = {**read_config_values(stack_file(stack)), **(changes or {})}
    values = {key: value for key, value in values.items() if key not in CLUSTER_KEYS}
    engine.write_plain_config(stack, {**values, **target})
    engine.set_missing_secrets(stack, placeholder_secrets(stack)[0])
    return deployed


def change_config(stack: str, work_dir: Path, bin_dir: Path, changes: dict[str, Any]) -> None:
    """Change config values (keys as in a stack file) of a stack `facility_stack` made in
    `work_dir`, as an operator edits the stack file: the rest, its secrets included, is kept."""
    state = work_dir / "pulumi"
    engine = Engine(state_dir=state, bin_dir=bin_dir, passphrase=(state / "passphrase").read_text())
    current = yaml.safe_load(engine.config_file(stack).read_text()).get("config") or {}
    engine.write_plain_config(stack, {**current, **changes})


def render_stack(stack: str, work_dir: Path, bin_dir: Path, changes: dict[str, Any] | None = None) -> Path:
    """`pulumi up --policy-pack infra/policy` of `stack` in render mode, as the facilities' deploy
    runs it; returns the folder of manifests. A policy violation fails the run."""
    manifests = work_dir.resolve() / "manifests"
    deployed = facility_stack(stack, work_dir, bin_dir, {RENDER_KEY: str(manifests)}, changes)
    deployed.up(color="never", policy_packs=[str(POLICY_PACK)])
    return manifests


def cluster_stack(
    stack: str, work_dir: Path, bin_dir: Path, kubeconfig: Path, changes: dict[str, Any] | None = None
) -> auto.Stack:
    """`stack` aimed at the cluster `kubeconfig` logs into, ready for preview, up, refresh and
    destroy (with `policy_packs=[str(POLICY_PACK)]` as the facilities' deploy runs them)."""
    return facility_stack(stack, work_dir, bin_dir, {KUBECONFIG_KEY: str(kubeconfig)}, changes)
