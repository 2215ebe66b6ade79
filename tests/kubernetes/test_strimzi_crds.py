"""Strimzi's CRDs on a real API server: each stack's release installs, and the upgrade from the
release USDF runs (0.51.0) to 1.2.0 is refused in place until a storage migration is done (the API
server's own rule for a CRD's stored versions; docs/operators.md, Upgrading Strimzi)."""

from __future__ import annotations

import pytest

from localfacility.kubernetes import KubectlError, LocalKubernetes
from tests.kubernetes.prerequisites import install_strimzi_crds, strimzi_release
from tests.manifest_checks import require_crds
from tests.unit.infra.test_program import FACILITY_STACKS


@pytest.mark.parametrize("stack", FACILITY_STACKS)
def test_the_stack_s_strimzi_crds_install_and_serve_its_api_version(
    kubernetes: LocalKubernetes, stack: str
) -> None:
    install_strimzi_crds(kubernetes, strimzi_release(stack))
    served = kubernetes.kubectl("api-resources", "--api-group=kafka.strimzi.io", "-o", "name").split()
    assert {
        "kafkas.kafka.strimzi.io",
        "kafkanodepools.kafka.strimzi.io",
        "kafkausers.kafka.strimzi.io",
    } <= set(served)
    versions = kubernetes.kubectl("api-versions").split()
    assert "kafka.strimzi.io/v1" in versions


def test_the_crds_of_1_2_0_do_not_replace_those_of_0_51_0_in_place(kubernetes: LocalKubernetes) -> None:
    install_strimzi_crds(kubernetes, "0.51.0")
    with pytest.raises(
        KubectlError, match=r"v1beta2 was previously a storage version, and must remain in spec\.versions"
    ):
        kubernetes.kubectl("apply", "--server-side", "-f", str(require_crds("1.2.0")))
