"""The registry, archive and producer components alone, from hand-built specs."""

from __future__ import annotations

import pulumi

from infra.components.archive import AlertArchive
from infra.components.archive.manifests import ArchivedTopics
from infra.components.producer import AlertProducer
from infra.components.registry import SchemaRegistry
from infra.config import ArchiveSpec, ProducerSpec, RegistrySpec
from infra.stack_secrets import S3Credentials
from tests.unit.infra.conftest import ADDRESS, RecordingMocks, when_declared


def _container(mocks: RecordingMocks, app: str) -> dict[str, object]:
    (deployment,) = [d for d in mocks.of_kind("Deployment") if d["metadata"]["name"] == app]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == app
    return dict(container)


@pulumi.runtime.test  # type: ignore[untyped-decorator]
def test_registry_stores_over_mtls_and_a_job_syncs_the_schemas(mocks: RecordingMocks) -> pulumi.Output[str]:
    spec = RegistrySpec.model_validate(
        {"replicas": 2, "syncImage": "example.org/services@sha256:" + "a" * 64}
    )
    registry = SchemaRegistry("schema-registry", spec, ADDRESS, depends_on=[])

    def check(_: object) -> None:
        container = _container(mocks, "schema-registry")
        env = {e["name"]: e.get("value") for e in container["env"]}  # type: ignore[attr-defined]
        assert env["SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS"] == (
            "SSL://test-broker-kafka-bootstrap.alerts-test.svc:9093"
        )
        assert "args" not in container  # the image's own entry point
        security = container["securityContext"]
        assert security["runAsNonRoot"] is True  # type: ignore[index]
        assert (security["runAsUser"], security["runAsGroup"]) == (1000, 1000)  # type: ignore[index]
        host = next(e for e in container["env"] if e["name"] == "SCHEMA_REGISTRY_HOST_NAME")  # type: ignore[attr-defined]
        assert host["valueFrom"] == {"fieldRef": {"fieldPath": "status.podIP"}}
        (job,) = mocks.of_kind("Job")
        (sync,) = job["spec"]["template"]["spec"]["containers"]
        assert sync["image"] == spec.sync_image
        assert sync["args"][-1] == "http://schema-registry.alerts-test.svc:8081"
        assert not mocks.of_kind("Ingress")  # none asked for

    return when_declared(registry).apply(check)


@pulumi.runtime.test  # type: ignore[untyped-decorator]
def test_s3_archive_reads_its_keys_from_a_secret(mocks: RecordingMocks) -> pulumi.Output[str]:
    spec = ArchiveSpec.model_validate(
        {
            "bucket": {"kind": "s3", "name": "alerts", "endpoint": "https://s3.example.org"},
            "serverReplicas": 3,
        }
    )
    keys = S3Credentials(pulumi.Output.secret("access"), pulumi.Output.secret("secret"))
    topics = ArchivedTopics(alert_topics=["a", "b"], dead_letter_topic="dead")
    archive = AlertArchive("archive", spec, ADDRESS, topics, keys, depends_on=[])

    def check(_: object) -> None:
        ingester = _container(mocks, "archive-ingester")
        env = {e["name"]: e for e in ingester["env"]}  # type: ignore[attr-defined]
        assert env["ALERTDIST_TOPICS"]["value"] == "a,b"
        assert env["ALERTDIST_DEAD_LETTER_TOPIC"]["value"] == "dead"
        assert env["AWS_SECRET_ACCESS_KEY"]["valueFrom"]["secretKeyRef"]["name"] == "archive-s3-credentials"
        server = _container(mocks, "archive-server")
        assert server["readinessProbe"] == {"httpGet": {"path": "/v1/health", "port": "http"}}
        assert not [a for a in mocks.declared if a.typ.startswith(("aws:", "gcp:"))]  # in infra/prerequisites

    return when_declared(archive).apply(check)


@pulumi.runtime.test  # type: ignore[untyped-decorator]
def test_producer_replays_visits_forever(mocks: RecordingMocks) -> pulumi.Output[str]:
    spec = ProducerSpec.model_validate({"enabled": True, "alertsPerVisit": 500, "topic": "alerts-simulated"})
    producer = AlertProducer("producer", spec, ADDRESS, depends_on=[])

    def check(_: object) -> None:
        args = _container(mocks, "alert-producer")["args"]
        assert args[:3] == ["python", "-m", "services.producer.cli"]
        assert args[args.index("--alerts-per-visit") + 1] == "500"  # type: ignore[attr-defined]
        assert "--forever" in args  # type: ignore[operator]

    return when_declared(producer).apply(check)
