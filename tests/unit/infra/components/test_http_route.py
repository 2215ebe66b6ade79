"""The public routes as Gateway API HTTPRoutes: what they pass, checked against the release's CRD."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
import pytest
from pydantic import ValidationError

from infra.components.archive.manifests import ARCHIVE_PUBLIC_ROUTES
from infra.components.kubernetes import http_route, only_from
from infra.components.registry.manifests import REGISTRY_PUBLIC_METHODS, REGISTRY_PUBLIC_ROUTES
from infra.config import GatewayRefSpec, HttpRouteSpec
from tests.manifest_checks import gateway_schemas, validate_gateway
from tests.unit.infra.upstream.test_pulumi_await import parsed_wait_for

IN_CLUSTER = GatewayRefSpec(name="public", namespace="gateways", sectionName="https", dataPlaneNamespace="gw")
# GKE's external Application Load Balancer proxies connect from Google's front ends.
CLOUD = GatewayRefSpec(name="public", namespace="gateways", sourceRanges=["130.211.0.0/22", "35.191.0.0/16"])


def registry_route(gateway: GatewayRefSpec = IN_CLUSTER) -> dict[str, Any]:
    spec = HttpRouteSpec(host="api.example.org", pathPrefix="/schema-registry/", gateway=gateway)
    return http_route("ns", "schema-registry", 8081, spec, REGISTRY_PUBLIC_ROUTES, REGISTRY_PUBLIC_METHODS)


def archive_route() -> dict[str, Any]:
    spec = HttpRouteSpec(host="api.example.org", pathPrefix="/alert-archive", gateway=IN_CLUSTER)
    return http_route("ns", "archive-server", 8080, spec, ARCHIVE_PUBLIC_ROUTES)


def test_the_registry_route_passes_gets_of_its_schemas_only() -> None:
    route = registry_route()
    assert route["spec"]["parentRefs"] == [
        {"name": "public", "namespace": "gateways", "sectionName": "https"}
    ]
    assert route["spec"]["hostnames"] == ["api.example.org"]
    (rule,) = route["spec"]["rules"]
    assert rule["matches"] == [
        {"path": {"type": "PathPrefix", "value": "/schema-registry/schemas"}, "method": "GET"}
    ]
    assert rule["filters"] == [
        {
            "type": "URLRewrite",
            "urlRewrite": {"path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/schemas"}},
        }
    ]
    assert rule["backendRefs"] == [{"name": "schema-registry", "port": 8081}]


def test_the_archive_route_passes_every_method_of_its_api() -> None:
    (rule,) = archive_route()["spec"]["rules"]
    assert rule["matches"] == [{"path": {"type": "PathPrefix", "value": "/alert-archive/v1"}}]


def test_every_rewriting_rule_holds_exactly_one_path_prefix_match() -> None:
    """The HTTPRoute CRD's CEL rule (gateway-api v1.6.3, config/crd/standard/
    gateway.networking.k8s.io_httproutes.yaml, spec.rules[]): "When using URLRewrite filter with
    path.replacePrefixMatch, exactly one PathPrefix match must be specified". The API server
    evaluates it; jsonschema does not, so it is checked here."""
    spec = HttpRouteSpec(host="h", pathPrefix="/p", gateway=IN_CLUSTER)
    route = http_route("ns", "app", 80, spec, ("a", "b"), ("GET", "HEAD"))
    assert len(route["spec"]["rules"]) == 4
    for rule in route["spec"]["rules"]:
        assert any(f["urlRewrite"]["path"]["type"] == "ReplacePrefixMatch" for f in rule["filters"])
        (match,) = rule["matches"]
        assert match["path"]["type"] == "PathPrefix"


@pytest.mark.parametrize("route", [registry_route(), registry_route(CLOUD), archive_route()])
def test_routes_match_the_gateway_api_crd(route: dict[str, Any]) -> None:
    validate_gateway(route)


def test_the_crd_check_catches_a_misspelt_field() -> None:
    route = registry_route()
    rewrite = route["spec"]["rules"][0]["filters"][0]["urlRewrite"]["path"]
    rewrite["replacePrefix"] = rewrite.pop("replacePrefixMatch")
    schema = gateway_schemas()[("gateway.networking.k8s.io/v1", "HTTPRoute")]
    body = {key: value for key, value in copy.deepcopy(route).items() if key != "metadata"}
    with pytest.raises(jsonschema.ValidationError, match="replacePrefix"):
        jsonschema.validate(body, schema)


def test_the_registry_admits_the_gateway_s_proxies_and_nobody_else() -> None:
    spec = HttpRouteSpec(host="h", pathPrefix="/p", gateway=IN_CLUSTER)
    peers = only_from("ns", "schema-registry", 8081, ["archive-server"], spec)["spec"]["ingress"][0]["from"]
    assert {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "gw"}}} in peers
    assert not [p for p in peers if "ipBlock" in p]
    cloud = HttpRouteSpec(host="h", pathPrefix="/p", gateway=CLOUD)
    peers = only_from("ns", "schema-registry", 8081, ["archive-server"], cloud)["spec"]["ingress"][0]["from"]
    assert [p["ipBlock"]["cidr"] for p in peers if "ipBlock" in p] == ["130.211.0.0/22", "35.191.0.0/16"]
    assert not [p for p in peers if "namespaceSelector" in p]


def test_up_waits_until_the_gateway_accepted_the_route() -> None:
    annotations = registry_route()["metadata"]["annotations"]
    (expression,) = parsed_wait_for(annotations["pulumi.com/waitFor"])
    path, _, value = expression.removeprefix("jsonpath=").rpartition("=")
    assert path == '{.status.parents[0].conditions[?(@.type=="Accepted")].status}'
    assert value == "True"


@pytest.mark.parametrize(
    ("field", "value", "why"),
    [
        ("host", "127.0.0.1", "is an IP address"),
        ("host", "API.example.org", "should match pattern"),
        ("pathPrefix", "/schema-registry//x", "should match pattern"),
    ],
)
def test_the_config_refuses_what_the_crd_refuses(field: str, value: str, why: str) -> None:
    values = {"host": "api.example.org", "pathPrefix": "/p", "gateway": IN_CLUSTER, field: value}
    with pytest.raises(ValidationError, match=why):
        HttpRouteSpec.model_validate(values)
