"""The registry's public address, as at a facility: real nginx rendered from the very route
manifest the facility stacks declare (infra.components.kubernetes.public_route), either an Ingress,
the way ingress-nginx renders one into nginx's config, or an HTTPRoute, with Gateway API's matching
(element-wise path prefix, exact method, ReplacePrefixMatch rewrite).

Brokers read it anonymously, as through the facilities' ingress. The registry behind it asks
every client for a login (AxonOps has no anonymous mode), so nginx adds the facility's read-only
login to what it forwards; writes go to the registry itself, with the admin login."""

from __future__ import annotations

import base64
import os
import shutil
from pathlib import Path
from typing import Any

import httpx

from infra.components.kubernetes import public_route
from infra.components.registry.manifests import REGISTRY_PUBLIC_METHODS, REGISTRY_PUBLIC_ROUTES
from infra.config import GatewayRefSpec, HttpRouteSpec, IngressSpec, PublicRoute
from infra.naming import REGISTRY_APP, REGISTRY_PORT
from localfacility.credentials import REGISTRY_READER_USER, FacilityCredentials
from localfacility.process import ServiceSpec
from localfacility.registry import registry_url
from localfacility.settings import FacilitySettings

REGISTRY_PREFIX = "/schema-registry"  # the facility stacks' registry pathPrefix
LOCAL_HOSTNAME = "localhost"
NGINX = "/usr/sbin/nginx"


def public_registry_url(settings: FacilitySettings) -> str:
    return f"http://{settings.host}:{settings.registry_public_port}{REGISTRY_PREFIX}"


def registry_route_spec(settings: FacilitySettings) -> PublicRoute:
    """The registry's public route, of the kind the local facility plays (`public_routes`); its
    host is a name, as a facility's is (nginx listens on settings.host whatever it is)."""
    if settings.public_routes == "gateway":
        gateway = GatewayRefSpec(name="local", namespace="local", https=False, data_plane_namespace="local")
        return HttpRouteSpec(host=LOCAL_HOSTNAME, path_prefix=REGISTRY_PREFIX, gateway=gateway)
    return IngressSpec(host=LOCAL_HOSTNAME, path_prefix=REGISTRY_PREFIX)


def registry_route(settings: FacilitySettings) -> dict[str, Any]:
    """The manifest a facility stack would declare for that route."""
    spec = registry_route_spec(settings)
    return public_route(
        "local", REGISTRY_APP, REGISTRY_PORT, spec, REGISTRY_PUBLIC_ROUTES, REGISTRY_PUBLIC_METHODS
    )


def nginx_locations(route: dict[str, Any], upstream: str, headers: str) -> str:
    """The nginx `location` blocks that route as the manifest's controller would; anything else
    falls to a 404."""
    if route["kind"] == "Ingress":
        return "".join(_ingress_locations(route, upstream, headers))
    return "".join(_http_route_locations(route, upstream, headers))


def _ingress_locations(route: dict[str, Any], upstream: str, headers: str) -> list[str]:
    """ingress-nginx turns a use-regex path into a case-insensitive regex location and the
    rewrite-target into `rewrite (?i)<path> <target> break` (ingress-nginx
    rootfs/etc/nginx/template/nginx.tmpl)."""
    target = route["metadata"]["annotations"]["nginx.ingress.kubernetes.io/rewrite-target"]
    return [
        f"""        location ~* "^{path["path"]}" {{
            rewrite "(?i){path["path"]}" {target} break;
{headers}            proxy_pass {upstream};
        }}
"""
        for rule in route["spec"]["rules"]
        for path in rule["http"]["paths"]
    ]


def _http_route_locations(route: dict[str, Any], upstream: str, headers: str) -> list[str]:
    """Gateway API's HTTPRoute (gateway-api v1.6.3, apis/v1/httproute_types.go): a PathPrefix
    matches the prefix itself or the prefix followed by `/` and more, case-sensitively; a method
    match is exact; a request no rule matches gets a 404; ReplacePrefixMatch swaps the matched
    prefix for the replacement."""
    methods: dict[tuple[str, str], set[str]] = {}
    for rule in route["spec"]["rules"]:
        ((match,), (rewrite,)) = rule["matches"], rule["filters"]
        key = (match["path"]["value"], rewrite["urlRewrite"]["path"]["replacePrefixMatch"])
        methods.setdefault(key, set()).add(match.get("method", ""))
    blocks = []
    for (prefix, replacement), allowed in methods.items():
        guard = (
            ""
            if "" in allowed
            else f'            if ($request_method !~ "^({"|".join(sorted(allowed))})$") {{ return 404; }}\n'
        )
        for location in (f"= {prefix}", f"^~ {prefix}/"):
            blocks.append(
                f"""        location {location} {{
{guard}            rewrite "^{prefix}(.*)$" {replacement}$1 break;
{headers}            proxy_pass {upstream};
        }}
"""
            )
    return blocks


def write_ingress_config(settings: FacilitySettings, creds: FacilityCredentials) -> Path:
    """nginx.conf for the registry's public routes (mode 0600: it holds the read-only login)."""
    reader = f"{REGISTRY_READER_USER}:{creds.registry_reader_password.get_secret_value()}"
    token = base64.b64encode(reader.encode()).decode()
    headers = f"""            proxy_buffering off;
            proxy_set_header Authorization "Basic {token}";
"""
    locations = nginx_locations(registry_route(settings), registry_url(settings), headers)
    temp = settings.data_dir / "ingress"
    temp.mkdir(parents=True, exist_ok=True)
    config = f"""# Written by localfacility.ingress from a facility {settings.public_routes} route manifest.
# One process, in the foreground: nginx keeps its command line (a master process rewrites its own,
# and the supervisor stops only a pid whose command line is the one it started).
daemon off;
master_process off;
pid {settings.conf_dir / "ingress.pid"};
error_log stderr warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    server {{
        listen {settings.host}:{settings.registry_public_port};
{locations}        location / {{
            return 404;
        }}
    }}
}}
"""
    conf = settings.conf_dir / "ingress.conf"
    conf.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(config)
    return conf


def nginx_binary() -> str:
    found = shutil.which("nginx") or (NGINX if Path(NGINX).exists() else None)
    if found is None:
        raise FileNotFoundError("nginx is not installed (apt-get install nginx-light)")
    return found


def ingress_spec(settings: FacilitySettings) -> ServiceSpec:
    def ready() -> bool:
        response = httpx.get(f"{public_registry_url(settings)}/schemas/types", timeout=2)
        return response.status_code == 200

    conf = settings.conf_dir / "ingress.conf"
    return ServiceSpec(
        name="ingress",
        argv=[nginx_binary(), "-c", str(conf), "-p", str(settings.data_dir / "ingress"), "-e", "stderr"],
        ready=ready,
        start_timeout=30,
    )
