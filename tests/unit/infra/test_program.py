"""The resource graph of every real stack file, declared under Pulumi mocks."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import pytest

from infra.config import KafkaClusterSpec, SharedKafkaSpec
from infra.render import ProgramRun, Registered, plaintext_leaks, run_program
from infra.stackfile import load_stack, stack_names
from infra.tables import service_users

FACILITY_STACKS = [s for s in stack_names() if load_stack(s).facility.value != "local"]
MANAGED_STACKS = [s for s in FACILITY_STACKS if isinstance(load_stack(s).kafka, KafkaClusterSpec)]
SHARED_STACKS = [s for s in FACILITY_STACKS if isinstance(load_stack(s).kafka, SharedKafkaSpec)]
NAMESPACED_K8S = {
    "kubernetes:apps/v1:Deployment",
    "kubernetes:batch/v1:Job",
    "kubernetes:core/v1:Secret",
    "kubernetes:core/v1:Service",
    "kubernetes:core/v1:ServiceAccount",
    "kubernetes:networking.k8s.io/v1:Ingress",
}
Grant = tuple[str, str, str, str, str]  # principal, resource type, name, pattern, operation


@cache
def program(stack: str) -> ProgramRun:
    return run_program(stack)


def test_every_real_stack_is_covered() -> None:
    assert {"idf", "usdf", "local"} <= set(stack_names())
    assert set(FACILITY_STACKS) == {"idf", "usdf"}


def grants(run: ProgramRun) -> set[Grant]:
    """Every ACL the stack creates, from KafkaUser CRs at a facility or user ACL sets locally."""
    found: set[Grant] = set()
    for user in run.strimzi("KafkaUser"):
        principal = f"User:{user.inputs['metadata']['name']}"
        for acl in user.inputs["spec"].get("authorization", {}).get("acls", []):
            resource = acl["resource"]
            pattern = {"prefix": "Prefixed", "literal": "Literal"}[resource["patternType"]]
            for operation in acl["operations"]:
                found.add((principal, resource["type"].title(), resource["name"], pattern, operation))
    for acl_set in dynamic(run, "principal"):
        for acl in acl_set.inputs["acls"]:
            assert "permission" not in acl  # only ALLOW is declared
            found.add(
                (
                    acl_set.inputs["principal"],
                    acl["resourceType"],
                    acl["resourceName"],
                    acl["patternType"],
                    acl["operation"],
                )
            )
    return found


def dynamic(run: ProgramRun, key: str) -> list[Registered]:
    """The local stack's dynamic resources whose inputs hold `key` (each provider's own)."""
    return [r for r in run.of_type("pulumi-python:dynamic:Resource") if key in r.inputs]


def expected_broker_grants(stack: str) -> set[Grant]:
    """Written out from the issue: read the alert topics and the canary topic, own the groups
    prefixed by the username."""
    config = load_stack(stack)
    alert_topics = [t.name for t in config.topics if t.role.value in ("alerts", "canary")]
    expected: set[Grant] = set()
    for broker in ("alerce", "ampel", "antares", "babamul", "fink", "lasair", "pittgoogle"):
        user = f"{broker}-{config.facility.value}"
        for topic in alert_topics:
            for operation in ("Read", "Describe", "DescribeConfigs"):
                expected.add((f"User:{user}", "Topic", topic, "Literal", operation))
        expected.add((f"User:{user}", "Group", user, "Prefixed", "All"))
    return expected


DECLARING_BROKERS = [s for s in stack_names() if not (load_stack(s).facility_owned or None)]


@pytest.mark.parametrize("stack", DECLARING_BROKERS)
def test_broker_users_get_exactly_their_acls(stack: str) -> None:
    run = program(stack)
    broker_principals = {g[0] for g in expected_broker_grants(stack)}
    actual = {g for g in grants(run) if g[0] in broker_principals}
    assert actual == expected_broker_grants(stack)


@pytest.mark.parametrize("stack", stack_names())
def test_service_users_are_least_privilege(stack: str) -> None:
    run = program(stack)
    config = load_stack(stack)
    alert_topics = {t.name for t in config.topics if t.role.value == "alerts"}
    canary_topics = {t.name for t in config.topics if t.role.value == "canary"}
    by_user: dict[str, set[Grant]] = {}
    for grant in grants(run):
        by_user.setdefault(grant[0].removeprefix("User:"), set()).add(grant)
    names = service_users(config)
    owned = config.facility_owned
    producer = by_user.pop(names.producer, set())
    assert {(g[1], g[2], g[4]) for g in producer} == (
        set()  # the facility's other owner runs the producer: no user may write its topics here
        if owned and owned.producer
        else {("Topic", topic, op) for topic in alert_topics | canary_topics for op in ("Write", "Describe")}
    )
    ingester_name = names.archive_ingester
    ingester = by_user.pop(ingester_name)
    assert not any(g[4] in ("Write", "All") and g[2] in alert_topics for g in ingester)
    assert {g for g in ingester if g[1] == "Group"} == {
        (f"User:{ingester_name}", "Group", ingester_name, "Prefixed", op) for op in ("Read", "Describe")
    }
    registry = by_user.pop(names.schema_registry, set())
    assert all(g[2] in ("_schemas", names.schema_registry) for g in registry)
    for user, user_grants in by_user.items():  # the community brokers
        assert all(g[4] != "Write" for g in user_grants), user
    assert not any(g[1] == "Cluster" for g in grants(run))


@pytest.mark.parametrize("stack", FACILITY_STACKS)
def test_facilities_replicate_three_ways_with_two_in_sync(stack: str) -> None:
    run = program(stack)
    for kafka in run.strimzi("Kafka"):  # where the stack runs the cluster
        config = kafka.inputs["spec"]["kafka"]["config"]
        assert config["default.replication.factor"] == 3
        assert config["min.insync.replicas"] == 2
        assert int(config["message.max.bytes"]) >= 10 * 1024 * 1024
    topics = run.strimzi("KafkaTopic")
    declared = {t.name for t in load_stack(stack).declared_topics}
    assert {t.inputs["spec"]["topicName"] for t in topics} == declared
    for topic in topics:
        assert topic.inputs["spec"]["replicas"] == 3
        assert topic.inputs["spec"]["config"]["min.insync.replicas"] == "2"
    outputs = run.outputs["topics"]
    assert {name: (t["replicationFactor"], t["minInsyncReplicas"]) for name, t in outputs.items()} == {
        name: (3, 2) for name in outputs
    }
    alert_topics = [t for t in topics if t.inputs["spec"]["topicName"] in run.outputs["alertTopics"]]
    assert all(t.inputs["spec"]["partitions"] == 45 for t in alert_topics)
    assert all(t.inputs["spec"]["config"]["message.timestamp.type"] == "LogAppendTime" for t in alert_topics)
    assert all(outputs[name]["partitions"] == 45 for name in run.outputs["alertTopics"])


@pytest.mark.parametrize("stack", MANAGED_STACKS)
def test_facility_listeners_and_authorization(stack: str) -> None:
    (kafka,) = program(stack).strimzi("Kafka")
    spec = kafka.inputs["spec"]["kafka"]
    listeners = {listener["port"]: listener for listener in spec["listeners"]}
    assert listeners[9092]["authentication"]["type"] == "scram-sha-512"
    assert listeners[9093]["tls"] is True
    assert listeners[9093]["authentication"]["type"] == "tls"
    external = listeners[9094]
    assert external["type"] == "loadbalancer"
    assert external["authentication"]["type"] == "scram-sha-512"
    hosts = load_stack(stack).kafka.external.broker_hosts  # type: ignore[union-attr]
    assert [b["advertisedHost"] for b in external["configuration"]["brokers"]] == hosts
    assert spec["authorization"]["type"] == "simple"
    assert spec["authorization"]["superUsers"]


@pytest.mark.parametrize("stack", stack_names())
def test_no_plaintext_secret_in_any_resource_input(stack: str) -> None:
    run = program(stack)
    placeholders = set(run.placeholders.values())
    assert placeholders
    for resource in run.resources:
        assert plaintext_leaks(resource.wire, placeholders) == [], resource.urn
    # the secrets did reach the resources that need them, wrapped as secrets
    carried = {p for r in run.resources for p in placeholders if p in repr(r.wire)}
    assert carried, "no resource received a secret at all"


@pytest.mark.parametrize("stack", stack_names())
def test_passwords_are_secret_outputs_for_every_login_user(stack: str) -> None:
    run = program(stack)
    assert "passwords" in run.secret_outputs
    assert not run.secret_outputs - {"passwords"}
    users = run.outputs["users"]
    logins = set(run.outputs["passwords"]) | set(run.outputs["passwordRefs"])
    assert not set(run.outputs["passwords"]) & set(run.outputs["passwordRefs"])
    assert logins == {u for u, role in users.items() if role != "schema-registry"}
    assert run.outputs["alertTopics"] == [t.name for t in load_stack(stack).alert_topics]


@pytest.mark.parametrize("stack", FACILITY_STACKS)
def test_every_namespaced_object_has_a_namespace(stack: str) -> None:
    run = program(stack)
    namespaced = [r for r in run.resources if r.type in NAMESPACED_K8S or "kafka.strimzi.io" in r.type]
    assert {"KafkaUser", "Deployment", "Service"} <= {r.type.rsplit(":", 1)[1] for r in namespaced}
    for resource in namespaced:
        assert resource.inputs["metadata"].get("namespace"), resource.urn


@pytest.mark.parametrize("stack", stack_names())
def test_children_are_parented_to_typed_components(stack: str) -> None:
    run = program(stack)
    components = [r for r in run.resources if not r.custom and not r.type.startswith("kubernetes:helm")]
    assert components
    for component in components:
        assert re.fullmatch(r"alertdist:[a-z]+:[A-Z][A-Za-z]+", component.type), component.type
    for resource in run.resources:
        if resource.custom and not resource.type.startswith("pulumi:providers:"):
            assert resource.parent_type.startswith("alertdist:"), resource.urn


REGISTRY_STACKS = [s for s in FACILITY_STACKS if not (load_stack(s).facility_owned or None)]


@pytest.mark.parametrize("stack", REGISTRY_STACKS)
def test_registry_is_read_only_from_outside_and_synced_by_a_job(stack: str) -> None:
    run = program(stack)
    ingresses = {
        r.inputs["metadata"]["name"]: r for r in run.of_type("kubernetes:networking.k8s.io/v1:Ingress")
    }
    (path,) = ingresses["schema-registry"].inputs["spec"]["rules"][0]["http"]["paths"]
    assert path["path"].endswith("/((?:schemas)(?:/.*)?)$")
    (job,) = run.of_type("kubernetes:batch/v1:Job")
    assert job.inputs["metadata"]["name"].startswith("schema-sync")


def test_the_main_program_needs_no_helm_repository_or_cloud_provider() -> None:
    """What the engine cannot run here lives in the prerequisites program (tests/unit/infra/prerequisites)."""
    for stack in FACILITY_STACKS:
        types = {r.type for r in program(stack).resources}
        assert not {t for t in types if t.startswith(("gcp:", "aws:", "kubernetes:helm"))}, stack


def test_local_stack_manages_kafka_directly() -> None:
    run = program("local")
    assert not [r for r in run.resources if r.type.startswith(("kubernetes:", "kafka:"))]
    topics = {t.inputs["name"]: t.inputs for t in dynamic(run, "replicationFactor")}
    assert set(topics) == {t.name for t in load_stack("local").topics}
    assert all(topic["adminUser"] == "admin" for topic in topics.values())
    scram_users = {u.inputs["username"] for u in dynamic(run, "username") if "subject" not in u.inputs}
    assert scram_users == set(run.outputs["users"])
    (registration,) = dynamic(run, "expectedIds")
    assert registration.inputs["subject"] == "alert-packet"
    assert 1101 in registration.inputs["expectedIds"]
    buckets = {(b.inputs["kind"], b.inputs["name"]) for b in dynamic(run, "kind")}
    assert buckets == {("s3", "alert-archive"), ("gcs", "alert-archive")}


@pytest.mark.parametrize("stack", FACILITY_STACKS)
def test_the_cluster_pools_and_topics_outlive_a_destroy(stack: str) -> None:
    run = program(stack)
    kept = {r.type.rsplit(":", 1)[1] for r in run.resources if r.retain_on_delete}
    cluster = {"Kafka", "KafkaNodePool"} if stack in MANAGED_STACKS else set()
    assert kept == {"KafkaTopic"} | cluster
    assert all(r.retain_on_delete for r in run.strimzi("KafkaTopic"))
    protected = {r.type.rsplit(":", 1)[1] for r in run.resources if r.protect}
    assert protected == cluster  # `destroy` stops before the cluster: Strimzi would delete its brokers


@pytest.mark.parametrize("stack", MANAGED_STACKS)
def test_the_super_user_leaves_no_output(stack: str) -> None:
    run = program(stack)
    assert [
        u.inputs["metadata"]["name"]
        for u in run.strimzi("KafkaUser")
        if "admin" in u.inputs["metadata"]["name"]
    ]
    assert not [user for user in run.outputs["passwords"] if "admin" in user]
    assert not [user for user in run.outputs["users"] if "admin" in user]


@pytest.mark.parametrize("stack", SHARED_STACKS)
def test_on_a_shared_cluster_only_topics_users_and_acls_are_declared(stack: str) -> None:
    """The facility runs the Kafka cluster, its operator and its namespace; the stack adds its
    topics and users there, labelled for that cluster, and runs the registry and archive beside."""
    config = load_stack(stack)
    assert isinstance(config.kafka, SharedKafkaSpec)
    run = program(stack)
    kinds = {r.type.rsplit(":", 1)[1] for r in run.resources if r.type.startswith("kubernetes:")}
    assert not kinds & {"Kafka", "KafkaNodePool", "Namespace", "ConfigMap"}
    assert not [r for r in run.strimzi("KafkaUser") if "admin" in r.inputs["metadata"]["name"]]
    for resource in run.strimzi("KafkaTopic") + run.strimzi("KafkaUser"):
        metadata = resource.inputs["metadata"]
        assert metadata["namespace"] == config.namespace
        assert metadata["labels"]["strimzi.io/cluster"] == config.kafka.name
    users = {r.inputs["metadata"]["name"] for r in run.strimzi("KafkaUser")}
    assert users
    assert all(user.endswith(f"-{config.facility.value}") for user in users)
    assert run.outputs["bootstrapServers"] == f"{config.kafka.bootstrap_host}:9094"


@pytest.mark.parametrize("stack", [s for s in FACILITY_STACKS if load_stack(s).facility_owned])
def test_nothing_the_facility_s_other_owner_runs_is_declared(stack: str) -> None:
    """USDF: phalanx's sasquatch owns the alert topics, the brokers' users and the registry. The
    stack declares none of them (Argo CD would revert it, `destroy` would delete them), reads the
    brokers' passwords from the owner's Secret, and points the archive at the owner's registry."""
    config = load_stack(stack)
    owned = config.facility_owned
    assert owned is not None
    assert owned.registry is not None
    run = program(stack)
    topics = {t.inputs["spec"]["topicName"] for t in run.strimzi("KafkaTopic")}
    assert not topics & set(owned.topics)
    users = {u.inputs["metadata"]["name"] for u in run.strimzi("KafkaUser")}
    brokers = {user for user, role in run.outputs["users"].items() if role == "community-broker"}
    assert len(brokers) == len(config.brokers)
    assert not users & brokers
    assert not [r for r in run.resources if "schema-registry" in r.name or "schema-sync" in r.name]
    assert not [
        r for r in run.of_type("kubernetes:core/v1:Secret") if r.inputs["metadata"]["name"] == "sasquatch"
    ]
    # the owner's passwords stay in its Secret: the outputs say where, the state holds none
    assert not brokers & set(run.outputs["passwords"])
    assert run.outputs["passwordRefs"] == {
        broker: {"namespace": config.namespace, "secret": broker, "key": "password"} for broker in brokers
    }
    assert not [r for r in run.resources if r.type == "kubernetes:core/v1:Secret" and "sasquatch" in r.name]
    assert run.outputs["registryUrl"] == owned.registry.public_url
    ingester = next(
        d.inputs
        for d in run.of_type("kubernetes:apps/v1:Deployment")
        if d.inputs["metadata"]["name"] == "archive-ingester"
    )
    env = {e["name"]: e.get("value") for e in ingester["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["ALERTDIST_REGISTRY_URL"] == owned.registry.url


def admits(policy: dict[str, Any], labels: dict[str, str], namespace: str, port: int) -> bool:
    """Whether a NetworkPolicy's ingress rules admit a pod (its labels and namespace) on a port,
    as the API defines it: a peer's podSelector matches pods of the policy's own namespace, a
    namespaceSelector any pod of the namespaces it selects."""
    own = policy["metadata"]["namespace"]
    for rule in policy["spec"]["ingress"]:
        if port not in {p["port"] for p in rule["ports"]}:
            continue
        for peer in rule["from"]:
            if "podSelector" in peer and namespace == own:
                (expression,) = peer["podSelector"]["matchExpressions"]
                if labels.get(expression["key"]) in expression["values"]:
                    return True
            selected = peer.get("namespaceSelector", {}).get("matchLabels", {})
            if selected.get("kubernetes.io/metadata.name") == namespace:
                return True
    return False


@pytest.mark.parametrize("stack", REGISTRY_STACKS)
def test_only_the_registry_s_clients_reach_its_port(stack: str) -> None:
    """The registry takes writes without a login on 8081: every pod that uses it may reach it, a
    foreign pod of the namespace may not."""
    run = program(stack)
    config = load_stack(stack)
    (policy,) = [p.inputs for p in run.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")]
    assert policy["spec"]["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "schema-registry"}
    registry_url = "schema-registry." + config.namespace
    workloads = run.of_type("kubernetes:apps/v1:Deployment") + run.of_type("kubernetes:batch/v1:Job")
    clients = [
        w.inputs
        for w in workloads
        if registry_url in str(w.inputs) or w.inputs["metadata"]["name"] == "schema-registry"
    ]
    assert {c["metadata"]["name"] for c in clients} >= {
        "schema-registry",
        "archive-ingester",
        "archive-server",
    }
    for client in clients:
        labels = client["spec"]["template"]["metadata"]["labels"]
        assert admits(policy, labels, config.namespace, 8081), client["metadata"]["name"]
    assert not admits(policy, {"app.kubernetes.io/name": "somebody-else"}, config.namespace, 8081)
    assert config.registry.ingress is not None
    assert admits(policy, {}, config.registry.ingress.controller_namespace, 8081)
    assert not admits(policy, {"app.kubernetes.io/name": "archive-server"}, "elsewhere", 8081)


@pytest.mark.parametrize("stack", FACILITY_STACKS)
def test_replicated_workloads_lose_one_pod_at_a_time_to_a_drain(stack: str) -> None:
    run = program(stack)
    budgets = {
        b.inputs["metadata"]["name"]: b.inputs["spec"]
        for b in run.of_type("kubernetes:policy/v1:PodDisruptionBudget")
    }
    for deployment in run.of_type("kubernetes:apps/v1:Deployment"):
        spec, name = deployment.inputs["spec"], deployment.inputs["metadata"]["name"]
        if spec["replicas"] > 1:
            assert budgets.pop(name) == {"maxUnavailable": 1, "selector": spec["selector"]}
    assert budgets == {}  # none for a single replica: it could never be drained


def gateway_routes(stack: str) -> dict[str, Any]:
    """The stack's public routes moved from its Ingresses to HTTPRoutes on an in-cluster Gateway."""
    config = load_stack(stack)
    gateway = {"name": "public", "namespace": "gateways", "dataPlaneNamespace": "gateway-proxies"}
    overrides = {}
    for part, spec in (("registry", config.registry), ("archive", config.archive)):
        if spec is None or spec.ingress is None:
            continue
        values = spec.model_dump(by_alias=True, exclude_none=True, exclude={"ingress"})
        values["httpRoute"] = {
            "host": spec.ingress.host,
            "pathPrefix": spec.ingress.path_prefix,
            "gateway": gateway,
        }
        overrides[f"alertdist:{part}"] = values
    return overrides


def test_a_stack_on_a_gateway_declares_http_routes_instead_of_ingresses() -> None:
    run = run_program("idf", gateway_routes("idf"))
    assert not run.of_type("kubernetes:networking.k8s.io/v1:Ingress")
    routes = {
        r.inputs["metadata"]["name"]: r.inputs
        for r in run.of_type("kubernetes:gateway.networking.k8s.io/v1:HTTPRoute")
    }
    assert set(routes) == {"schema-registry", "archive-server"}
    assert routes["schema-registry"]["spec"]["rules"][0]["matches"][0]["method"] == "GET"
    assert run.outputs["registryUrl"] == "https://alert-stream-idf-api.lsst.cloud/schema-registry"
    assert run.outputs["archiveUrl"] == "https://alert-stream-idf-api.lsst.cloud/alert-archive"
    (policy,) = [p.inputs for p in run.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")]
    assert admits(policy, {}, "gateway-proxies", 8081)
    assert not admits(policy, {}, "ingress-nginx", 8081)
