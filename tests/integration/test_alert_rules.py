"""The stacks' alerting rules (infra/alerting.py) run by Prometheus's own rule engine: `promtool
check rules` on the published rules files and on the PrometheusRule the engine renders, and
`promtool test rules` on synthetic series for every alert of every facility stack: each fires on
its condition, with the labels and the summary an operator reads, and stays quiet on a healthy
facility and on what is not the stack's (another tenant's consumer group)."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.alerting import AlertRule, alert_rules, broker_usernames, rules_document
from infra.config import StackConfig
from infra.stackfile import load_stack
from infra.tables import service_users
from localfacility.install import install_go_tool
from localfacility.settings import FacilitySettings
from tests.rendered import rendered
from tests.unit.infra.test_program import FACILITY_STACKS

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def promtool() -> Path:
    settings = FacilitySettings()
    install_go_tool(settings, "promtool")
    return settings.bin_dir / "promtool"


def humanize(value: float) -> str:
    """Prometheus's `humanize` template function (template/template.go), for values of 0 or at least 1."""
    prefix = ""
    for unit in ("k", "M", "G", "T"):
        if abs(value) < 1000 or value == 0:
            break
        prefix, value = unit, value / 1000
    return f"{value:.4g}{prefix}"


@dataclass
class Case:
    """Series that make one alert fire (with `labels` and `value`) and series that keep it quiet."""

    firing: dict[str, str]  # series -> values, in promtool's expanding notation
    quiet: dict[str, str]
    labels: dict[str, str] = field(default_factory=dict)
    value: float = 0.0
    at: str = "2h"


def cases(config: StackConfig) -> dict[str, Case]:
    """A case for each alert the stack can raise; what is not the stack's never makes one fire."""
    broker = f"{broker_usernames(config)[0]}-main"
    ingester = service_users(config).archive_ingester
    topic = config.alert_topics[0].name
    namespace = config.namespace
    group = f'consumergroup="{broker}", topic="{topic}"'
    other = f'consumergroup="kafka-ui", topic="{topic}"'  # another tenant's: no broker's, no alert
    ingester_group = f'consumergroup="{ingester}", topic="{topic}"'
    ns = f'namespace="{namespace}"'
    claim = f"data-0-{config.kafka.name if config.kafka else ''}-broker-0"
    pvc = f'{ns}, persistentvolumeclaim="{claim}"'
    replicas = "kafka_topic_partition_under_replicated_partition"
    return {
        "AlertBrokerLagging": Case(  # a partition with no committed offset reads -1: no lag, not less
            {
                f'kafka_consumergroup_lag{{{group}, partition="0"}}': "40001x150",
                f'kafka_consumergroup_lag{{{group}, partition="1"}}': "-1x150",
            },
            {
                f'kafka_consumergroup_lag{{{group}, partition="0"}}': "100x150",
                f"kafka_consumergroup_lag{{{other}}}": "90000x150",
            },
            {"consumergroup": broker},
            40001,
        ),
        "AlertBrokerLagGrowing": Case(
            {f'kafka_consumergroup_lag{{{group}, partition="0"}}': "0+1000x150"},
            {
                f'kafka_consumergroup_lag{{{group}, partition="0"}}': "0+100x150",
                f"kafka_consumergroup_lag{{{other}}}": "0+1000x150",
            },
            {"consumergroup": broker},
            30000,
        ),
        "AlertBrokerStoppedReading": Case(
            {
                f'kafka_consumergroup_current_offset{{{group}, partition="0"}}': "5000x150",
                f'kafka_consumergroup_lag{{{group}, partition="0"}}': "20x150",
            },
            {
                f'kafka_consumergroup_current_offset{{{group}, partition="0"}}': "5000+10x150",
                f'kafka_consumergroup_lag{{{group}, partition="0"}}': "20x150",
                f"kafka_consumergroup_current_offset{{{other}}}": "5000x150",
                f"kafka_consumergroup_lag{{{other}}}": "20x150",
            },
            {"consumergroup": broker},
        ),
        "ArchiveIngesterLagging": Case(
            {f'kafka_consumergroup_lag{{{ingester_group}, partition="0"}}': "50000x150"},
            {f'kafka_consumergroup_lag{{{ingester_group}, partition="0"}}': "10x150"},
            value=50000,
        ),
        "ArchiveDeadLetters": Case(
            {f'alertdist_archive_dead_letters_total{{{ns}, pod="archive-ingester-1"}}': "100+1x150"},
            {f'alertdist_archive_dead_letters_total{{{ns}, pod="archive-ingester-1"}}': "100x150"},
            value=15,
        ),
        "AlertDeliveryLatencyAboveTarget": Case(
            _ages(namespace, late=True), _ages(namespace, late=False), value=60 + 30 * 0.98
        ),
        "KafkaUnderReplicatedPartitions": Case(
            {f'{replicas}{{topic="{topic}", partition="{p}"}}': "1x150" for p in (0, 1)},
            {f'{replicas}{{topic="{topic}", partition="0"}}': "0x150"},
            {"topic": topic},
            2,
        ),
        "KafkaOfflinePartitions": Case(
            {f'kafka_controller_kafkacontroller_offlinepartitionscount{{{ns}, pod="c-100"}}': "3x150"},
            {f'kafka_controller_kafkacontroller_offlinepartitionscount{{{ns}, pod="c-100"}}': "0x150"},
            value=3,
        ),
        "KafkaIsrShrinking": Case(
            {f'kafka_server_replicamanager_isrshrinks_total{{{ns}, pod="b-0"}}': "0+2x150"},
            {f'kafka_server_replicamanager_isrshrinks_total{{{ns}, pod="b-0"}}': "7x150"},
        ),
        "KafkaDiskFillsBeforeRetention": Case(  # 1 GB a minute less, from 100 GB: full in under 2 hours
            {f"kubelet_volume_stats_available_bytes{{{pvc}}}": "100000000000-1000000000x90"},
            {f"kubelet_volume_stats_available_bytes{{{pvc}}}": "100000000000x90"},
            {
                "namespace": namespace,
                "persistentvolumeclaim": f"data-0-{config.kafka.name if config.kafka else ''}-broker-0",
            },
            at="1h30m",
        ),
        **{
            rule: Case(
                {f'kube_deployment_status_replicas_available{{{ns}, deployment="{app}"}}': "0x150"},
                {f'kube_deployment_status_replicas_available{{{ns}, deployment="{app}"}}': "2x150"},
                {"namespace": namespace, "deployment": app},
            )
            for rule, app in (
                ("ArchiveServerDown", "archive-server"),
                ("ArchiveIngesterDown", "archive-ingester"),
                ("SchemaRegistryDown", "schema-registry"),
            )
        },
    }


