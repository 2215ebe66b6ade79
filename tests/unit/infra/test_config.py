"""The typed stack config model: what it accepts, what it refuses, and the real stack files."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import ValidationError

from infra.components.archive.manifests import ArchivedTopics, archive_ingester, archive_server
from infra.config import COMMUNITY_BROKERS, Facility, Replication, StackConfig, TopicRole, pinned_image
from infra.naming import ClusterAddress
from infra.stackfile import as_pulumi_config, load_stack, project_values, read_config_values, stack_file


def facility_values(stack: str = "idf") -> dict[str, Any]:
    return copy.deepcopy(project_values(read_config_values(stack_file(stack))))


@pytest.mark.parametrize("stack", ["idf", "usdf", "local"])
def test_real_stack_files_validate(stack: str) -> None:
    config = load_stack(stack)
    assert config.facility is Facility(stack)
    downstream = ["poi", "snaps"] if stack == "usdf" else []  # phalanx's accounts at USDF
    assert config.brokers == [*COMMUNITY_BROKERS, *downstream]
    assert [t.name for t in config.alert_topics] == ["alerts-simulated", "lsst-alerts-v11"]


def test_the_owner_s_parts_are_described_on_a_shared_cluster_only() -> None:
    values = facility_values("idf")
    values["facilityOwned"] = {"owner": "someone", "topics": ["lsst-alerts-v11"]}
    with pytest.raises(ValidationError, match="shared Kafka"):
        StackConfig.model_validate(values)


def test_the_local_stack_declares_no_monitors() -> None:
    values = facility_values("local")
    values["monitoring"] = {"rules": True}
    with pytest.raises(ValidationError, match="no Kubernetes"):
        StackConfig.model_validate(values)


def test_an_owned_topic_must_be_described() -> None:
    values = facility_values("usdf")
    values["facilityOwned"]["topics"].append("lsst-alerts-v12")
    with pytest.raises(ValidationError, match="lsst-alerts-v12"):
        StackConfig.model_validate(values)


def test_a_stack_on_the_facility_s_registry_declares_none_of_its_own() -> None:
    values = facility_values("usdf")
    values["registry"] = {"replicas": 2}
    with pytest.raises(ValidationError, match="declare no `registry`"):
        StackConfig.model_validate(values)


def test_facilities_replicate_and_the_light_local_facility_does_not() -> None:
    assert load_stack("idf").replication == Replication(factor=3, min_insync=2)
    assert load_stack("local").replication == Replication(factor=1, min_insync=1)


def test_a_three_node_local_facility_replicates_as_the_facilities() -> None:
    values = facility_values("local")
    values["local"]["kafkaNodes"] = 3
    assert StackConfig.model_validate(values).replication == load_stack("idf").replication


def test_the_local_facility_runs_one_or_three_nodes() -> None:
    values = facility_values("local")
    values["local"]["kafkaNodes"] = 2
    with pytest.raises(ValidationError, match="kafkaNodes"):
        StackConfig.model_validate(values)


def test_producer_is_off_in_production() -> None:
    assert not load_stack("idf").producer.enabled
    assert not load_stack("usdf").producer.enabled


def test_archive_bucket_kind_is_discriminated() -> None:
    assert load_stack("idf").archive.bucket.kind == "gcs"  # type: ignore[union-attr]
    assert load_stack("usdf").archive.bucket.kind == "s3"  # type: ignore[union-attr]


def test_unknown_keys_are_refused() -> None:
    values = facility_values()
    values["kafka"]["replicaz"] = 3
    with pytest.raises(ValidationError, match="replicaz"):
        StackConfig.model_validate(values)


def test_isr_must_stay_below_replication() -> None:
    values = facility_values()
    values["kafka"]["minInsyncReplicas"] = 3
    with pytest.raises(ValidationError, match="minInsyncReplicas"):
        StackConfig.model_validate(values)


def test_one_advertised_host_per_broker() -> None:
    values = facility_values()
    values["kafka"]["external"]["brokerHosts"].pop()
    with pytest.raises(ValidationError, match="one host per broker"):
        StackConfig.model_validate(values)


@pytest.mark.parametrize("part", ["kafka", "archive", "servicesImage"])
def test_facility_needs_kafka_archive_and_services_image(part: str) -> None:
    values = facility_values()
    del values[part]
    with pytest.raises(ValidationError, match="needs `kafka`, `archive` and `servicesImage`"):
        StackConfig.model_validate(values)


@pytest.mark.parametrize(
    "image",
    [
        "confluentinc/cp-schema-registry:7.9.2",
        "ghcr.io/lsst-dm/alertdist-services:0.1.0@sha256:" + "0" * 64,
        "ghcr.io/lsst-dm/alertdist-services@sha256:" + "f" * 64,
        "registry.example.org:5000/team/image:2026.11",
    ],
)
def test_images_pinned_to_one_build_are_accepted(image: str) -> None:
    assert pinned_image(image) == image


@pytest.mark.parametrize(
    ("image", "why"),
    [
        ("ghcr.io/lsst-dm/alertdist-services:latest", "latest"),
        ("ghcr.io/lsst-dm/alertdist-services", "no tag"),
        ("registry.example.org:5000/team/image", "no tag"),
        ("ghcr.io/lsst-dm/alertdist-services:0.1.0@sha256:abc", "64 hex"),
    ],
)
def test_floating_images_are_refused(image: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        pinned_image(image)
    values = facility_values() | {"servicesImage": image}
    with pytest.raises(ValidationError, match=why):
        StackConfig.model_validate(values)


def test_local_needs_endpoints() -> None:
    values = project_values(read_config_values(stack_file("local")))
    del values["local"]
    with pytest.raises(ValidationError, match="local"):
        StackConfig.model_validate(values)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda v: v["topics"].append(dict(v["topics"][0])), "topic names must be unique"),
        (lambda v: v.__setitem__("brokers", ["fink", "fink"]), "brokers must be unique"),
        (lambda v: v.__setitem__("brokers", ["Fink!"]), "pattern"),
        (lambda v: v.__setitem__("topics", [t for t in v["topics"] if t["role"] != "alerts"]), "alert topic"),
        (lambda v: v["topics"][0].__setitem__("name", "bad topic"), "pattern"),
        (
            lambda v: v["topics"].extend(
                {"name": n, "role": "canary", "partitions": 1, "retentionBytes": 1} for n in ("c1", "c2")
            ),
            "at most one canary topic",
        ),
        (lambda v: v["kafka"]["brokerStorage"].__setitem__("size", "lots"), "pattern"),
    ],
)
def test_bad_values_are_refused_with_a_reason(mutate: Any, message: str) -> None:
    values = facility_values()
    mutate(values)
    with pytest.raises(ValidationError, match=message):
        StackConfig.model_validate(values)


def test_adding_a_broker_is_a_config_change() -> None:
    values = facility_values()
    values["brokers"] = [*COMMUNITY_BROKERS, "newbroker"]
    assert StackConfig.model_validate(values).brokers[-1] == "newbroker"


def test_topic_defaults_follow_the_alert_stream() -> None:
    topic = load_stack("local").topic_for(TopicRole.ALERTS)
    assert topic is not None
    assert topic.timestamp_type == "LogAppendTime"
    assert topic.max_message_bytes >= 10 * 1024 * 1024


def test_engine_style_config_is_json_for_objects() -> None:
    rendered = as_pulumi_config({"facility": "idf", "producer": {"enabled": False}})
    assert rendered == {"facility": "idf", "producer": '{"enabled": false}'}


@pytest.mark.parametrize(
    ("chart", "api", "accepted"),
    [
        ("1.2.0", "kafka.strimzi.io/v1", True),
        ("1.2.0", "kafka.strimzi.io/v1beta2", False),
        ("0.49.1", "kafka.strimzi.io/v1beta2", True),
        ("0.45.0", "kafka.strimzi.io/v1", False),
    ],
)
def test_strimzi_api_version_is_a_config_choice_the_chart_must_serve(
    chart: str, api: str, accepted: bool
) -> None:
    values = facility_values()
    values["kafka"]["strimzi"].update(chartVersion=chart, apiVersion=api)
    if accepted:
        assert StackConfig.model_validate(values).kafka.strimzi.api_version == api  # type: ignore[union-attr]
    else:
        with pytest.raises(ValidationError, match=r"serves? only"):
            StackConfig.model_validate(values)


def test_every_documented_config_set_names_the_programs_namespace() -> None:
    """The project is `alert-distribution` but the program reads `alertdist:` keys: a key set
    without the namespace lands where nothing reads it (found when the engine first ran)."""
    root = stack_file("idf").parent.parent
    documents = [
        *sorted((root / "stacks").glob("Pulumi.*.yaml")),
        root / "docs" / "migration.md",
        root / "README.md",
    ]
    commands = [
        line for path in documents for line in path.read_text().splitlines() if "pulumi config set" in line
    ]
    keys = []
    for line in commands:
        command = line.split("pulumi config set", 1)[1].split("`", 1)[0]  # prose names it in backticks
        words = [w.strip("'\"") for w in command.split() if not w.startswith("-")]
        named = [w for w in words if w not in ("usdf", "idf", "local") and not w.startswith(("<", "$", "("))]
        if named:
            keys.append((named[0], line))
    assert len(keys) >= 5
    assert [line for key, line in keys if not key.startswith("alertdist:")] == []


def test_a_schema_bucket_apart_reaches_both_archive_services_only_beside_an_existing_bucket() -> None:
    values = facility_values("usdf")
    values["archive"]["schemaBucket"] = "rubin-alert-schemas"
    config = StackConfig.model_validate(values)
    address = ClusterAddress("alerts", "sasquatch")
    topics = ArchivedTopics(["lsst-alerts-v11"], None)
    for manifest in (
        archive_ingester(config.archive, "image@sha256:" + "0" * 64, address, topics),
        archive_server(config.archive, "image@sha256:" + "0" * 64, address),
    ):
        env = manifest["spec"]["template"]["spec"]["containers"][0]["env"]
        assert {"name": "ALERTDIST_ARCHIVE_SCHEMA_BUCKET", "value": "rubin-alert-schemas"} in env
    values = facility_values("idf")  # the stack makes its one bucket: no schema bucket beside it
    values["archive"]["schemaBucket"] = "schemas"
    with pytest.raises(ValidationError, match="schemaBucket needs an existing archive bucket"):
        StackConfig.model_validate(values)


GATEWAY = {"name": "public", "namespace": "gateways", "dataPlaneNamespace": "gateways"}


def an_http_route(host: str = "alert-stream-idf-api.lsst.cloud") -> dict[str, Any]:
    return {"host": host, "pathPrefix": "/schema-registry", "gateway": dict(GATEWAY)}


@pytest.mark.parametrize("kind", ["ingress", "httpRoute"])
def test_a_public_route_may_not_share_a_kafka_load_balancer_host(kind: str) -> None:
    values = facility_values("idf")
    kafka_host = values["kafka"]["external"]["brokerHosts"][1]
    route = an_http_route(kafka_host) if kind == "httpRoute" else {**values["registry"]["ingress"]}
    route["host"] = kafka_host
    values["registry"].pop("ingress")
    values["registry"][kind] = route
    with pytest.raises(ValidationError, match=f"public route host\\(s\\) {kafka_host} are also Kafka"):
        StackConfig.model_validate(values)
    values["registry"][kind]["host"] = "elsewhere.lsst.cloud"
    assert StackConfig.model_validate(values).registry.public_route is not None


def test_a_service_has_one_public_route() -> None:
    values = facility_values("idf")
    values["archive"]["httpRoute"] = an_http_route()
    with pytest.raises(ValidationError, match="`ingress` or `httpRoute`, not both"):
        StackConfig.model_validate(values)


def test_a_gateway_names_where_its_traffic_comes_from() -> None:
    values = facility_values("idf")
    values["registry"]["httpRoute"] = {**an_http_route(), "gateway": {"name": "g", "namespace": "n"}}
    values["registry"].pop("ingress")
    with pytest.raises(ValidationError, match="dataPlaneNamespace or sourceRanges"):
        StackConfig.model_validate(values)


@pytest.mark.parametrize(("https", "scheme"), [(True, "https"), (False, "http")])
def test_an_http_route_s_url_has_its_gateway_listener_s_scheme(https: bool, scheme: str) -> None:
    values = facility_values("idf")
    values["registry"].pop("ingress")
    values["registry"]["httpRoute"] = {**an_http_route(), "gateway": {**GATEWAY, "https": https}}
    route = StackConfig.model_validate(values).registry.public_route
    assert route is not None
    assert route.url == f"{scheme}://alert-stream-idf-api.lsst.cloud/schema-registry"
