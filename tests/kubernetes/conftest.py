"""Tests against the local Kubernetes (control plane + KWOK), started once per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from localfacility.install import install_engine, install_kubernetes, install_kwok
from localfacility.kubernetes import LocalKubernetes
from localfacility.settings import FacilitySettings
from localfacility.strimzi import KafkaAccess
from tests.kubernetes.facility import operators_own_kafka


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
    with operators_own_kafka(settings.run_dir.parent / "strimzi-kafka") as access:
        yield access
