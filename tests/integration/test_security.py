"""Security of the running local stack: no credential where it does not belong, every server on
loopback only, and an archive server that exposes nothing but its read-only API."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import httpx

from alertdist_common.schemas import latest_version
from localfacility import kafka
from localfacility.credentials import REGISTRY_ADMIN_USER, REGISTRY_READER_USER
from localfacility.deploy import LocalDeployment
from localfacility.facility import LocalFacility
from localfacility.ingress import ingress_spec, public_registry_url, write_ingress_config
from localfacility.ports import free_port
from localfacility.process import Supervisor
from localfacility.services import ArchiveServices
from localfacility.settings import PROJECT_ROOT
from tests.listening import listening

API = {
    ("/v1/health", "get"),
    ("/v1/alerts/{dia_source_id}", "get"),
    ("/v1/schemas/{schema_id}", "get"),
    ("/v1/bulk/alerts", "post"),  # reads only: many alerts by id in one request
    ("/v1/canaries/{dia_source_id}", "get"),  # the post-deploy suite's canaries, as alerts are read
    ("/v1/bulk/canaries", "post"),
}


def every_secret(facility: LocalFacility, local_stack: dict[str, Any]) -> dict[str, str]:
    """Each credential of the facility and the stack, by a name that does not reveal it."""
    found = {f"facility {name}": value.get_secret_value() for name, value in facility.credentials}
    found |= {f"kafka user {user}": password for user, password in local_stack["passwords"].items()}
    return found


def test_no_credential_in_logs_metrics_or_tracked_files(
    facility: LocalFacility, local_stack: dict[str, Any]
) -> None:
    run_dir = facility.settings.run_dir
    texts = {path: path.read_text(errors="replace") for path in run_dir.glob("logs/*.log")}
    texts |= {path: path.read_text() for path in run_dir.glob("*.prom")}
    texts[facility.settings.endpoints_file] = facility.settings.endpoints_file.read_text()
    engine = LocalDeployment(facility).engine
    state = [
        path for path in engine.state_dir.rglob("*") if path.is_file() and path != engine.passphrase_file
    ]
    assert any(path.suffix == ".json" for path in state)  # the engine's checkpoints are read
    texts |= {path: path.read_text(errors="replace") for path in state}
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=PROJECT_ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    for name in filter(None, tracked):
        path = PROJECT_ROOT / name.decode()
        if path.is_file():
            texts[path] = path.read_text(errors="replace")
    assert any(path.name.startswith("Pulumi.") for path in texts)  # the stack files are read
    assert len(texts) > 50
    leaks = [
        (what, str(path))
        for what, secret in every_secret(facility, local_stack).items()
        for path, text in texts.items()
        if secret in text
    ]
    assert leaks == []


def test_files_holding_credentials_are_private(facility: LocalFacility, local_stack: dict[str, Any]) -> None:
    deployment = LocalDeployment(facility)
    settings = facility.settings
    engine = deployment.engine
    private = [
        settings.secrets_file,
        deployment.outputs_file,
        engine.passphrase_file,
        engine.config_file("local"),
    ]
    # Kafka's node configs hold JAAS secrets; the registry's config holds none
    private += [kafka.config_file(settings, node) for node in kafka.kafka_nodes(settings)]
    private.append(settings.conf_dir / "ingress.conf")  # nginx adds the registry's read-only login
    modes = {str(path): oct(path.stat().st_mode & 0o777) for path in private}
    assert modes == dict.fromkeys(modes, "0o600")
    assert json.loads(deployment.outputs_file.read_text())["passwords"] == local_stack["passwords"]


def test_every_server_listens_on_loopback_only(facility: LocalFacility, local_stack: dict[str, Any]) -> None:
    archive = ArchiveServices(LocalDeployment(facility))
    pids = {spec.name: facility.supervisor.running_pid(spec) for spec in facility.specs() + archive.specs()}
    addresses = {name: listening(pid) for name, pid in pids.items() if pid is not None}
    assert set(addresses) == set(pids), f"not running: {set(pids) - set(addresses)}"
    outside = {name: found for name, found in addresses.items() if any(ip != "127.0.0.1" for ip, _ in found)}
    assert outside == {}
    settings = facility.settings
    assert addresses["archive-server"] == {
        ("127.0.0.1", settings.archive_server_port),
        ("127.0.0.1", settings.archive_metrics_port),
    }
    for node in kafka.kafka_nodes(settings):
        assert ("127.0.0.1", node.external_port) in addresses[node.name]
    assert addresses["ingress"] == {("127.0.0.1", settings.registry_public_port)}


def test_the_archive_server_exposes_only_its_read_only_api(local_stack: dict[str, Any]) -> None:
    url = local_stack["archiveUrl"]
    spec = httpx.get(f"{url}/openapi.json").json()
    assert {(path, method) for path, methods in spec["paths"].items() for method in methods} == API
    for path, allowed in API:
        for method in {"GET", "POST", "PUT", "PATCH", "DELETE"} - {allowed.upper()}:
            assert httpx.request(method, url + path.replace("{", "1").replace("}", "")).status_code == 405
    for path in ("/metrics", "/admin", "/v1", "/v1/alerts", "/.env", "/v1/alerts/1/../../../etc/passwd"):
        assert httpx.get(url + path).status_code == 404, path


def test_the_registry_routes_the_facility_ingress_exposes_are_read_only(
    facility: LocalFacility, local_stack: dict[str, Any]
) -> None:
    """The facilities expose only `/schemas/...` (REGISTRY_PUBLIC_ROUTES). This proves that the
    local stand-in (AxonOps) does nothing but GET there, even with its write login. At a facility
    the same rule is Confluent's (its SchemasResource has only GET endpoints, cited in
    infra/components/registry/manifests.py), which nothing here runs; an HTTPRoute also matches
    GET itself (test_nginx_routing_the_registry_s_http_route_passes_reads_only)."""
    url = facility.endpoints().schema_registry_url  # the registry itself, behind the public routes
    logins = [
        httpx.BasicAuth(
            REGISTRY_READER_USER, facility.credentials.registry_reader_password.get_secret_value()
        ),
        httpx.BasicAuth(REGISTRY_ADMIN_USER, facility.credentials.registry_admin_password.get_secret_value()),
    ]
    schema = f"/schemas/ids/{latest_version().schema_id}"
    for path in ("/schemas", "/schemas/types", schema, f"{schema}/versions"):
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            for auth in logins:
                status = httpx.request(method, url + path, auth=auth, json={}).status_code
                assert status in (404, 405), (method, path, status)


def test_brokers_read_the_registry_anonymously_and_cannot_write(
    facility: LocalFacility, local_stack: dict[str, Any]
) -> None:
    """The public registry URL is nginx serving the facility Ingress's routes: reads need no login,
    as at idf and usdf; nothing else is routed, whatever the method or login."""
    public = local_stack["registryUrl"]
    assert public == facility.endpoints().schema_registry_public_url
    schema = f"/schemas/ids/{latest_version().schema_id}"
    assert httpx.get(public + schema).status_code == 200
    assert httpx.get(public + "/schemas/types").json()
    admin = httpx.BasicAuth(
        REGISTRY_ADMIN_USER, facility.credentials.registry_admin_password.get_secret_value()
    )
    for method, path in [
        ("GET", "/subjects"),
        ("POST", "/subjects/alert-packet/versions"),
        ("PUT", "/mode"),
        ("PUT", "/config"),
        ("DELETE", "/subjects/alert-packet"),
        ("POST", schema),
    ]:
        status = httpx.request(method, public + path, auth=admin, json={}).status_code
        assert status in (404, 405), (method, path, status)
    registry_direct = facility.endpoints().schema_registry_url
    assert httpx.get(registry_direct + schema).status_code == 401  # the registry itself asks for a login


def test_nginx_routing_the_registry_s_http_route_passes_reads_only(
    facility: LocalFacility, local_stack: dict[str, Any]
) -> None:
    """The same registry behind real nginx rendered from the HTTPRoute a Gateway-routed facility
    would declare: reads of /schemas pass, other methods, other paths and other cases do not."""
    settings = facility.settings.model_copy(
        update={
            "public_routes": "gateway",
            "registry_public_port": free_port(),
            "run_dir": facility.settings.run_dir / "gateway-route",  # holds the read login: not /tmp
        }
    )
    write_ingress_config(settings, facility.credentials)
    spec = ingress_spec(settings)
    supervisor = Supervisor(pid_dir=settings.pid_dir, log_dir=settings.log_dir)
    supervisor.start(spec)
    try:
        public = public_registry_url(settings)
        schema = f"/schemas/ids/{latest_version().schema_id}"
        assert httpx.get(public + schema).status_code == 200
        assert httpx.get(public + "/schemas").status_code == 200
        admin = httpx.BasicAuth(
            REGISTRY_ADMIN_USER, facility.credentials.registry_admin_password.get_secret_value()
        )
        for method, path in [
            ("POST", schema),
            ("DELETE", schema),
            ("GET", "/subjects"),
            ("POST", "/subjects/alert-packet/versions"),
            ("PUT", "/mode"),
            ("GET", "/schemasx"),
            ("GET", "/Schemas/types"),
        ]:
            status = httpx.request(method, public + path, auth=admin, json={}).status_code
            assert status == 404, (method, path, status)
    finally:
        assert supervisor.stop(spec)
        shutil.rmtree(settings.run_dir)
