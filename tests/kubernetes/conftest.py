"""Tests against the local Kubernetes (control plane + KWOK), started once per session."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from pydantic import SecretStr

from localfacility import kafka
from localfacility.credentials import KAFKA_ADMIN_USER, FacilityCredentials
from localfacility.install import install_engine, install_kubernetes, install_kwok, install_maven_tool
from localfacility.kubernetes import LocalKubernetes
from localfacility.ports import free_port_block
from localfacility.process import Supervisor
from localfacility.settings import FacilitySettings
from localfacility.strimzi import KafkaAccess


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/kubernetes" in str(item.path):
            item.add_marker(pytest.mark.kubernetes)


@pytest.fixture(scope="session")
def settings() -> FacilitySettings:
    return FacilitySettings()


@pytest.fixture(scope="session")
def kubernetes(settings: FacilitySettings) -> Iterator[LocalKubernetes]:
    """The running local Kubernetes; reused when it already runs, else started and stopped here
    (its state purged: each session starts from an empty cluster). A test that needs another
    Strimzi release's CRDs restarts it empty (tests/kubernetes/prerequisites.py)."""
    install_kubernetes(settings)
    install_kwok(settings)
    install_engine(settings, kubernetes_provider=True)
    cluster = LocalKubernetes(settings)
    already_up = cluster.is_up() if cluster.kubeconfig.exists() else False
    if not already_up:
        cluster.down(purge=True)
        cluster.up()
    yield cluster
    if not already_up:
        cluster.down(purge=True)


@pytest.fixture(scope="module")
def operators_kafka(settings: FacilitySettings) -> Iterator[KafkaAccess]:
    """Three KRaft nodes of Strimzi's user and topic operators' own, empty for each module (the
    user operator deletes every principal it does not own but the super users, so it never runs
    against the local facility's Kafka)."""
    base = free_port_block(12)
    own = FacilitySettings(
        run_dir=settings.run_dir.parent / "strimzi-kafka",
        install_dir=settings.install_dir or settings.run_dir,
        kafka_nodes=3,
        kafka_heap="384m",
        kafka_internal_port=base,
        kafka_controller_port=base + 1,
        kafka_external_port=base + 2,
        kafka_external_tls_port=0,
        kafka_port_step=4,
    )
    shutil.rmtree(own.run_dir, ignore_errors=True)
    install_maven_tool(own, "kafka")
    credentials = FacilityCredentials.load_or_create(own.secrets_file)
    kafka.write_config(own, credentials)
    kafka.format_storage(own, credentials)
    supervisor = Supervisor(pid_dir=own.pid_dir, log_dir=own.log_dir)
    nodes = kafka.node_specs(own, credentials)
    try:
        for node in nodes:
            supervisor.launch(node)
        for node in nodes:
            supervisor.start(node)
        yield KafkaAccess(
            ports=tuple(node.external_port for node in kafka.kafka_nodes(own)),
            username=KAFKA_ADMIN_USER,
            password=SecretStr(credentials.kafka_admin_password.get_secret_value()),
        )
    finally:  # all at once: the last of three KRaft controllers cannot shut down alone
        with ThreadPoolExecutor(len(nodes)) as stopping:
            list(stopping.map(supervisor.stop, nodes))
