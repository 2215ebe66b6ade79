"""The stacks' alerting rules and monitors as tables: what each watches, for whom, and from which
exporter's names. Prometheus's own engine runs them in tests/integration/test_alert_rules.py."""

from __future__ import annotations

import re

import pytest

from infra.alerting import alert_rules, broker_usernames, published_rules, rules_file_text
from infra.components.kafka.manifests import JMX_EXPORTER_CONFIG
from infra.components.monitoring.manifests import SERVICES_MONITOR, monitoring_manifests, pod_monitors
from infra.config import KafkaClusterSpec
from infra.stackfile import load_stack
from infra.tables import service_users
from tests.unit.infra.test_program import FACILITY_STACKS, program


def rules_by_name(stack: str) -> dict[str, str]:
    return {rule.name: rule.expr for group in alert_rules(load_stack(stack)).values() for rule in group}


@pytest.mark.parametrize("stack", FACILITY_STACKS)
def test_the_published_rules_files_are_what_the_stacks_declare(stack: str) -> None:
    """monitoring/<stack>.rules.yaml is written from the code: `uv run python -m infra.alerting`."""
    assert published_rules(stack).read_text() == rules_file_text(load_stack(stack))


@pytest.mark.parametrize("stack", FACILITY_STACKS)
def test_every_alert_says_how_bad_it_is_and_what_to_do(stack: str) -> None:
    rules = [rule for group in alert_rules(load_stack(stack)).values() for rule in group]
    assert len({rule.name for rule in rules}) == len(rules)
    for rule in rules:
        assert rule.severity in ("critical", "warning"), rule.name
        assert len(rule.runbook) > 40, rule.name
        assert rule.summary, rule.name


@pytest.mark.parametrize("stack", FACILITY_STACKS)
def test_broker_rules_watch_every_broker_s_groups_and_only_theirs(stack: str) -> None:
    config = load_stack(stack)
    lagging = rules_by_name(stack)["AlertBrokerLagging"]
    (alternatives,) = re.findall(r'consumergroup=~"\(([^)]*)\)\.\*"', lagging)
    assert sorted(alternatives.split("|")) == sorted(broker_usernames(config))
    assert service_users(config).archive_ingester not in alternatives.split("|")
    ingester = rules_by_name(stack)["ArchiveIngesterLagging"]
    assert f'consumergroup="{service_users(config).archive_ingester}"' in ingester


def test_the_kafka_s_and_registry_s_own_health_is_watched_where_the_stack_runs_them() -> None:
    """idf runs its Kafka and registry; at USDF both are phalanx's, whose own monitors watch them."""
    assert isinstance(load_stack("idf").kafka, KafkaClusterSpec)
    idf, usdf = set(rules_by_name("idf")), set(rules_by_name("usdf"))
    own = {
        "KafkaOfflinePartitions",
        "KafkaIsrShrinking",
        "KafkaDiskFillsBeforeRetention",
        "SchemaRegistryDown",
    }
    assert own <= idf
    assert not own & usdf
    assert idf - own == usdf


def _jmx_names(mbean: str) -> set[str]:
    """The names the brokers' JMX exporter gives an MBean attribute, by its rules (first match wins)."""
    for rule in JMX_EXPORTER_CONFIG["rules"]:
        match = re.fullmatch(rule["pattern"], mbean)
        if match:
            return {match.expand(re.sub(r"\$(\d)", r"\\\1", rule["name"])).lower()}
    return set()


def test_the_kafka_series_the_rules_read_are_the_ones_the_jmx_exporter_writes() -> None:
    expressions = " ".join(rules_by_name("idf").values())
    for mbean in (
        "kafka.controller<type=KafkaController, name=OfflinePartitionsCount><>Value",
        "kafka.server<type=ReplicaManager, name=IsrShrinksPerSec><>Count",
    ):
        (name,) = _jmx_names(mbean)
        assert name in expressions, (mbean, name)


@pytest.mark.parametrize("stack", FACILITY_STACKS)
def test_the_services_monitor_selects_every_pod_with_a_metrics_port(stack: str) -> None:
    (monitor, *_) = [m for m in pod_monitors(load_stack(stack)) if m["metadata"]["name"] == SERVICES_MONITOR]
    selector = monitor["spec"]["selector"]["matchLabels"]
    deployments = [r.inputs for r in program(stack).resources if r.type == "kubernetes:apps/v1:Deployment"]
    scraped = [
        d["metadata"]["name"]
        for d in deployments
        if any(
            port["name"] == "metrics"
            for container in d["spec"]["template"]["spec"]["containers"]
            for port in container.get("ports", [])
        )
    ]
    assert {"archive-ingester", "archive-server"} <= set(scraped)
    for deployment in deployments:
        if deployment["metadata"]["name"] in scraped:
            assert selector.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()


def test_monitors_and_rules_carry_the_labels_the_facility_s_prometheus_selects_by() -> None:
    config = load_stack("usdf")
    assert config.monitoring.labels  # phalanx's monitors carry prometheus.io/scrape or release
    manifests = monitoring_manifests(config)
    assert {m["kind"] for m in manifests} == {"PodMonitor", "PrometheusRule"}
    for manifest in manifests:
        assert config.monitoring.labels.items() <= manifest["metadata"]["labels"].items()
