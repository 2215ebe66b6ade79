"""Turn a manifest dict into the matching typed Kubernetes resource."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from infra.manifests import Manifest

_TYPED: dict[tuple[str, str], Callable[..., pulumi.CustomResource]] = {
    ("v1", "Namespace"): k8s.core.v1.Namespace,
    ("v1", "Service"): k8s.core.v1.Service,
    ("v1", "ServiceAccount"): k8s.core.v1.ServiceAccount,
    ("apps/v1", "Deployment"): k8s.apps.v1.Deployment,
    ("batch/v1", "Job"): k8s.batch.v1.Job,
    ("networking.k8s.io/v1", "Ingress"): k8s.networking.v1.Ingress,
}


def apply_manifest(manifest: Manifest, opts: pulumi.ResourceOptions) -> pulumi.CustomResource:
    """Declare one manifest; the resource's logical name is `<kind>-<name>` in lower case."""
    api_version, kind = manifest["apiVersion"], manifest["kind"]
    name = f"{kind.lower()}-{manifest['metadata']['name']}"
    kwargs: dict[str, Any] = {"metadata": manifest["metadata"]}
    if "spec" in manifest:
        kwargs["spec"] = manifest["spec"]
    typed = _TYPED.get((api_version, kind))
    if typed is not None:
        return typed(name, opts=opts, **kwargs)
    return k8s.apiextensions.CustomResource(name, api_version=api_version, kind=kind, opts=opts, **kwargs)


def secret(
    name: str, namespace: str, data: dict[str, pulumi.Input[str]], opts: pulumi.ResourceOptions
) -> k8s.core.v1.Secret:
    """An Opaque Secret whose values stay Pulumi secrets end to end."""
    return k8s.core.v1.Secret(
        f"secret-{name}",
        metadata={"name": name, "namespace": namespace},
        string_data={key: pulumi.Output.secret(value) for key, value in data.items()},
        type="Opaque",
        opts=opts,
    )
