"""Generic Kubernetes pieces: manifest builders (pure) and the one way to declare a manifest."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from infra.config import ContainerResourcesSpec, HttpRouteSpec, IngressSpec, PublicRoute
from infra.naming import METRICS_PORT

Manifest = dict[str, Any]

ALL_INTERFACES = "0.0.0.0"  # noqa: S104 - in a pod, what the Service, probes and scraper reach
PART_OF = {"app.kubernetes.io/part-of": "alert-distribution"}


def meta(name: str, namespace: str, **labels: str) -> dict[str, Any]:
    return {"name": name, "namespace": namespace, "labels": {**PART_OF, **labels}}


def app_labels(app: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": app, **PART_OF}


def secret_env(name: str, secret: str, key: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def service_args(module: str, *extra: str) -> list[str]:
    """The command of one of our services (`python -m services.<name>.cli`), serving its metrics
    on METRICS_PORT on every interface of the pod, for the scraper."""
    metrics = ["--metrics-port", str(METRICS_PORT), "--metrics-host", ALL_INTERFACES]
    return ["python", "-m", f"services.{module}.cli", *extra, *metrics]


def container(
    app: str,
    image: str,
    env: list[dict[str, Any]],
    resources: ContainerResourcesSpec,
    args: list[str] | None = None,
    port: int | None = None,
    readiness_path: str | None = None,
    mounts: list[dict[str, Any]] | None = None,
    run_as: int | None = None,
    metrics_port: int | None = None,
) -> Manifest:
    """A non-root container with no privileges; `port` is named `http`, probed at `readiness_path`,
    `metrics_port` is named `metrics`. `run_as` gives the uid and gid for an image whose USER is a
    name (the kubelet cannot verify runAsNonRoot against a name and refuses to start it)."""
    spec: Manifest = {
        "name": app,
        "image": image,
        "env": env,
        "resources": {
            "requests": {"cpu": resources.cpu, "memory": resources.memory},
            "limits": {"memory": resources.memory},
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        },
    }
    if run_as is not None:
        spec["securityContext"] |= {"runAsUser": run_as, "runAsGroup": run_as}
    if args is not None:
        spec["args"] = args
    ports = [(name, number) for name, number in (("http", port), ("metrics", metrics_port)) if number]
    if ports:
        spec["ports"] = [{"name": name, "containerPort": number} for name, number in ports]
    if readiness_path is not None:
        spec["readinessProbe"] = {"httpGet": {"path": readiness_path, "port": "http"}}
    if mounts:
        spec["volumeMounts"] = mounts
    return spec


def deployment(
    namespace: str,
    app: str,
    replicas: int,
    pod_container: Manifest,
    volumes: list[dict[str, Any]] | None = None,
) -> Manifest:
    """A Deployment of one container, running as the service account named after the app, its
    replicas spread over nodes, its `metrics` port announced to Prometheus."""
    pod_spec: Manifest = {"serviceAccountName": app, **pod_security(), "containers": [pod_container]}
    if volumes:
        pod_spec["volumes"] = volumes
    if replicas > 1:
        pod_spec["topologySpreadConstraints"] = [
            spread_over_nodes({"app.kubernetes.io/name": app}, hard=False)
        ]
    pod_meta: Manifest = {"labels": app_labels(app)}
    metrics = [p["containerPort"] for p in pod_container.get("ports", []) if p["name"] == "metrics"]
    if metrics:
        pod_meta["annotations"] = {"prometheus.io/scrape": "true", "prometheus.io/port": str(metrics[0])}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta(app, namespace, **app_labels(app)),
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app.kubernetes.io/name": app}},
            "template": {"metadata": pod_meta, "spec": pod_spec},
        },
    }


def pod_security() -> Manifest:
    """What every pod of ours sets apart from its containers. Service links off: the kubelet would
    put `<SERVICE>_PORT` and the like for every Service of the namespace into the environment
    (kubernetes pkg/kubelet/kubelet_pods.go, getServiceEnvVarMap, unless enableServiceLinks is
    false), where an image may read them as its own settings (Confluent's registry does). The
    default seccomp profile: Pod Security `restricted` refuses a pod without one
    (kubernetes.io/docs/concepts/security/pod-security-standards, "Seccomp")."""
    return {"enableServiceLinks": False, "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}}


def spread_over_nodes(match_labels: dict[str, str], hard: bool) -> Manifest:
    """One replica per node as far as possible; `hard` refuses to schedule two on one node."""
    return {
        "maxSkew": 1,
        "topologyKey": "kubernetes.io/hostname",
        "whenUnsatisfiable": "DoNotSchedule" if hard else "ScheduleAnyway",
        "labelSelector": {"matchLabels": match_labels},
    }


def service(namespace: str, app: str, port: int) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta(app, namespace, **app_labels(app)),
        "spec": {
            "selector": {"app.kubernetes.io/name": app},
            "ports": [{"name": "http", "port": port, "targetPort": port}],
        },
    }


# ingress-nginx annotations this module may use. Snippet annotations (configuration-snippet and the
# like) are "Critical" in ingress-nginx's annotation risk table and refused by default since v1.12
# (`annotations-risk-level: High`, docs/user-guide/nginx-configuration/annotations-risk.md;
# `allow-snippet-annotations` is false by default since v1.9); these two are below that level.
INGRESS_ANNOTATIONS = {
    "nginx.ingress.kubernetes.io/rewrite-target": "/$1",
    "nginx.ingress.kubernetes.io/use-regex": "true",
}


CLUSTER_ISSUER_ANNOTATION = "cert-manager.io/cluster-issuer"


def ingress_path(spec: IngressSpec, routes: tuple[str, ...]) -> str:
    """The regex path that passes `<prefix>/<route>[/...]` for the given top-level routes only,
    capturing what the backend receives (rewrite-target `/$1`)."""
    prefix = spec.path_prefix.rstrip("/")
    return f"{prefix}/((?:{'|'.join(routes)})(?:/.*)?)$"


def ingress(namespace: str, app: str, port: int, spec: IngressSpec, routes: tuple[str, ...]) -> Manifest:
    """An Ingress under a path prefix that exposes only the app's given top-level routes: nginx
    cannot restrict methods without snippets, so what is exposed must be read-only as a path."""
    metadata = meta(app, namespace, **app_labels(app))
    metadata["annotations"] = dict(INGRESS_ANNOTATIONS)
    tls: Manifest = {}
    if spec.tls is not None:
        # cert-manager's ingress-shim makes a Certificate for each `tls` entry of an Ingress that
        # names an issuer (cert-manager docs, usage/ingress: the cert-manager.io/cluster-issuer
        # annotation); the controller serves it from the Secret.
        metadata["annotations"][CLUSTER_ISSUER_ANNOTATION] = spec.tls.cluster_issuer
        tls = {"tls": [{"hosts": [spec.host], "secretName": f"{app}-tls"}]}
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": metadata,
        "spec": {
            "ingressClassName": spec.ingress_class,
            **tls,
            "rules": [
                {
                    "host": spec.host,
                    "http": {
                        "paths": [
                            {
                                "path": ingress_path(spec, routes),
                                "pathType": "ImplementationSpecific",
                                "backend": {"service": {"name": app, "port": {"number": port}}},
                            }
                        ]
                    },
                }
            ],
        },
    }


# The Gateway API release whose HTTPRoute (gateway.networking.k8s.io/v1, standard channel) the
# routes are written for and checked against (tests/manifest_checks.py reads its CRDs from the
# release's Go module, sigs.k8s.io/gateway-api).
GATEWAY_API_VERSION = "v1.6.3"
# `pulumi up` waits until the Gateway accepted the route (status.parents[].conditions Accepted, set
# by the implementation: gateway-api v1.6.3 apis/v1/httproute_types.go, RouteConditionAccepted):
# method matching and the rewrite are Extended features, and a Gateway whose allowedRoutes does not
# admit the namespace refuses the route. A jsonpath waitFor is read by pulumi-kubernetes v4.25.0
# (provider/pkg/metadata/overrides.go:121-158, RFC 9535 paths since 4.24.0).
WAIT_FOR_ANNOTATION = "pulumi.com/waitFor"
ROUTE_ACCEPTED = 'jsonpath={.status.parents[0].conditions[?(@.type=="Accepted")].status}=True'


def http_route(
    namespace: str,
    app: str,
    port: int,
    spec: HttpRouteSpec,
    routes: tuple[str, ...],
    methods: tuple[str, ...] = (),
) -> Manifest:
    """An HTTPRoute passing `<prefix>/<route>[/...]` for the given top-level routes only, each
    rewritten to `/<route>...`, and only for `methods` when given (Gateway API matches the method
    itself, where ingress-nginx needs a snippet). One rule a route and method: a rule rewriting with
    ReplacePrefixMatch must hold exactly one PathPrefix match (a CEL rule of the HTTPRoute CRD,
    gateway-api v1.6.3 config/crd/standard/gateway.networking.k8s.io_httproutes.yaml)."""
    prefix = spec.path_prefix.rstrip("/")
    parent: Manifest = {"name": spec.gateway.name, "namespace": spec.gateway.namespace}
    if spec.gateway.section_name is not None:
        parent["sectionName"] = spec.gateway.section_name
    rules = []
    for route in routes:
        for method in methods or (None,):
            match: Manifest = {"path": {"type": "PathPrefix", "value": f"{prefix}/{route}"}}
            if method is not None:
                match["method"] = method
            rewrite = {"type": "ReplacePrefixMatch", "replacePrefixMatch": f"/{route}"}
            rules.append(
                {
                    "matches": [match],
                    "filters": [{"type": "URLRewrite", "urlRewrite": {"path": rewrite}}],
                    "backendRefs": [{"name": app, "port": port}],
                }
            )
    metadata = meta(app, namespace, **app_labels(app))
    metadata["annotations"] = {WAIT_FOR_ANNOTATION: ROUTE_ACCEPTED}
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": metadata,
        "spec": {"parentRefs": [parent], "hostnames": [spec.host], "rules": rules},
    }


def public_route(
    namespace: str,
    app: str,
    port: int,
    spec: PublicRoute,
    routes: tuple[str, ...],
    methods: tuple[str, ...] = (),
) -> Manifest:
    """The app's public route as the stack declares it. An Ingress cannot restrict methods (nginx
    would need a snippet), so an app routed by one must be read-only on the given paths."""
    if isinstance(spec, HttpRouteSpec):
        return http_route(namespace, app, port, spec, routes, methods)
    return ingress(namespace, app, port, spec, routes)


def disruption_budget(deployment_manifest: Manifest) -> Manifest | None:
    """At most one replica of a replicated Deployment evicted at a time (a node drain, an upgrade of
    the cluster); none for a single replica, which a budget would make undrainable."""
    spec = deployment_manifest["spec"]
    if spec["replicas"] < 2:
        return None
    metadata = deployment_manifest["metadata"]
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": meta(metadata["name"], metadata["namespace"], **metadata["labels"]),
        "spec": {"maxUnavailable": 1, "selector": spec["selector"]},
    }


def only_from(
    namespace: str,
    app: str,
    port: int,
    apps: list[str],
    route: PublicRoute | None = None,
) -> Manifest:
    """A NetworkPolicy: the app's pods accept connections on `port` only from the pods of `apps`
    in its namespace and from what forwards its public route (the ingress controller's or the
    Gateway's pods, or the addresses a cloud Gateway's proxies connect from)."""
    peers: list[Manifest] = [
        {
            "podSelector": {
                "matchExpressions": [{"key": "app.kubernetes.io/name", "operator": "In", "values": apps}]
            }
        }
    ]
    peers += [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": other}}}
        for other in (route.peer_namespaces if route is not None else [])
    ]
    peers += [{"ipBlock": {"cidr": cidr}} for cidr in (route.peer_cidrs if route is not None else [])]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": meta(app, namespace, **app_labels(app)),
        "spec": {
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": app}},
            "policyTypes": ["Ingress"],
            "ingress": [{"from": peers, "ports": [{"protocol": "TCP", "port": port}]}],
        },
    }


def service_account(namespace: str, name: str, gcp_service_account: str | None = None) -> Manifest:
    metadata = meta(name, namespace)
    if gcp_service_account:
        metadata["annotations"] = {"iam.gke.io/gcp-service-account": gcp_service_account}
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata}


_TYPED: dict[tuple[str, str], Callable[..., pulumi.CustomResource]] = {
    ("v1", "Namespace"): k8s.core.v1.Namespace,
    ("v1", "ConfigMap"): k8s.core.v1.ConfigMap,
    ("v1", "Service"): k8s.core.v1.Service,
    ("v1", "ServiceAccount"): k8s.core.v1.ServiceAccount,
    ("apps/v1", "Deployment"): k8s.apps.v1.Deployment,
    ("batch/v1", "Job"): k8s.batch.v1.Job,
    ("networking.k8s.io/v1", "Ingress"): k8s.networking.v1.Ingress,
    ("networking.k8s.io/v1", "NetworkPolicy"): k8s.networking.v1.NetworkPolicy,
    ("policy/v1", "PodDisruptionBudget"): k8s.policy.v1.PodDisruptionBudget,
}


def apply_manifest(manifest: Manifest, opts: pulumi.ResourceOptions) -> pulumi.CustomResource:
    """Declare one manifest; the resource's logical name is `<kind>-<name>` in lower case."""
    api_version, kind = manifest["apiVersion"], manifest["kind"]
    name = f"{kind.lower()}-{manifest['metadata']['name']}"
    kwargs: dict[str, Any] = {"metadata": manifest["metadata"]}
    for field in ("spec", "data"):
        if field in manifest:
            kwargs[field] = manifest[field]
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
