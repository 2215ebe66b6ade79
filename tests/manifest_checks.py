"""Validation of Kubernetes manifests against their real API schemas: Strimzi's CRDs (from
../shared/strimzi-crds/<chart version>/, or ALERTDIST_STRIMZI_CRDS), Gateway API's and the Prometheus
operator's CRDs (from their Go modules) and the core Kubernetes API.
Used on the mocks' record (tests/unit) and on the YAML the engine renders (tests/integration)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from infra.components.kubernetes import GATEWAY_API_VERSION
from infra.components.monitoring.manifests import PROMETHEUS_OPERATOR_VERSION
from localfacility.settings import STRIMZI_SOURCES

KUBERNETES_VERSION = "1.33.0"
REPO = Path(__file__).resolve().parents[1]


CRD_CACHE = REPO / ".run" / "strimzi-crds"


def crd_dir(chart_version: str) -> Path | None:
    """The Strimzi CRD files for a chart version: ALERTDIST_STRIMZI_CRDS/<version>, or extracted
    once from the release's source archive in ../shared/strimzi/ (packaging/install/cluster-operator/
    holds each release's CRDs), where this machine has it."""
    override = os.environ.get("ALERTDIST_STRIMZI_CRDS")
    if override and (Path(override) / chart_version).is_dir():
        return Path(override) / chart_version
    target = CRD_CACHE / chart_version
    if target.is_dir():
        return target
    archive = STRIMZI_SOURCES / f"strimzi-kafka-operator-{chart_version}.tar.gz"
    if not archive.is_file():
        return None
    prefix = f"strimzi-kafka-operator-{chart_version}/packaging/install/cluster-operator/"
    partial = target.with_name(f"{chart_version}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            name = member.name.removeprefix(prefix)
            if member.isfile() and member.name.startswith(prefix) and "-Crd-" in name and "/" not in name:
                source = tar.extractfile(member)
                assert source is not None
                (partial / name).write_bytes(source.read())
    partial.rename(target)
    return target


def require_crds(chart_version: str) -> Path:
    """The CRDs, or a skip that says what to provide; in CI their absence fails the run."""
    directory = crd_dir(chart_version)
    if directory is None:
        message = (
            f"Strimzi {chart_version} CRDs not found: put the release's source archive in {STRIMZI_SOURCES} "
            "or set ALERTDIST_STRIMZI_CRDS to a folder holding <version>/*.yaml"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return directory


def module_dir(module: str, version: str) -> Path:
    """A Go module's whole tree from the module proxy (which serves a release's repository tree, its
    CRD files included); in CI its absence fails the run, elsewhere it skips and says why."""
    command = ["go", "mod", "download", "-json", f"{module}@{version}"]
    try:
        found = subprocess.run(command, capture_output=True, text=True, check=False)
        failure = found.stderr if found.returncode != 0 else ""
    except OSError as exc:  # no Go on this machine
        failure = str(exc)
    if failure:
        message = f"{module} {version} not downloadable (go mod download): {failure}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return Path(json.loads(found.stdout)["Dir"])


def gateway_api_crds() -> Path:
    """The standard-channel CRDs of the Gateway API release the routes are written for."""
    return module_dir("sigs.k8s.io/gateway-api", GATEWAY_API_VERSION) / "config" / "crd" / "standard"


def prometheus_operator_crds() -> Path:
    """The CRDs of the Prometheus operator release the monitors and rules are written for."""
    module = module_dir("github.com/prometheus-operator/prometheus-operator", PROMETHEUS_OPERATOR_VERSION)
    return module / "example" / "prometheus-operator-crd"


def monitoring_crd_files() -> list[Path]:
    """The two kinds the stacks declare: PodMonitor and PrometheusRule."""
    crds = prometheus_operator_crds()
    return [crds / f"monitoring.coreos.com_{kind}.yaml" for kind in ("podmonitors", "prometheusrules")]


@cache
def monitoring_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    return _served_schemas(monitoring_crd_files())


def validate_monitoring(manifest: dict[str, Any]) -> None:
    """Raises jsonschema.ValidationError where a monitor or rule does not match the served CRD schema."""
    schema = monitoring_schemas()[(manifest["apiVersion"], manifest["kind"])]
    jsonschema.validate({key: value for key, value in manifest.items() if key != "metadata"}, schema)


def is_monitoring(manifest: dict[str, Any]) -> bool:
    return str(manifest["apiVersion"]).startswith("monitoring.coreos.com/")


@cache
def gateway_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    return _served_schemas(gateway_api_crds().glob("gateway.networking.k8s.io_*routes.yaml"))


def _served_schemas(paths: Iterable[Path]) -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> the served openAPIV3Schema of each CRD file, closed against unknown fields."""
    schemas = {}
    for path in sorted(paths):
        crd = yaml.safe_load(path.read_text())
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            if version.get("served"):
                schema = _python_patterns(version["schema"]["openAPIV3Schema"])
                schemas[(f"{group}/{version['name']}", kind)] = _closed(schema)
    return schemas


def validate_gateway(manifest: dict[str, Any]) -> None:
    """Raises jsonschema.ValidationError where a route does not match the served CRD schema."""
    schema = gateway_schemas()[(manifest["apiVersion"], manifest["kind"])]
    jsonschema.validate({key: value for key, value in manifest.items() if key != "metadata"}, schema)


def is_gateway(manifest: dict[str, Any]) -> bool:
    return str(manifest["apiVersion"]).startswith("gateway.networking.k8s.io/")


def _python_patterns(schema: Any) -> Any:
    """Go's regexp takes flags after `^` (`^(?i)...`, in the PrometheusRule CRD); Python's only first."""
    if isinstance(schema, dict):
        fixed = {key: _python_patterns(value) for key, value in schema.items()}
        pattern = fixed.get("pattern")
        if isinstance(pattern, str) and pattern.startswith("^(?i)"):
            fixed["pattern"] = "(?i)^" + pattern.removeprefix("^(?i)")
        return fixed
    if isinstance(schema, list):
        return [_python_patterns(item) for item in schema]
    return schema


def _closed(schema: Any) -> Any:
    """The API server prunes unknown fields silently; treat them as errors instead."""
    if isinstance(schema, dict):
        schema = {key: _closed(value) for key, value in schema.items()}
        if (
            "properties" in schema
            and "additionalProperties" not in schema
            and not schema.get("x-kubernetes-preserve-unknown-fields")
        ):
            schema["additionalProperties"] = False
        return schema
    if isinstance(schema, list):
        return [_closed(item) for item in schema]
    return schema


@cache
def crd_schemas(chart_version: str) -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> the served openAPIV3Schema, closed against unknown fields."""
    directory = crd_dir(chart_version)
    assert directory is not None
    return _served_schemas(directory.glob("*.yaml"))


def is_strimzi(manifest: dict[str, Any]) -> bool:
    return str(manifest["apiVersion"]).startswith("kafka.strimzi.io/")


def validate_strimzi(manifest: dict[str, Any], chart_version: str) -> None:
    """Raises jsonschema.ValidationError where the object does not match the served CRD schema."""
    schema = crd_schemas(chart_version).get((manifest["apiVersion"], manifest["kind"]))
    assert schema is not None, f"Strimzi {chart_version} does not serve {manifest['apiVersion']}"
    jsonschema.validate({key: value for key, value in manifest.items() if key != "metadata"}, schema)


def validate_core(manifest: dict[str, Any]) -> None:
    """Raises kubernetes_validate.ValidationError where the object does not match the API."""
    kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)


def type_token(manifest: dict[str, Any]) -> str:
    """The Pulumi type of a manifest (`kubernetes:apps/v1:Deployment`, `kubernetes:core/v1:Secret`)."""
    api_version = manifest["apiVersion"]
    group_version = api_version if "/" in api_version else f"core/{api_version}"
    return f"kubernetes:{group_version}:{manifest['kind']}"
