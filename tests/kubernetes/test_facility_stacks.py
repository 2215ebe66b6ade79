"""The facility stacks against a real API server: the engine and the Kubernetes provider preview
each stack on the local Kubernetes, with the CRDs of the Strimzi release the stack names. Every
object is dry-run by the API server (server-side apply), so the CRD schemas with their CEL rules,
the core API's validation, admission and the namespaces are the API server's, not ours."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi import automation as auto

from localfacility.kubernetes import LocalKubernetes
from localfacility.render import POLICY_PACK, cluster_stack
from localfacility.settings import FacilitySettings
from tests.kubernetes.prerequisites import install_strimzi_crds, prerequisites_namespaces, strimzi_release
from tests.unit.infra.test_program import FACILITY_STACKS


@pytest.fixture(scope="module", params=FACILITY_STACKS)
def stack_on_cluster(
    kubernetes: LocalKubernetes, settings: FacilitySettings, request: pytest.FixtureRequest
) -> tuple[str, auto.Stack]:
    stack: str = request.param
    install_strimzi_crds(kubernetes, strimzi_release(stack))
    prerequisites_namespaces(kubernetes, stack)
    work_dir = settings.run_dir.parent / "kubernetes-stacks" / stack
    return stack, cluster_stack(stack, work_dir, settings.bin_dir, kubernetes.kubeconfig)


def test_the_stack_previews_on_the_api_server_with_its_strimzi_release(
    stack_on_cluster: tuple[str, auto.Stack],
) -> None:
    stack, deployed = stack_on_cluster
    result = deployed.preview(color="never", policy_packs=[str(POLICY_PACK)], diff=True)
    summary: dict[str, Any] = result.change_summary
    assert list(summary) == ["create"], (stack, summary)  # a new stack: everything made, nothing else


REFUSE_DEPLOYMENTS = [
    {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": "refuse-deployments"},
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {
                "resourceRules": [
                    {
                        "apiGroups": ["apps"],
                        "apiVersions": ["v1"],
                        "operations": ["CREATE", "UPDATE"],
                        "resources": ["deployments"],
                    }
                ]
            },
            "validations": [{"expression": "false", "message": "refused by the test's admission policy"}],
        },
    },
    {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": "refuse-deployments"},
        "spec": {"policyName": "refuse-deployments", "validationActions": ["Deny"]},
    },
]


def test_a_preview_fails_when_the_api_server_refuses_an_object(
    kubernetes: LocalKubernetes, stack_on_cluster: tuple[str, auto.Stack]
) -> None:
    """The preview above can fail: it is the API server's answer (a dry run through admission),
    shown by an admission policy of the test's own that refuses every Deployment."""
    _, deployed = stack_on_cluster
    kubernetes.apply(*REFUSE_DEPLOYMENTS)
    try:
        with pytest.raises(auto.CommandError, match="refused by the test's admission policy"):
            deployed.preview(color="never")
    finally:
        kubernetes.kubectl(
            "delete", "validatingadmissionpolicybinding,validatingadmissionpolicy", "refuse-deployments"
        )
