"""What operators are alerted on: one table of Prometheus alerting rules for a stack, each with the
runbook line an operator on shift acts on. Rendered as a plain rules file (monitoring/) and, where
the facility runs the Prometheus operator, as a PrometheusRule (infra/components/monitoring). Pure.

The series they read, and who exports them at a facility:
- `kafka_consumergroup_*`, `kafka_topic_partition_*`: the Kafka exporter Strimzi runs beside the
  Kafka (`spec.kafkaExporter`: ours at idf; phalanx's at USDF, values-usdfprod-prompt-processing.yaml
  lines 281-282), one series per group, topic and partition;
- `kafka_server_*`, `kafka_controller_*`: the brokers' and controllers' JMX exporter, named by the
  rules in infra/components/kafka/manifests.py (JMX_EXPORTER_CONFIG);
- `alertdist_archive_*`: the archive ingester (services/archive_ingester/cli.py);
- `kube_deployment_*`, `kubelet_volume_stats_*`: kube-state-metrics and the kubelets, which a
  Prometheus operator's stack (kube-prometheus-stack) scrapes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from infra.config import Facility, KafkaClusterSpec, StackConfig
from infra.naming import INGESTER_APP, REGISTRY_APP, SERVER_APP
from infra.provisioning import LOADS
from infra.stackfile import load_stack, stack_names
from infra.tables import UserRole, kafka_users, service_users

DELIVERY_TARGET_SECONDS = 60  # DMTN-102: 98 % of a visit's alerts reach the brokers within 60 s
DELIVERY_QUANTILE = 0.98
# A consumer that keeps up drains each visit before the next (a visit every 37 s): more than one
# peak visit behind for minutes is a broker or an archive falling behind.
LAG_ALERTS = LOADS["peak"]
# Kafka's disks: alert topics free space only as retention deletes old segments; a disk that
# fills within a day will fill before it does.
DISK_FULL_HORIZON_SECONDS = 24 * 3600


@dataclass(frozen=True)
class AlertRule:
    name: str
    expr: str
    duration: str  # how long the condition holds before the alert fires (`for`)
    severity: str  # critical: alerts are not reaching brokers or may be lost; warning: they may soon
    summary: str
    runbook: str  # what the operator on shift does

    def as_rule(self) -> dict[str, Any]:
        return {
            "alert": self.name,
            "expr": self.expr,
            "for": self.duration,
            "labels": {"severity": self.severity},
            "annotations": {"summary": self.summary, "runbook": self.runbook},
        }


def _alternatives(names: list[str]) -> str:
    """A PromQL regex matching any of `names` exactly (dots escaped; names hold no other metacharacter)."""
    return "|".join(name.replace(".", "\\\\.") for name in sorted(names))


def _lag(selector: str) -> str:
    """Each partition's lag; the Kafka exporter reports -1 for a partition with no committed offset
    (kafka_exporter v1.9.0 kafka_exporter.go:665-666, the release Strimzi 1.2.0 runs): no lag, not less."""
    return f"clamp_min(kafka_consumergroup_lag{{{selector}}}, 0)"


def broker_usernames(config: StackConfig) -> list[str]:
    return [user.username for user in kafka_users(config) if user.role is UserRole.COMMUNITY_BROKER]


def alert_rules(config: StackConfig) -> dict[str, list[AlertRule]]:
    """The stack's alerting rules by group. Brokers' consumer groups are those prefixed with a
    broker's username (the only groups its ACLs let it use); the ingester's group is its username."""
    namespace = config.namespace
    topics = f'topic=~"{_alternatives([t.name for t in config.alert_topics])}"'
    brokers = f'consumergroup=~"({_alternatives(broker_usernames(config))}).*", {topics}'
    ingester = f'consumergroup="{service_users(config).archive_ingester}", {topics}'
    in_namespace = f'namespace="{namespace}"'
    groups = {
        "alert-distribution-brokers": [
            AlertRule(
                "AlertBrokerLagging",
                f"sum by (consumergroup) ({_lag(brokers)}) > {LAG_ALERTS}",
                "10m",
                "warning",
                "{{ $labels.consumergroup }} is {{ $value | humanize }} alerts behind (over one peak visit)",
                "Check Kafka's health first (other alerts); if only this broker lags, tell its team: it "
                "reads too slowly or with too few consumers.",
            ),
            AlertRule(
                "AlertBrokerLagGrowing",
                f"sum by (consumergroup) (delta(kafka_consumergroup_lag{{{brokers}}}[30m]))"
                f" > {LOADS['average']}",
                "30m",
                "warning",
                "{{ $labels.consumergroup }}'s lag grew by {{ $value | humanize }} alerts in 30 minutes",
                "The broker reads slower than alerts arrive: tell its team before its lag passes the "
                "topics' retention and it loses alerts.",
            ),
            AlertRule(
                "AlertBrokerStoppedReading",
                f"(sum by (consumergroup) (rate(kafka_consumergroup_current_offset{{{brokers}}}[15m])) == 0)"
                f" and (sum by (consumergroup) ({_lag(brokers)}) > 0)",
                "15m",
                "warning",
                "{{ $labels.consumergroup }} committed nothing for 15 minutes while alerts wait for it",
                "Run the broker's connection test with its credentials (docs/brokers.md); if it passes, "
                "the broker's consumer is down: tell its team.",
            ),
        ],
        "alert-distribution-archive": [
            AlertRule(
                "ArchiveIngesterLagging",
                f"sum({_lag(ingester)}) > {LAG_ALERTS}",
                "10m",
                "critical",
                "The archive ingester is {{ $value | humanize }} alerts behind",
                "Check the ingester's logs and the object store (retries in "
                "alertdist_archive_retries_total); scale `archive.ingesterReplicas` if it is busy.",
            ),
            AlertRule(
                "ArchiveDeadLetters",
                f"sum(increase(alertdist_archive_dead_letters_total{{{in_namespace}}}[15m])) > 0",
                "0m",
                "warning",
                "{{ $value | humanize }} messages went to the archive's dead-letter topic in 15 minutes",
                "Each dead letter's `reason` header says why (malformed alert, unknown schema id) and "
                "its source_topic/partition/offset where it came from: fix the producer or register "
                "the schema; the message itself is kept whole in the dead-letter topic.",
            ),
            AlertRule(
                "AlertDeliveryLatencyAboveTarget",
                f"histogram_quantile({DELIVERY_QUANTILE}, sum by (le) "
                f"(rate(alertdist_archive_alert_age_seconds_bucket{{{in_namespace}}}[5m])))"
                f" > {DELIVERY_TARGET_SECONDS}",
                "5m",
                "critical",
                f"{DELIVERY_QUANTILE:.0%} of alerts reach a consumer within {{{{ $value | humanize }}}} s, "
                f"above the {DELIVERY_TARGET_SECONDS} s target",
                "Alerts reach the archive ingester, a consumer in the brokers' place, late: check "
                "Kafka's health and request latency, then the ingester's lag.",
            ),
            _deployment_down(namespace, SERVER_APP, "The archive server", "critical"),
            _deployment_down(namespace, INGESTER_APP, "The archive ingester", "critical"),
        ],
        "alert-distribution-kafka": [
            AlertRule(
                "KafkaUnderReplicatedPartitions",
                f"sum by (topic) (kafka_topic_partition_under_replicated_partition{{{topics}}}) > 0",
                "10m",
                "warning",
                "{{ $value | humanize }} partitions of {{ $labels.topic }} are under-replicated",
                "A broker is down or slow: check the Kafka pods and their disks; a second failure "
                "would stop writes (min in-sync replicas).",
            ),
        ],
    }
    if not (config.facility_owned and config.facility_owned.registry):
        groups["alert-distribution-archive"].append(
            _deployment_down(namespace, REGISTRY_APP, "The schema registry", "critical")
        )
    if isinstance(config.kafka, KafkaClusterSpec):  # the Kafka is the stack's own: its health too
        groups["alert-distribution-kafka"] += _own_kafka_rules(config.kafka, in_namespace)
    return groups


def _deployment_down(namespace: str, app: str, what: str, severity: str) -> AlertRule:
    return AlertRule(
        "".join(word.capitalize() for word in app.split("-")) + "Down",
        f'kube_deployment_status_replicas_available{{namespace="{namespace}", deployment="{app}"}} < 1',
        "5m",
        severity,
        f"{what} has no ready replica",
        f"`kubectl -n {namespace} describe deployment {app}` and its pods' logs; its readiness "
        "probe fails or its pods cannot start.",
    )


def _own_kafka_rules(kafka: KafkaClusterSpec, in_namespace: str) -> list[AlertRule]:
    volumes = f'{in_namespace}, persistentvolumeclaim=~"data-([0-9]+-)?{kafka.name}-.+"'
    return [
        AlertRule(
            "KafkaOfflinePartitions",
            f"max(kafka_controller_kafkacontroller_offlinepartitionscount{{{in_namespace}}}) > 0",
            "1m",
            "critical",
            "{{ $value | humanize }} partitions have no leader: no alert can be written to or read from them",
            "Brokers are down: check the Kafka pods, their nodes and disks; Strimzi's cluster "
            "operator's log says what it is doing.",
        ),
        AlertRule(
            "KafkaIsrShrinking",
            f"sum(rate(kafka_server_replicamanager_isrshrinks_total{{{in_namespace}}}[5m])) > 0",
            "10m",
            "warning",
            "In-sync replica sets keep shrinking",
            "A broker falls behind its peers (network, disk or CPU): check the broker pods' resources.",
        ),
        AlertRule(
            "KafkaDiskFillsBeforeRetention",
            f"predict_linear(kubelet_volume_stats_available_bytes{{{volumes}}}[6h], "
            f"{DISK_FULL_HORIZON_SECONDS}) < 0",
            "1h",
            "critical",
            "{{ $labels.persistentvolumeclaim }} fills within a day, before retention frees it",
            "Grow the node pool's volume (`kafka.brokers.storage.size`) or shorten the topics' "
            "retention (`topics[].retentionBytes`) before the disk is full: a full disk stops the broker.",
        ),
    ]


def rules_document(config: StackConfig) -> dict[str, Any]:
    """The rules as Prometheus reads them from a file (and a PrometheusRule's spec)."""
    return {
        "groups": [
            {"name": name, "rules": [rule.as_rule() for rule in rules]}
            for name, rules in alert_rules(config).items()
        ]
    }


PUBLISHED = Path(__file__).resolve().parents[1] / "monitoring"


def published_rules(stack: str) -> Path:
    return PUBLISHED / f"{stack}.rules.yaml"


def rules_file_text(config: StackConfig) -> str:
    header = (
        f"# The {config.facility} stack's alerting rules, for any Prometheus. Written by\n"
        "# `uv run python -m infra.alerting` from infra/alerting.py; a unit test keeps them equal.\n"
    )
    return header + yaml.safe_dump(rules_document(config), sort_keys=False, width=100)


def facility_stacks() -> list[str]:
    return [name for name in stack_names() if load_stack(name).facility is not Facility.LOCAL]


def main() -> None:
    """Write each facility stack's rules file into monitoring/."""
    PUBLISHED.mkdir(exist_ok=True)
    for stack in facility_stacks():
        published_rules(stack).write_text(rules_file_text(load_stack(stack)))


if __name__ == "__main__":
    main()
