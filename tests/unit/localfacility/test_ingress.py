"""The local registry's public routes are rendered for real nginx from the facility's own route
manifest: an Ingress as ingress-nginx renders it, or an HTTPRoute as a Gateway routes it."""

from __future__ import annotations

import re
import stat
from pathlib import Path

from localfacility.credentials import FacilityCredentials
from localfacility.ingress import REGISTRY_PREFIX, registry_route, write_ingress_config
from localfacility.settings import FacilitySettings


def config(tmp_path: Path, kind: str) -> tuple[FacilitySettings, str]:
    settings = FacilitySettings(run_dir=tmp_path, public_routes=kind)
    creds = FacilityCredentials.load_or_create(tmp_path / "secrets.json")
    return settings, write_ingress_config(settings, creds).read_text()


def test_nginx_serves_the_path_and_rewrite_the_facility_ingress_declares(tmp_path: Path) -> None:
    settings, conf = config(tmp_path, "ingress")
    facility = registry_route(settings)
    assert facility["kind"] == "Ingress"
    (path,) = facility["spec"]["rules"][0]["http"]["paths"]
    target = facility["metadata"]["annotations"]["nginx.ingress.kubernetes.io/rewrite-target"]
    assert f'location ~* "^{path["path"]}"' in conf
    assert f'rewrite "(?i){path["path"]}" {target} break;' in conf
    assert re.search(r"location / \{\s*return 404;", conf)
    assert f"listen {settings.host}:{settings.registry_public_port};" in conf


def test_nginx_serves_the_prefix_method_and_rewrite_the_facility_http_route_declares(tmp_path: Path) -> None:
    settings, conf = config(tmp_path, "gateway")
    (rule,) = registry_route(settings)["spec"]["rules"]
    prefix = rule["matches"][0]["path"]["value"]
    assert prefix == f"{REGISTRY_PREFIX}/schemas"
    for location in (f"location = {prefix} {{", f"location ^~ {prefix}/ {{"):
        block = conf[conf.index(location) :].split("\n        }\n")[0]
        assert 'if ($request_method !~ "^(GET)$") { return 404; }' in block
        assert f'rewrite "^{prefix}(.*)$" /schemas$1 break;' in block
    assert "~*" not in conf  # Gateway API matches paths case-sensitively


def test_the_config_holding_the_read_login_is_private(tmp_path: Path) -> None:
    settings = FacilitySettings(run_dir=tmp_path)
    creds = FacilityCredentials.load_or_create(tmp_path / "secrets.json")
    path = write_ingress_config(settings, creds)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
