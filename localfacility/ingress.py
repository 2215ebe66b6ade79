"""The registry's public address, as at a facility: real nginx serving the path the facility
Ingress declares (infra.components.kubernetes.ingress_path, the registry's public routes and
rewrite target), the way ingress-nginx renders an Ingress into nginx's config.

Brokers read it anonymously, as through the facilities' ingress. The registry behind it asks
every client for a login (AxonOps has no anonymous mode), so nginx adds the facility's read-only
login to what it forwards; writes go to the registry itself, with the admin login."""

from __future__ import annotations

import base64
import os
import shutil
from pathlib import Path

import httpx

from infra.components.kubernetes import INGRESS_ANNOTATIONS, ingress_path
from infra.components.registry.manifests import REGISTRY_PUBLIC_ROUTES
from infra.config import IngressSpec
from localfacility.credentials import REGISTRY_READER_USER, FacilityCredentials
from localfacility.process import ServiceSpec
from localfacility.registry import registry_url
from localfacility.settings import FacilitySettings

REGISTRY_PREFIX = "/schema-registry"  # the facility stacks' registry pathPrefix
NGINX = "/usr/sbin/nginx"


def public_registry_url(settings: FacilitySettings) -> str:
    return f"http://{settings.host}:{settings.registry_public_port}{REGISTRY_PREFIX}"


def registry_location(settings: FacilitySettings) -> tuple[str, str]:
    """The regex location and rewrite target of the facility's registry Ingress."""
    spec = IngressSpec(host=settings.host, path_prefix=REGISTRY_PREFIX)
    return ingress_path(spec, REGISTRY_PUBLIC_ROUTES), INGRESS_ANNOTATIONS[
        "nginx.ingress.kubernetes.io/rewrite-target"
    ]


def write_ingress_config(settings: FacilitySettings, creds: FacilityCredentials) -> Path:
    """nginx.conf for the registry's public routes (mode 0600: it holds the read-only login)."""
    path, target = registry_location(settings)
    reader = f"{REGISTRY_READER_USER}:{creds.registry_reader_password.get_secret_value()}"
    token = base64.b64encode(reader.encode()).decode()
    temp = settings.data_dir / "ingress"
    temp.mkdir(parents=True, exist_ok=True)
    config = f"""# Written by localfacility.ingress; ingress-nginx renders a use-regex Ingress the same way.
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
        location ~* "^{path}" {{
            rewrite "(?i){path}" {target} break;
            proxy_buffering off;
            proxy_set_header Authorization "Basic {token}";
            proxy_pass {registry_url(settings)};
        }}
        location / {{
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
