"""The IDF -> USDF migration, played between two local facilities.

The source is the session's local facility with its archive on the GCS emulator (as at idf); the
target is a second facility beside it, on its own ports, data and credentials, with its archive on
the S3 server (as at usdf). The runbook's steps run in order: deploy the target (topics, users,
ACLs, schemas), compare what changes for the brokers, copy the archive (interrupted once, resumed,
run again), and run the post-deploy suite on the target.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from confluent_kafka.admin import (
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    ResourcePatternType,
    ResourceType,
)

from alertdist_common.layout import ALERTS_PREFIX
from alertdist_common.schemas import available_versions, schema_id
from localfacility import ingress, objectstore, registry
from localfacility.credentials import REGISTRY_ADMIN_USER
from localfacility.deploy import LocalDeployment
from localfacility.facility import LocalFacility
from localfacility.ports import free_port
from localfacility.services import ArchiveServices
from localfacility.settings import PROJECT_ROOT, FacilitySettings
from services.common.storage import ObjectStore, alert_key

from .archives import separate_archive_on
from .kafka_helpers import admin
from .test_archive import expected_object, produce
from .test_postdeploy_faults import failed_checks

ALERTS = 300


def target_settings() -> FacilitySettings:
    """A second facility: its own run folder and free ports, the first one's installed servers."""
    default = FacilitySettings()
    ports = {name: free_port() for name in FacilitySettings.model_fields if name.endswith("_port")}
    return FacilitySettings(
        run_dir=default.run_dir.parent / "migration-target",
        install_dir=default.install_dir or default.run_dir,
        kafka_heap="512m",
        **ports,
    )


@pytest.fixture(scope="module")
def source(facility: LocalFacility, local_stack: dict[str, Any]) -> Iterator[ArchiveServices]:
    """The source facility's archive on GCS, holding the alerts of one visit."""
    with separate_archive_on(facility, local_stack["alertTopics"], "gcs", "idf") as archive:
        archive.up()
        yield archive


@pytest.fixture(scope="module")
def target() -> Iterator[ArchiveServices]:
    """The target facility, deployed, with its archive on S3; purged afterwards."""
    facility = LocalFacility(target_settings())
    facility.down(purge=True)
    facility.up()
    deployment = LocalDeployment(facility)
    deployment.up()
    archive = ArchiveServices(deployment, backend="s3")
    archive.up()
    yield archive
    archive.down()
    facility.down(purge=True)


@dataclass(frozen=True)
class Migration:
    first_id: int
    interrupted_at: int
    runs: list[dict[str, Any]]
    source_keys: set[str]


def command(name: str) -> str:
    """One of the project's installed commands, as an operator runs it."""
    return str(Path(sys.executable).parent / name)


def archive_keys(store: ObjectStore) -> set[str]:
    """Every object of both layouts: the flat one written before, and v2."""
    return {info.key for prefix in ("v1/", "v2/") for info in store.objects(prefix)}


def api_path(key: str) -> str:
    """The archive server's route for an object of either layout."""
    kind = "schemas" if "/schemas/" in key else "alerts"
    return f"/v1/{kind}/{key.rsplit('/', 1)[1].split('.')[0]}"


def copy_command(
    source: ArchiveServices, target: ArchiveServices, report: Path
) -> tuple[list[str], dict[str, str]]:
    """The archive copy with the target's S3 credentials."""
    settings = source.deployment.facility.settings
    argv = [
        command("alertdist-archive-copy"),
        "--source",
        f"gcs://{source.bucket}",
        "--source-endpoint",
        objectstore.gcs_url(settings),
        "--target",
        f"s3://{target.bucket}",
        "--target-endpoint",
        target.store_env()["ALERTDIST_S3_ENDPOINT"],
        "--report",
        str(report),
    ]
    s3_env = {k: v for k, v in target.store_env().items() if k.startswith("AWS_")}
    return argv, {**os.environ, **s3_env}


