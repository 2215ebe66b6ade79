"""The facility stacks' own workloads, as the engine renders them, applied to the local Kubernetes
in a namespace that enforces Pod Security "restricted" (as infra/prerequisites makes it): the API
server admits every pod the controllers make from them, and each Deployment becomes Available and
each Job completes (KWOK plays the kubelet)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.stackfile import load_stack
from localfacility.kubernetes import LocalKubernetes
from tests.kubernetes.prerequisites import prerequisites_namespaces
from tests.manifest_checks import is_gateway, is_monitoring, is_strimzi
from tests.rendered import rendered
from tests.unit.infra.test_program import FACILITY_STACKS


def workloads(stack: str) -> list[dict[str, Any]]:
    """The stack's objects but Strimzi's, the Gateway API's and the Prometheus operator's (their CRDs
    are tested apart, and the real deploys apply them)."""
    return [o for o in rendered(stack) if not (is_strimzi(o) or is_gateway(o) or is_monitoring(o))]


@pytest.mark.parametrize("stack", FACILITY_STACKS)
def test_every_pod_is_admitted_as_restricted_and_every_workload_becomes_ready(
    kubernetes: LocalKubernetes, stack: str
) -> None:
    objects = workloads(stack)
    namespace = load_stack(stack).namespace
    prerequisites_namespaces(kubernetes, stack)
    kubernetes.apply(*objects, server_side=True)
    waits = [("Available", "deployment", o) for o in objects if o["kind"] == "Deployment"]
    waits += [("Complete", "job", o) for o in objects if o["kind"] == "Job"]
    assert waits
    for condition, kind, manifest in waits:
        name = manifest["metadata"]["name"]
        if not kubernetes.succeeds(
            "-n", namespace, "wait", f"--for=condition={condition}", f"{kind}/{name}", "--timeout=90s"
        ):
            pytest.fail(f"{stack}: {kind} {name} not {condition}: {refusals(kubernetes, namespace, name)}")
        assert "violates PodSecurity" not in refusals(kubernetes, namespace, name)


def refusals(kubernetes: LocalKubernetes, namespace: str, workload: str) -> str:
    """Why the controllers could not create a workload's pods (a ServiceAccount applied in the same
    breath as its Deployment refuses the first tries; the controller tries again)."""
    events = kubernetes.kubectl(
        "-n", namespace, "get", "events", "--field-selector=reason=FailedCreate", "-o", "json"
    )
    return "\n".join(
        event["message"]
        for event in json.loads(events)["items"]
        if event["involvedObject"]["name"].startswith(workload)
    )


def test_a_pod_without_the_restricted_security_context_is_refused(kubernetes: LocalKubernetes) -> None:
    """The check above can fail: the archive server's Deployment stripped of its security
    contexts never becomes Available in the same namespace, and the API server says why."""
    stack = FACILITY_STACKS[0]
    namespace = load_stack(stack).namespace
    prerequisites_namespaces(kubernetes, stack)
    (server,) = (
        o for o in workloads(stack) if o["kind"] == "Deployment" and o["metadata"]["name"] == "archive-server"
    )
    pod = server["spec"]["template"]["spec"]
    unconfined = {
        **server,
        "metadata": {**server["metadata"], "name": "unconfined"},
        "spec": {
            **server["spec"],
            "template": {
                **server["spec"]["template"],
                "spec": {
                    **{key: value for key, value in pod.items() if key != "securityContext"},
                    "containers": [
                        {key: value for key, value in container.items() if key != "securityContext"}
                        for container in pod["containers"]
                    ],
                },
            },
        },
    }
    kubernetes.apply(unconfined)
    try:
        ready = kubernetes.succeeds(
            "-n", namespace, "wait", "--for=condition=Available", "deployment/unconfined", "--timeout=10s"
        )
        assert not ready
        assert 'violates PodSecurity "restricted:latest"' in refusals(kubernetes, namespace, "unconfined")
    finally:
        kubernetes.kubectl("-n", namespace, "delete", "deployment", "unconfined")
