"""The provisioning table: measured costs turned into cores, replicas and memory per component,
checked against what each facility stack declares."""

from __future__ import annotations

from typing import Any

import pytest

import infra.program
from infra import provisioning
from infra.components.archive.manifests import ArchivedTopics, archive_ingester, archive_server
from infra.config import StackConfig
from infra.program import cluster_address
from infra.render import run_program
from infra.stackfile import load_stack, model_from_values, project_values, read_config_values, stack_file


def facility_values(stack: str) -> dict[str, Any]:
    return project_values(read_config_values(stack_file(stack)))


def with_archive(stack: str, **archive: Any) -> StackConfig:
    values = facility_values(stack)
    values["archive"] = {**values["archive"], **archive}
    return model_from_values(values)


@pytest.mark.parametrize("stack", ["idf", "usdf"])
def test_the_facility_stacks_declare_what_the_table_asks(stack: str) -> None:
    config = load_stack(stack)
    assert provisioning.problems(config) == []
    assert not [need for need in provisioning.needs(config) if need.short]
    # ... and no more: each declared component has the replicas its busiest load asks for.
    asked: dict[str, int] = {}
    declared: dict[str, int] = {}
    for need in provisioning.needs(config):
        if need.declared_cores is not None:  # a shared Kafka is the facility's to size
            asked[need.component] = max(asked.get(need.component, 0), need.replicas)
            declared[need.component] = need.declared_replicas
    assert declared == asked


def test_the_peak_visit_needs_four_times_the_average() -> None:
    table = {(need.component, need.load): need for need in provisioning.needs(load_stack("idf"))}
    for component in ("archive-ingester", "kafka-broker"):
        average, peak = table[(component, "average")], table[(component, "peak")]
        assert peak.alerts_per_s == pytest.approx(4 * average.alerts_per_s)
        assert peak.cores == pytest.approx(4 * average.cores)
    ingester = table[("archive-ingester", "peak")]
    # By hand: 40,000 alerts in 37 s = 1,081 alerts/s, x 3.55 ms on GCS = 3.84 cores, x 2 headroom.
    assert ingester.cores == pytest.approx(7.676, abs=0.001)
    assert ingester.replicas == 8  # one core a Python process


def test_the_archive_is_costed_on_its_own_store() -> None:
    """idf's archive is on GCS, usdf's on S3: the same stack moved to S3 is costed as S3."""
    on_gcs = load_stack("idf")
    on_s3 = with_archive("idf", bucket={"kind": "s3", "name": "archive", "endpoint": "https://s3.example"})
    # By hand, with 2x headroom: the peak visit's 1,081 alerts/s at 3.55 ms (GCS) or 1.3 ms (S3) an
    # alert archived; a backfill's 1,500 alerts/s at 1.25 ms (GCS) or 1.5 ms (S3) an alert served.
    by_hand = {
        "gcs": {("archive-ingester", "peak"): 7.676, ("archive-server", "backfill"): 3.75},
        "s3": {("archive-ingester", "peak"): 2.811, ("archive-server", "backfill"): 4.5},
    }
    for config, store in ((on_gcs, "gcs"), (on_s3, "s3")):
        table = {(need.component, need.load): need for need in provisioning.needs(config)}
        for key, cores in by_hand[store].items():
            assert table[key].cores == pytest.approx(cores, abs=0.001), (store, key)
        broker = provisioning.cost("kafka-broker", store)
        assert broker == provisioning.MEASURED["kafka-broker"]  # Kafka's cost is the same on either
    assert provisioning.cost("archive-ingester", "gcs") != provisioning.cost("archive-ingester", "s3")


def test_kafka_counts_every_replica_of_a_partition() -> None:
    config = load_stack("idf")
    broker = next(n for n in provisioning.needs(config) if (n.component, n.load) == ("kafka-broker", "peak"))
    assert broker.alerts_per_s == pytest.approx(40_000 / 37 * config.replication.factor)


def test_too_few_ingesters_are_named_with_what_they_need() -> None:
    config = with_archive("idf", ingesterReplicas=1)
    (shortfall,) = [p for p in provisioning.problems(config) if p.startswith("archive-ingester at the peak")]
    assert "needs 8 replicas" in shortfall  # by hand: 7.68 cores at the peak, one a replica
    assert "declares 1 replicas with 1.0 cores" in shortfall


def test_more_cores_a_replica_do_not_help_a_python_process() -> None:
    """A replica of 8 cores is still one Python process: the table asks for replicas, not cores."""
    config = with_archive("idf", ingesterReplicas=1, ingesterResources={"cpu": "8", "memory": "1Gi"})
    assert any(p.startswith("archive-ingester at the peak") for p in provisioning.problems(config))


def test_too_little_memory_is_named() -> None:
    config = with_archive("usdf", serverResources={"cpu": "1", "memory": "64Mi"})
    needed = provisioning.memory_needed("archive-server", "s3")
    assert f"archive-server requests 64 MiB of memory; it needs {needed} MiB" in provisioning.problems(config)


def test_a_shared_kafka_is_the_facility_s_and_never_short() -> None:
    config = load_stack("usdf")
    brokers = [n for n in provisioning.needs(config) if n.component == "kafka-broker"]
    assert brokers
    assert all(n.declared_cores is None and not n.short for n in brokers)
    assert "the facility's" in provisioning.render(config)


def test_the_local_stack_has_nothing_to_provision() -> None:
    with pytest.raises(ValueError, match="no facility components"):
        provisioning.needs(load_stack("local"))


def test_the_deployments_request_what_the_stack_declares() -> None:
    config = with_archive("idf", ingesterResources={"cpu": "1500m", "memory": "768Mi"})
    assert config.archive is not None
    assert config.services_image is not None
    address = cluster_address(config)
    topics = ArchivedTopics(["lsst-alerts-v11"], None)
    ingester = archive_ingester(config.archive, config.services_image, address, topics)
    server = archive_server(config.archive, config.services_image, address)
    resources = [
        manifest["spec"]["template"]["spec"]["containers"][0]["resources"] for manifest in (ingester, server)
    ]
    assert resources[0] == {"requests": {"cpu": "1500m", "memory": "768Mi"}, "limits": {"memory": "768Mi"}}
    server_spec = config.archive.server_resources
    assert resources[1]["requests"] == {"cpu": server_spec.cpu, "memory": server_spec.memory}


def test_the_command_prints_the_table_and_fails_on_a_shortfall(capsys: pytest.CaptureFixture[str]) -> None:
    assert provisioning.main(["idf"]) == 0
    printed = capsys.readouterr().out
    assert "| archive-ingester | peak | 1,081 |" in printed
    assert "warning" not in printed


def test_pulumi_up_warns_of_a_shortfall_and_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """An ingester ten times as costly as measured: the deploy warns with the fix, and still declares."""
    warned: list[str] = []
    monkeypatch.setattr(infra.program.pulumi.log, "warn", lambda message, *_a, **_k: warned.append(message))
    costly = provisioning.Cost(10 * provisioning.cost("archive-ingester", "gcs").cpu_ms_per_alert, 356)
    monkeypatch.setitem(provisioning.MEASURED_ON_STORE["gcs"], "archive-ingester", costly)
    run = run_program("idf")
    assert any(w.startswith("provisioning: archive-ingester at the peak load") for w in warned), warned
    assert any(w.endswith("(scripts/provisioning idf)") for w in warned)
    assert run.strimzi("Kafka")