@pytest.fixture(scope="module")
def migration(
    local_stack: dict[str, Any],
    source: ArchiveServices,
    target: ArchiveServices,
    tmp_path_factory: pytest.TempPathFactory,
) -> Migration:
    """A visit archived at the source, then the archive copied: killed part-way, resumed, run again."""
    first_id = produce(local_stack, ALERTS)
    wanted = {alert_key(first_id + i) for i in range(ALERTS)}
    listing = source.store()
    deadline = time.monotonic() + 120
    while not wanted <= {info.key for info in listing.objects(ALERTS_PREFIX)}:
        assert time.monotonic() < deadline, "the source archive never held the whole visit"
        time.sleep(0.5)

    reports = tmp_path_factory.mktemp("copy")
    store = target.store()
    argv, env = copy_command(source, target, reports / "interrupted.json")
    interrupted = subprocess.Popen(
        [*argv, "--workers", "1"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    copied = 0
    while interrupted.poll() is None and copied < 60:
        copied = len(archive_keys(store))
        time.sleep(0.05)
    os.kill(interrupted.pid, signal.SIGKILL)
    interrupted.wait(timeout=30)
    interrupted_at = len(archive_keys(store))

    runs = []
    for name in ("resumed", "again"):
        argv, env = copy_command(source, target, reports / f"{name}.json")
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        runs.append(json.loads((reports / f"{name}.json").read_text()))
    source_keys = archive_keys(listing)
    return Migration(first_id, interrupted_at, runs, source_keys)


def test_brokers_are_told_what_changes(local_stack: dict[str, Any], target: ArchiveServices) -> None:
    source_outputs = LocalDeployment(LocalFacility(FacilitySettings())).outputs_file
    target_outputs = target.deployment.outputs_file
    shown = subprocess.run(
        [command("alertdist-stack-diff"), "--outputs", str(source_outputs), str(target_outputs)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    new = json.loads(target_outputs.read_text())
    assert f'bootstrap servers: "{local_stack["bootstrapServers"]}" -> "{new["bootstrapServers"]}"' in shown
    assert f'registry URL: "{local_stack["registryUrl"]}" -> "{new["registryUrl"]}"' in shown
    assert 'lasair password: "[secret]" -> "[new secret]"' in shown
    assert not any(password in shown for password in new["passwords"].values())


def test_the_target_registry_serves_every_schema_at_its_id(
    local_stack: dict[str, Any], target: ArchiveServices
) -> None:
    target_outputs = json.loads(target.deployment.outputs_file.read_text())
    ids = [schema_id(v.major, v.minor) for v in available_versions()]
    for schema in ids:
        served = [
            httpx.get(f"{outputs['registryUrl']}/schemas/ids/{schema}", timeout=10)  # as brokers read
            for outputs in (local_stack, target_outputs)
        ]
        assert [r.status_code for r in served] == [200, 200]
        # the same schema; a registry filled by older code may hold it with its keys in another order
        before, after = ({**r.json(), "schema": json.loads(r.json()["schema"])} for r in served)
        assert before == after
    assert ingress.public_registry_url(target.deployment.facility.settings) == target_outputs["registryUrl"]


def test_the_archive_copy_resumes_verifies_and_is_idempotent(migration: Migration) -> None:
    resumed, again = migration.runs
    total = len(migration.source_keys)
    assert 0 < migration.interrupted_at < total, "the first run was not interrupted part-way"
    assert resumed["source_objects"] == total
    assert resumed["already_present"] >= migration.interrupted_at
    assert resumed["already_present"] + resumed["copied"] == total
    assert (resumed["verified"], resumed["failed"], resumed["not_verified"]) == (total, {}, [])
    assert (again["copied"], again["already_present"], again["verified"]) == (0, total, total)


def test_every_alert_and_schema_arrived_intact(
    migration: Migration, source: ArchiveServices, target: ArchiveServices
) -> None:
    store = target.store()
    assert archive_keys(store) == migration.source_keys
    for dia_source_id in range(migration.first_id, migration.first_id + ALERTS):
        assert store.get(alert_key(dia_source_id)) == expected_object(dia_source_id), dia_source_id
    with httpx.Client(timeout=10) as http:
        for key in sorted(migration.source_keys):
            path = api_path(key)
            before = http.get(source.archive_url() + path, headers={"Accept-Encoding": "identity"})
            after = http.get(target.archive_url() + path, headers={"Accept-Encoding": "identity"})
            assert (before.status_code, after.status_code) == (200, 200), key
            assert before.content == after.content, key
            assert before.headers["content-type"] == after.headers["content-type"]


def test_the_post_deploy_suite_passes_on_the_target(
    migration: Migration, target: ArchiveServices, tmp_path: Path
) -> None:
    assert failed_checks(target.deployment.outputs_file, tmp_path) == set()


def test_the_brokers_kits_pass_the_connection_test_on_the_target(
    migration: Migration, target: ArchiveServices
) -> None:
    """The hand-over step: a kit per broker from the target's outputs, each broker's connection
    test passing against the target from that kit alone. The kits hold passwords: they are
    written in the target's run folder, never in /tmp, and removed afterwards."""
    outputs = target.deployment.outputs_file
    # Alerts flow at the target, as prompt processing streams them at USDF: the post-deploy suite's
    # canaries do not, they go to the canary topic.
    produce(json.loads(outputs.read_text()), 20)
    kits = target.deployment.facility.settings.run_dir / "kits"
    written = subprocess.run(
        [command("alertdist-broker-kit"), "--stack-outputs", str(outputs), "--all", "--out", str(kits)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    passwords = json.loads(outputs.read_text())["passwords"]
    assert not any(password in written for password in passwords.values())
    for kit in sorted(kits.iterdir()):
        done = subprocess.run(
            [command("alertdist-connection-test"), "--kit", str(kit)],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert target.archive_url() in done.stdout
    shutil.rmtree(kits)


def test_destroy_removes_what_the_deploy_made(target: ArchiveServices) -> None:
    """Last in this module: `pulumi destroy` of the target's stack (its archive stopped first)."""
    target.down()
    deployment = target.deployment
    passwords = deployment.passwords()
    config = deployment.config
    report = deployment.destroy()
    assert report.operations.get("delete", 0) >= len(config.topics) + len(passwords), report
    facility = deployment.facility
    client = admin(facility)
    left = set(client.list_topics(timeout=30).topics)
    assert not left & {topic.name for topic in config.topics}
    everything = AclBindingFilter(
        ResourceType.ANY, None, ResourcePatternType.ANY, None, None, AclOperation.ANY, AclPermissionType.ANY
    )
    acls = client.describe_acls(everything).result(timeout=30)
    assert not [acl for acl in acls if acl.principal.removeprefix("User:") in passwords]
    login = (REGISTRY_ADMIN_USER, facility.credentials.registry_admin_password.get_secret_value())
    with httpx.Client(base_url=registry.registry_url(facility.settings), auth=login, timeout=15) as http:
        assert http.get("/subjects/alert-packet/versions").status_code == 404
    assert not deployment.outputs_file.exists()
