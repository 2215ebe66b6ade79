"""What infra/prerequisites puts in a facility's cluster before the main program runs, put into
the local Kubernetes: the Strimzi release's CRDs and the stack's namespaces."""

from __future__ import annotations

import json

from infra.config import KafkaClusterSpec
from infra.prerequisites.components import RESTRICTED_NAMESPACE, strimzi_values
from infra.stackfile import load_stack
from localfacility.install import install_strimzi
from localfacility.kubernetes import LocalKubernetes
from localfacility.settings import FacilitySettings
from localfacility.strimzi import KafkaAccess, StrimziOperators
from tests.manifest_checks import monitoring_crd_files, require_crds


def strimzi_release(stack: str) -> str:
    kafka = load_stack(stack).kafka
    assert kafka is not None
    assert kafka.strimzi is not None
    return kafka.strimzi.chart_version


RELEASE_LABEL = "alertdist.test/strimzi-release"  # which release's CRDs the test installed
MONITORING_LABEL = "alertdist.test/prometheus-operator"  # the Prometheus operator's CRDs the test installed


def install_strimzi_crds(kubernetes: LocalKubernetes, release: str) -> None:
    """Strimzi's CRDs of `release`: kept when they are installed already; otherwise installed in a
    cluster started afresh, since a cluster runs one release's CRDs and deleting them in place was
    seen taking minutes under load (one CI run: 228 s; they cascade to every object of their kinds)."""
    crds = json.loads(kubernetes.kubectl("get", "crd", "-l", "app=strimzi", "-o", "json"))["items"]
    releases = {crd["metadata"].get("labels", {}).get(RELEASE_LABEL) for crd in crds}
    if releases == {release}:
        return
    if crds:
        kubernetes.down(purge=True)
        kubernetes.up()
    kubernetes.kubectl("apply", "--server-side", "-f", str(require_crds(release)))
    kubernetes.wait_established("app=strimzi")
    kubernetes.kubectl("label", "crd", "-l", "app=strimzi", f"{RELEASE_LABEL}={release}", "--overwrite")


def prerequisites_namespaces(kubernetes: LocalKubernetes, stack: str) -> None:
    """The stack's namespace, restricted as infra/prerequisites makes it, and Strimzi's."""
    config = load_stack(stack)
    assert config.kafka is not None
    assert config.kafka.strimzi is not None
    namespaces = [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": config.namespace, "labels": RESTRICTED_NAMESPACE},
        },
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": config.kafka.strimzi.namespace}},
    ]
    kubernetes.apply(*namespaces, server_side=True)


def strimzi_operators(
    kubernetes: LocalKubernetes, settings: FacilitySettings, stack: str, kafka: KafkaAccess
) -> StrimziOperators:
    """Strimzi's operators of the stack's release, built if need be, with its CRDs in the cluster
    and, where the stack runs its Kafka, its namespaces as its prerequisites make them, configured
    as the prerequisites install them (the watched namespace, the chart's extraEnvs): not started."""
    config = load_stack(stack)
    assert config.kafka is not None
    release = strimzi_release(stack)
    install_strimzi(settings, release)
    install_strimzi_crds(kubernetes, release)
    if isinstance(config.kafka, KafkaClusterSpec):  # a shared cluster's namespaces are its owner's
        prerequisites_namespaces(kubernetes, stack)
    extra_envs: list[dict[str, str]] = strimzi_values(config.namespace)["extraEnvs"]  # type: ignore[assignment]
    chart_env = {item["name"]: item["value"] for item in extra_envs}
    return StrimziOperators(
        kubernetes,
        release,
        config.namespace,
        config.kafka.name,
        kafka,
        operator_namespace=config.kafka.strimzi.namespace,
        cluster_env=chart_env,
    )


def prometheus_operator_crds(kubernetes: LocalKubernetes) -> None:
    """The Prometheus operator's PodMonitor and PrometheusRule CRDs, as a facility that runs the
    operator serves them (USDF: phalanx renders PodMonitors there, SPV:222-224), at the release the
    stacks' monitors are written for."""
    for path in monitoring_crd_files():
        kubernetes.kubectl("apply", "--server-side", "-f", str(path))
    names = ("crd/podmonitors.monitoring.coreos.com", "crd/prometheusrules.monitoring.coreos.com")
    kubernetes.kubectl("label", *names, f"{MONITORING_LABEL}=true", "--overwrite")
    kubernetes.wait_established(MONITORING_LABEL)
