"""The local Kubernetes is a real one: the pinned version answers, KWOK's nodes are Ready and run
what the scheduler places, admission (Pod Security) refuses what a facility's would, and every
server listens on loopback only."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest

from localfacility.install import KUBERNETES_BINARIES, kubernetes_version_stamp
from localfacility.kubernetes import KubectlError, LocalKubernetes
from tests.listening import listening


@pytest.fixture
def namespace(kubernetes: LocalKubernetes, request: pytest.FixtureRequest) -> Iterator[str]:
    """A namespace of the test's own, with the labels it is parametrised with; deleted after."""
    name = f"test-{uuid.uuid4().hex[:8]}"
    labels = getattr(request, "param", {})
    manifest = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}
    kubernetes.apply(manifest)
    yield name
    kubernetes.kubectl("delete", "namespace", name, "--wait=false")


def test_the_api_server_and_kubectl_are_the_pinned_release(kubernetes: LocalKubernetes) -> None:
    pinned = kubernetes_version_stamp().split("gitVersion=")[1].split()[0]
    versions = json.loads(kubernetes.kubectl("version", "-o", "json"))
    assert versions["serverVersion"]["gitVersion"] == pinned == versions["clientVersion"]["gitVersion"]
    assert pinned == "v1.33.3"  # the client libraries of the Kubernetes provider (v0.33.3)


def test_kwok_s_nodes_are_ready(kubernetes: LocalKubernetes) -> None:
    nodes = json.loads(kubernetes.kubectl("get", "nodes", "-o", "json"))["items"]
    ready = {
        node["metadata"]["name"]: next(
            c["status"] for c in node["status"]["conditions"] if c["type"] == "Ready"
        )
        for node in nodes
    }
    assert ready == dict.fromkeys(kubernetes.node_names(), "True")


def test_a_deployment_is_scheduled_one_a_node_and_becomes_available(
    kubernetes: LocalKubernetes, namespace: str
) -> None:
    """The scheduler honours a hard spread, the controller manager makes the pods, KWOK runs them."""
    labels = {"app": "spread"}
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "spread", "namespace": namespace},
        "spec": {
            "replicas": kubernetes.nodes,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [{"name": "app", "image": "registry.invalid/app:1"}],
                    "topologySpreadConstraints": [
                        {
                            "maxSkew": 1,
                            "topologyKey": "kubernetes.io/hostname",
                            "whenUnsatisfiable": "DoNotSchedule",
                            "labelSelector": {"matchLabels": labels},
                        }
                    ],
                },
            },
        },
    }
    kubernetes.apply(deployment)
    kubernetes.kubectl(
        "-n", namespace, "wait", "--for=condition=Available", "deployment/spread", "--timeout=60s"
    )
    pods = json.loads(kubernetes.kubectl("-n", namespace, "get", "pods", "-o", "json"))["items"]
    assert sorted(pod["spec"]["nodeName"] for pod in pods) == kubernetes.node_names()
    assert {pod["status"]["phase"] for pod in pods} == {"Running"}


@pytest.mark.parametrize("namespace", [{"pod-security.kubernetes.io/enforce": "restricted"}], indirect=True)
def test_pod_security_admission_refuses_a_pod_a_restricted_namespace_would(
    kubernetes: LocalKubernetes, namespace: str
) -> None:
    """The API server's own admission, as at a facility whose namespaces enforce "restricted"."""
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "unconfined", "namespace": namespace},
        "spec": {"containers": [{"name": "app", "image": "registry.invalid/app:1"}]},
    }
    with pytest.raises(KubectlError, match=r"violates PodSecurity \"restricted:latest\".*seccompProfile"):
        kubernetes.apply(pod)


def test_every_server_listens_on_loopback_only(kubernetes: LocalKubernetes) -> None:
    pids = {spec.name: kubernetes.supervisor.running_pid(spec) for spec in kubernetes.specs()}
    addresses = {name: listening(pid) for name, pid in pids.items() if pid is not None}
    assert set(addresses) == set(pids) == {*KUBERNETES_BINARIES} - {"kubectl"} | {"kwok"}
    assert {ip for found in addresses.values() for ip, _ in found} == {"127.0.0.1"}
    assert ("127.0.0.1", kubernetes.ports.apiserver) in addresses["kube-apiserver"]