def _ages(namespace: str, late: bool) -> dict[str, str]:
    """The ingester's alert-age histogram, 10 alerts a minute, all between 60 and 90 s old when
    late (the 98th percentile interpolated in that bucket: 60 + 30 x 0.98), all under 5 s if not."""
    series = {}
    for bound in ("1.0", "5.0", "60.0", "90.0", "+Inf"):
        counted = (bound in ("90.0", "+Inf")) if late else bound != "1.0"
        values = "0+10x150" if counted else "0x150"
        series[f'alertdist_archive_alert_age_seconds_bucket{{namespace="{namespace}", le="{bound}"}}'] = (
            values
        )
    return series


def _expected(rule: AlertRule, case: Case) -> dict[str, Any]:
    summary = rule.summary.replace("{{ $value | humanize }}", humanize(case.value))
    summary = re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda m: case.labels[m.group(1)], summary)
    return {
        "exp_labels": {**case.labels, "severity": rule.severity},
        "exp_annotations": {"summary": summary, "runbook": rule.runbook},
    }


def _series(values: dict[str, str]) -> list[dict[str, str]]:
    return [{"series": name, "values": spec} for name, spec in values.items()]


def unit_tests(config: StackConfig, rules_file: Path) -> dict[str, Any]:
    """promtool's test file: for each alert, its firing series and its quiet ones."""
    table = cases(config)
    tests = []
    for rule in (rule for group in alert_rules(config).values() for rule in group):
        case = table[rule.name]
        for values, expected in ((case.firing, [_expected(rule, case)]), (case.quiet, [])):
            tests.append(
                {
                    "name": f"{rule.name} {'fires' if expected else 'stays quiet'}",
                    "interval": "1m",
                    "input_series": _series(values),
                    "alert_rule_test": [
                        {"eval_time": case.at, "alertname": rule.name, "exp_alerts": expected}
                    ],
                }
            )
    return {"rule_files": [str(rules_file)], "evaluation_interval": "1m", "tests": tests}


def _promtool(promtool: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(promtool), *args], capture_output=True, text=True, check=False)


@pytest.mark.parametrize("stack", FACILITY_STACKS)
def test_the_published_rules_pass_promtool_s_check(promtool: Path, stack: str) -> None:
    checked = _promtool(promtool, "check", "rules", str(REPO / "monitoring" / f"{stack}.rules.yaml"))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS" in checked.stdout


@pytest.mark.parametrize("stack", FACILITY_STACKS)
def test_every_alert_fires_on_its_condition_and_only_then(promtool: Path, stack: str, tmp_path: Path) -> None:
    config = load_stack(stack)
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(yaml.safe_dump(rules_document(config), sort_keys=False))
    tests = unit_tests(config, rules_file)
    assert len(tests["tests"]) == 2 * sum(len(group) for group in alert_rules(config).values())
    (tmp_path / "tests.yaml").write_text(yaml.safe_dump(tests, sort_keys=False))
    ran = _promtool(promtool, "test", "rules", str(tmp_path / "tests.yaml"))
    assert ran.returncode == 0, ran.stdout[-6000:] + ran.stderr[-6000:]


def test_a_wrong_expectation_fails_the_rule_tests(promtool: Path, tmp_path: Path) -> None:
    """The test above can fail: a lagging broker's alert expected quiet is a failure promtool names."""
    config = load_stack("idf")
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(yaml.safe_dump(rules_document(config), sort_keys=False))
    tests = unit_tests(config, rules_file)
    (lagging,) = (t for t in tests["tests"] if t["name"] == "AlertBrokerLagging fires")
    lagging["alert_rule_test"][0]["exp_alerts"] = []
    (tmp_path / "tests.yaml").write_text(yaml.safe_dump(tests, sort_keys=False))
    ran = _promtool(promtool, "test", "rules", str(tmp_path / "tests.yaml"))
    assert ran.returncode != 0
    assert "AlertBrokerLagging" in ran.stdout + ran.stderr


def test_the_rendered_prometheus_rule_passes_promtool_s_check(promtool: Path, tmp_path: Path) -> None:
    """The PrometheusRule the engine renders for usdf holds the same rules, which Prometheus loads."""
    (rule,) = (o for o in rendered("usdf") if o["kind"] == "PrometheusRule")
    assert rule["spec"] == rules_document(load_stack("usdf"))
    (tmp_path / "rendered.yaml").write_text(yaml.safe_dump(rule["spec"], sort_keys=False))
    checked = _promtool(promtool, "check", "rules", str(tmp_path / "rendered.yaml"))
    assert checked.returncode == 0, checked.stdout + checked.stderr
