"""What Strimzi's cluster operator refuses in a Kafka CR that its CRD schema allows: the rules are
transcribed from its source at the versions the stacks name (0.51.0 at USDF, 1.2.0 at IDF), each
with the file it comes from, and every Kafka the facility stacks declare is checked against them."""

from __future__ import annotations

from typing import Any

import pytest

from infra.config import KafkaClusterSpec
from infra.prerequisites.components import strimzi_values
from infra.stackfile import load_stack
from tests.unit.infra.test_program import MANAGED_STACKS, program

# cluster-operator/src/main/java/io/strimzi/operator/cluster/model/ListenersValidator.java at 0.51.0
# and 1.2.0: validateBootstrapHost, validateBrokerHost (host only on these types),
# validateBootstrapLoadBalancerIp, validateBrokerLoadBalancerIp (loadBalancerIP only on loadbalancer),
# validateBootstrapLabelsAndAnnotations, validateBrokerLabelsAndAnnotations.
HOST_TYPES = {"route", "ingress", "tlsroute"}
ANNOTATION_TYPES = {"loadbalancer", "nodeport", "tlsroute", "route", "ingress", "cluster-ip"}


def listener_errors(listener: dict[str, Any]) -> list[str]:
    """The messages Strimzi's ListenersValidator gives for one listener (the host, address and
    annotation rules), in its own words."""
    kind, name = listener["type"], listener["name"]
    configuration = listener.get("configuration", {})
    errors = []
    places = [("bootstrap", configuration.get("bootstrap", {}))]
    places += [("brokers[]", broker) for broker in configuration.get("brokers", [])]
    for place, entry in places:
        if kind not in HOST_TYPES and "host" in entry:
            errors.append(
                f"listener {name} cannot configure {place}.host because it is not TLSRoute, Route, "
                "or Ingress based listener"
            )
        if kind != "loadbalancer" and "loadBalancerIP" in entry:
            errors.append(
                f"listener {name} cannot configure {place}.loadBalancerIP because it is not "
                "LoadBalancer based listener"
            )
        if kind not in ANNOTATION_TYPES and "annotations" in entry:
            errors.append(f"listener {name} cannot configure {place}.annotations")
    return errors


def kafka_listeners(stack: str) -> list[dict[str, Any]]:
    (kafka,) = program(stack).strimzi("Kafka")
    listeners: list[dict[str, Any]] = kafka.inputs["spec"]["kafka"]["listeners"]
    return listeners


@pytest.mark.parametrize("stack", MANAGED_STACKS)
def test_strimzi_accepts_every_listener_of_the_stack(stack: str) -> None:
    for listener in kafka_listeners(stack):
        assert listener_errors(listener) == []


@pytest.mark.parametrize("stack", MANAGED_STACKS)
def test_each_broker_advertises_its_public_name(stack: str) -> None:
    (external,) = [listener for listener in kafka_listeners(stack) if listener["type"] == "loadbalancer"]
    brokers = external["configuration"]["brokers"]
    hosts = [broker["advertisedHost"] for broker in brokers]
    cluster = load_stack(stack).kafka
    assert isinstance(cluster, KafkaClusterSpec)
    assert hosts == cluster.external.broker_hosts
    assert [broker["broker"] for broker in brokers] == list(range(len(hosts)))


def test_the_rules_refuse_a_host_on_a_loadbalancer() -> None:
    """The blocker the first review found: `host` on a LoadBalancer listener."""
    listener = {
        "name": "external",
        "type": "loadbalancer",
        "configuration": {
            "bootstrap": {"host": "kafka.example.org"},
            "brokers": [{"broker": 0, "host": "b0"}],
        },
    }
    assert listener_errors(listener) == [
        "listener external cannot configure bootstrap.host because it is not TLSRoute, Route, or Ingress "
        "based listener",
        "listener external cannot configure brokers[].host because it is not TLSRoute, Route, or Ingress "
        "based listener",
    ]


def security_contexts(value: Any, path: str = "") -> list[str]:
    """Where a manifest sets a securityContext, as dotted paths."""
    if isinstance(value, dict):
        found = [f"{path}.{key}" for key in value if key == "securityContext"]
        return found + [
            hit for key, child in value.items() for hit in security_contexts(child, f"{path}.{key}")
        ]
    if isinstance(value, list):
        return [
            hit for index, child in enumerate(value) for hit in security_contexts(child, f"{path}[{index}]")
        ]
    return []


@pytest.mark.parametrize("stack", MANAGED_STACKS)
def test_strimzi_s_restricted_provider_makes_every_container_it_runs(stack: str) -> None:
    """The namespace enforces Pod Security "restricted" (infra/prerequisites). Strimzi's
    RestrictedPodSecurityProvider gives each container it makes (kafka, kafka-init, the entity
    operator's, the exporter's) allowPrivilegeEscalation false, runAsNonRoot, seccomp
    RuntimeDefault and drop ALL, but only where the resource's template sets no securityContext:
    one set there replaces the provider's whole, not merged (1.2.0 and 0.51.0,
    api/src/main/java/io/strimzi/plugin/security/profiles/impl/RestrictedPodSecurityProvider.java:24-40)."""
    run = program(stack)
    strimzi = [r.inputs for r in run.resources if r.type.startswith("kubernetes:kafka.strimzi.io/")]
    assert strimzi
    assert [hit for manifest in strimzi for hit in security_contexts(manifest)] == []
    extra_envs = strimzi_values("namespace")["extraEnvs"]
    assert {"name": "STRIMZI_POD_SECURITY_PROVIDER_CLASS", "value": "restricted"} in extra_envs
