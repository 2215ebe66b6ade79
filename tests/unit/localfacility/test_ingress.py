"""The local registry's public routes are the facility Ingress's, rendered for real nginx."""

from __future__ import annotations

import re
import stat
from pathlib import Path

from infra.components.kubernetes import ingress
from infra.components.registry.manifests import REGISTRY_PUBLIC_ROUTES
from infra.config import IngressSpec
from localfacility.credentials import FacilityCredentials
from localfacility.ingress import REGISTRY_PREFIX, write_ingress_config
from localfacility.settings import FacilitySettings


def test_nginx_serves_the_path_and_rewrite_the_facility_ingress_declares(tmp_path: Path) -> None:
    settings = FacilitySettings(run_dir=tmp_path)
    creds = FacilityCredentials.load_or_create(tmp_path / "secrets.json")
    conf = write_ingress_config(settings, creds).read_text()
    facility = ingress(
        "ns",
        "schema-registry",
        8081,
        IngressSpec(host="h", pathPrefix=REGISTRY_PREFIX),
        REGISTRY_PUBLIC_ROUTES,
    )
    (path,) = facility["spec"]["rules"][0]["http"]["paths"]
    target = facility["metadata"]["annotations"]["nginx.ingress.kubernetes.io/rewrite-target"]
    assert f'location ~* "^{path["path"]}"' in conf
    assert f'rewrite "(?i){path["path"]}" {target} break;' in conf
    assert re.search(r"location / \{\s*return 404;", conf)
    assert f"listen {settings.host}:{settings.registry_public_port};" in conf


def test_the_config_holding_the_read_login_is_private(tmp_path: Path) -> None:
    settings = FacilitySettings(run_dir=tmp_path)
    creds = FacilityCredentials.load_or_create(tmp_path / "secrets.json")
    path = write_ingress_config(settings, creds)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
