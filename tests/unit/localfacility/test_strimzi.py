"""How Strimzi's operators are started: each in namespaces of its own, from an empty environment,
with the Kafka password only where the operator does not log it."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest
from pydantic import SecretStr

from localfacility.install import MAIN_CLASS_FILE, strimzi_dir
from localfacility.kubernetes import LocalKubernetes
from localfacility.settings import FacilitySettings
from localfacility.strimzi import KafkaAccess, StrimziOperators

PASSWORD = "not-for-logs-" + "x" * 20


@pytest.fixture
def operators(tmp_path: Path) -> StrimziOperators:
    kubernetes = LocalKubernetes(FacilitySettings(run_dir=tmp_path))
    for operator in ("cluster-operator", "user-operator", "topic-operator"):  # as the install leaves them
        installed = strimzi_dir(kubernetes.settings, "1.2.0") / operator
        installed.mkdir(parents=True)
        (installed / MAIN_CLASS_FILE).write_text(f"io.strimzi.operator.{operator.split('-')[0]}.Main\n")
    access = KafkaAccess(ports=(19094, 19104), username="admin", password=SecretStr(PASSWORD))
    return StrimziOperators(kubernetes, "1.2.0", "alert-distribution", "alert-broker", access, "strimzi")


@pytest.mark.parametrize("operator", ["user-operator", "topic-operator"])
def test_no_password_on_a_command_line_or_in_the_user_operator_s_settings(
    operators: StrimziOperators, operator: str
) -> None:
    spec = operators.spec(operator)
    assert PASSWORD not in " ".join(spec.argv)
    assert spec.clean_env
    assert dict(spec.env) == {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    assert spec.argv[:4] == ["unshare", "--net", "--pid", "--kill-child"]
    operators.home.mkdir(parents=True)
    operators._write_settings(operator)
    settings = operators._env_file(operator)
    assert stat.S_IMODE(settings.stat().st_mode) == 0o600
    if operator == "user-operator":  # it logs every variable, and its admin client configuration
        assert PASSWORD not in settings.read_text()
        assert PASSWORD in operators._jaas_file().read_text()
        assert stat.S_IMODE(operators._jaas_file().stat().st_mode) == 0o600
    else:  # masked in its log: the variable's name says PASSWORD
        assert f"STRIMZI_SASL_PASSWORD={PASSWORD}" in settings.read_text()


def test_the_user_operator_spares_the_kafka_s_super_users_only(operators: StrimziOperators) -> None:
    """It deletes the SCRAM credentials and ACLs of every principal without a KafkaUser, unless
    this pattern spares it (1.2.0 KafkaUserOperator.java, ScramCredentialsOperator.java:184)."""
    spared = re.compile(operators._env("user-operator")["STRIMZI_IGNORED_USERS_PATTERN"])
    assert spared.match("admin")
    assert spared.match("controller")
    assert not spared.match("alerce-idf")
    assert not spared.match("admin-idf")


def test_the_operators_reach_the_api_server_and_every_broker_through_relays(
    operators: StrimziOperators,
) -> None:
    script = operators.spec("topic-operator").argv[-1]
    for port in (operators.kubernetes.ports.apiserver, 19094, 19104):
        assert f"TCP-LISTEN:{port},bind=127.0.0.1," in script
    assert [relay.name for relay in operators._relays()] == [
        f"relay-{operators.kubernetes.ports.apiserver}",
        "relay-19094",
        "relay-19104",
    ]
