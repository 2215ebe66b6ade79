"""The post-deploy suite's fixtures and options: the stack outputs, the canary run, the
named-check summary. Run by `alertdist-postdeploy` (postdeploy/cli.py), which hands it a deployed
stack's outputs, from a saved file or read in its own process.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import KafkaException

from alertdist_common.outputs import StackOutputs
from alertdist_common.schemas import available_versions, schema_id
from services.producer.alerts import AlertFactory

from .canary import BrokerReader, CanaryRun, Delivery, first_canary_id, position_group, produce_canaries
from .clients import delete_group, listeners, registry_client_conf
from .source import OUTPUTS_KEY


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("postdeploy", "post-deploy validation")
    group.addoption(
        "--stack-outputs",
        type=Path,
        help="the deployed stack's outputs (`pulumi stack output --json --show-secrets`, mode 0600)",
    )
    group.addoption("--canaries", type=int, default=10, help="canary alerts to produce")
    group.addoption(
        "--delivery-timeout", type=float, default=60.0, help="seconds for every broker to read every canary"
    )
    group.addoption(
        "--archive-timeout", type=float, default=120.0, help="seconds for every canary to be in the archive"
    )
    group.addoption("--summary-file", type=Path, help="also write the short human summary here")


# One pytest session per process: the checks' outcomes and the figures they measured.
OUTCOMES: dict[str, str] = {}
MEASUREMENTS: dict[str, str] = {}


def stack_outputs(config: pytest.Config) -> StackOutputs:
    """The outputs the CLI read for the suite, or the file given with --stack-outputs."""
    if OUTPUTS_KEY in config.stash:
        return config.stash[OUTPUTS_KEY]
    path: Path | None = config.getoption("stack_outputs")
    if path is None:
        raise pytest.UsageError("the post-deploy suite needs a stack's outputs: --stack-outputs FILE")
    return StackOutputs.from_file(path)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Name each check after what it checks: a broker user, a topic, a schema id, a listener."""
    if not {"broker_user", "topic", "registry_schema_id", "listener"} & set(metafunc.fixturenames):
        return
    declared = stack_outputs(metafunc.config)
    if "broker_user" in metafunc.fixturenames:
        metafunc.parametrize("broker_user", declared.users_with_role("community-broker"))
    if "topic" in metafunc.fixturenames:
        metafunc.parametrize("topic", sorted(declared.topics))
    if "registry_schema_id" in metafunc.fixturenames:
        ids = [schema_id(v.major, v.minor) for v in available_versions()]
        metafunc.parametrize("registry_schema_id", ids)
    if "listener" in metafunc.fixturenames:
        found = listeners(declared)
        metafunc.parametrize("listener", found, ids=[way_in.name for way_in in found])


@pytest.fixture(scope="session")
def outputs(request: pytest.FixtureRequest) -> StackOutputs:
    return stack_outputs(request.config)


@pytest.fixture(scope="session")
def run_id() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture(scope="session")
def factory() -> AlertFactory:
    return AlertFactory.from_package()


@pytest.fixture(scope="session")
def measurements() -> dict[str, str]:
    """Figures the suite measured (delivery latency...), printed in its summary."""
    return MEASUREMENTS


@pytest.fixture(scope="session")
def canaries(
    outputs: StackOutputs, run_id: str, factory: AlertFactory, request: pytest.FixtureRequest
) -> Iterator[CanaryRun]:
    """The canary run: every broker identity reads concurrently, as the seven brokers do.

    Each broker's fresh group is positioned at the topic's end and its reader has joined before
    the producer's user sends the canaries; the groups are deleted afterwards by their owners.
    """
    if not outputs.users_with_role("producer"):
        pytest.skip(
            "the stack has no producer of its own (at USDF phalanx's prompt processing writes the alert "
            "topics): no canary is written into another owner's topics"
        )
    canary_topics = outputs.topics_with_role("canary")
    if not canary_topics:
        pytest.skip("the stack declares no canary topic: no canary is written into an alert topic")
    (topic,) = canary_topics
    count: int = request.config.getoption("canaries")
    timeout: float = request.config.getoption("delivery_timeout")
    first_id = first_canary_id()
    run = CanaryRun(
        topic=topic,
        ids=list(range(first_id, first_id + count)),
        encoded={i: factory.encoded(i) for i in range(first_id, first_id + count)},
        groups={u: f"{u}-postdeploy-{run_id}" for u in outputs.users_with_role("community-broker")},
    )
    readers: dict[str, BrokerReader] = {}
    for user, group in run.groups.items():
        try:
            position_group(outputs, user, group, topic)
            readers[user] = BrokerReader(outputs, user, group, registry_client_conf(outputs))
            readers[user].subscribe(topic)
        except KafkaException as exc:  # reported by that broker's own check
            run.deliveries[user] = Delivery(user, error=f"could not join its group: {exc.args[0]}")
    wanted = set(run.ids)
    with ThreadPoolExecutor(max_workers=max(1, len(readers))) as pool:
        joined_by = time.time() + min(timeout, 30)
        futures = {
            user: pool.submit(reader.read, topic, wanted, time.time() + 2 * timeout)
            for user, reader in readers.items()
        }
        for reader in readers.values():
            reader.assigned.wait(max(0.0, joined_by - time.time()))
        run.produced_at = produce_canaries(outputs, topic, first_id, count, factory)
        for reader in readers.values():
            reader.stop_at(run.produced_at + timeout)
        for user, future in futures.items():
            run.deliveries[user] = future.result()
    yield run
    left = {
        group: reason for user, group in run.groups.items() if (reason := delete_group(outputs, user, group))
    }
    if left:
        MEASUREMENTS["residue"] = "consumer groups left behind: " + "; ".join(
            f"{group} ({reason})" for group, reason in sorted(left.items())
        )


# -- the named-check summary ---------------------------------------------------------------------
def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Remember each check's outcome; a failure in set-up or teardown counts as an error."""
    name = report.nodeid.split("::", 1)[1]
    if report.failed:
        OUTCOMES[name] = "failed" if report.when == "call" else "error"
    elif report.skipped:
        OUTCOMES.setdefault(name, "skipped")
    elif report.when == "call":
        OUTCOMES.setdefault(name, "passed")


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if not OUTCOMES:
        return
    failed = sorted(name for name, outcome in OUTCOMES.items() if outcome in ("failed", "error"))
    passed = sum(outcome == "passed" for outcome in OUTCOMES.values())
    lines = [
        f"post-deploy checks: {passed} of {len(OUTCOMES)} passed",
        *(f"  {OUTCOMES[name].upper()} {name}" for name in failed),
        *(f"  {key}: {value}" for key, value in sorted(MEASUREMENTS.items())),
    ]
    terminalreporter.write_sep("=", "post-deploy summary")
    for line in lines:
        terminalreporter.write_line(line)
    summary_file: Path | None = config.getoption("summary_file")
    if summary_file is not None:
        summary_file.parent.mkdir(parents=True, exist_ok=True)
        summary_file.write_text("\n".join(lines) + "\n")
