"""The generic manifest builders: what an ingress lets through, as ingress-nginx would route it."""

from __future__ import annotations

import re

import pytest

from infra.components.archive.manifests import ARCHIVE_PUBLIC_ROUTES
from infra.components.kubernetes import INGRESS_ANNOTATIONS, ingress
from infra.components.registry.manifests import REGISTRY_PUBLIC_ROUTES
from infra.config import IngressSpec

SPEC = IngressSpec(host="api.example.org", pathPrefix="/schema-registry")


def routed(routes: tuple[str, ...], request_path: str) -> str | None:
    """The path the backend receives for `request_path`, or None when the ingress has no route.

    ingress-nginx turns a use-regex path into a case-insensitive regex location (`location ~*`)
    and rewrite-target into `rewrite (?i)<path> <target> break` (ingress-nginx
    rootfs/etc/nginx/template/nginx.tmpl); Python's re agrees with PCRE on these patterns."""
    manifest = ingress("ns", "app", 8081, SPEC, routes)
    (path,) = manifest["spec"]["rules"][0]["http"]["paths"]
    match = re.match(path["path"], request_path, re.IGNORECASE)
    if match is None:
        return None
    target = manifest["metadata"]["annotations"]["nginx.ingress.kubernetes.io/rewrite-target"]
    return re.sub(r"\$(\d)", lambda m: match.group(int(m.group(1))), target)


@pytest.mark.parametrize(
    ("request_path", "backend_path"),
    [
        ("/schema-registry/schemas/ids/1101", "/schemas/ids/1101"),
        ("/schema-registry/schemas/ids/1101/versions", "/schemas/ids/1101/versions"),
        ("/schema-registry/schemas/types", "/schemas/types"),
        ("/schema-registry/schemas", "/schemas"),
    ],
)
def test_the_registry_ingress_passes_schema_reads(request_path: str, backend_path: str) -> None:
    assert routed(REGISTRY_PUBLIC_ROUTES, request_path) == backend_path


@pytest.mark.parametrize(
    "request_path",
    [
        "/schema-registry/subjects/alert-packet/versions",  # POST registers a schema
        "/schema-registry/subjects/alert-packet",  # DELETE removes a subject
        "/schema-registry/mode",
        "/schema-registry/mode/alert-packet",
        "/schema-registry/config",
        "/schema-registry/compatibility/subjects/alert-packet/versions/latest",
        "/schema-registry/",
        "/schema-registry/schemasx",
        "/schema-registry/v1/health",
        "/other/schemas/ids/1101",
    ],
)
def test_the_registry_ingress_has_no_route_to_writes(request_path: str) -> None:
    assert routed(REGISTRY_PUBLIC_ROUTES, request_path) is None


def test_the_archive_ingress_passes_its_api_only() -> None:
    assert routed(ARCHIVE_PUBLIC_ROUTES, "/schema-registry/v1/alerts/1") == "/v1/alerts/1"
    assert routed(ARCHIVE_PUBLIC_ROUTES, "/schema-registry/metrics") is None


def test_ingresses_use_no_snippet_annotations() -> None:
    """Snippets are refused by ingress-nginx 1.12 and later unless operators lower its risk level."""
    annotations = ingress("ns", "app", 8081, SPEC, ("schemas",))["metadata"]["annotations"]
    assert annotations == INGRESS_ANNOTATIONS
    assert not [name for name in annotations if "snippet" in name]
