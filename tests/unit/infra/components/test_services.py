"""The registry, archive and producer components alone, from hand-built specs."""

from __future__ import annotations

import pulumi
import pytest
from pydantic import ValidationError

from infra.components.archive import AlertArchive
from infra.components.archive.manifests import ArchivedTopics, archive_ingester, archive_server
from infra.components.producer import AlertProducer
from infra.components.producer.manifests import alert_producer
from infra.components.registry import SchemaRegistry
from infra.components.registry.manifests import schema_set_digest
from infra.config import ArchiveSpec, ProducerSpec, RegistrySpec
from infra.stack_secrets import ArchiveS3Keys, S3Credentials
from services.archive_ingester import cli as ingester_cli
from services.archive_server import cli as server_cli
from services.producer import cli as producer_cli
from tests.unit.infra.conftest import ADDRESS, RecordingMocks, when_declared

IMAGE = "example.org/services:1.2.3@sha256:" + "a" * 64


def _container(mocks: RecordingMocks, app: str) -> dict[str, object]:
    (deployment,) = [d for d in mocks.of_kind("Deployment") if d["metadata"]["name"] == app]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == app
    return dict(container)


@pulumi.runtime.test  # type: ignore[untyped-decorator]
def test_registry_stores_over_mtls_and_a_job_syncs_the_schemas(mocks: RecordingMocks) -> pulumi.Output[str]:
    spec = RegistrySpec.model_validate({"replicas": 2})
    registry = SchemaRegistry("schema-registry", spec, IMAGE, ADDRESS, depends_on=[])

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
        assert sync["image"] == IMAGE
        assert job["metadata"]["name"] == f"schema-sync-{schema_set_digest(IMAGE)}"
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
    keys = ArchiveS3Keys(
        read_write=S3Credentials(pulumi.Output.secret("rw-access"), pulumi.Output.secret("rw-secret")),
        read_only=S3Credentials(pulumi.Output.secret("ro-access"), pulumi.Output.secret("ro-secret")),
    )
    topics = ArchivedTopics(alert_topics=["a", "b"], dead_letter_topic="dead", canary_topic="canaries")
    archive = AlertArchive("archive", spec, IMAGE, ADDRESS, topics, keys, depends_on=[])

    def check(_: object) -> None:
        ingester = _container(mocks, "archive-ingester")
        env = {e["name"]: e for e in ingester["env"]}  # type: ignore[attr-defined]
        assert env["ALERTDIST_TOPICS"]["value"] == "a,b"
        assert env["ALERTDIST_DEAD_LETTER_TOPIC"]["value"] == "dead"
        assert env["ALERTDIST_CANARY_TOPIC"]["value"] == "canaries"
        server = _container(mocks, "archive-server")
        # each service reads its own keys: the server only the facility's read-only pair
        for container, secret in (
            (ingester, "archive-ingester-s3-credentials"),
            (server, "archive-server-s3-credentials"),
        ):
            refs = {
                e["valueFrom"]["secretKeyRef"]["name"]
                for e in container["env"]
                if e["name"].startswith("AWS_") and "valueFrom" in e
            }  # type: ignore[attr-defined]
            assert refs == {secret}
        secrets = {s["metadata"]["name"]: s for s in mocks.of_kind("Secret")}
        assert set(secrets) == {"archive-ingester-s3-credentials", "archive-server-s3-credentials"}
        assert server["readinessProbe"] == {"httpGet": {"path": "/v1/health", "port": "http"}}
        assert not [a for a in mocks.declared if a.typ.startswith(("aws:", "gcp:"))]  # in infra/prerequisites

    return when_declared(archive).apply(check)


@pulumi.runtime.test  # type: ignore[untyped-decorator]
def test_producer_replays_visits_forever(mocks: RecordingMocks) -> pulumi.Output[str]:
    spec = ProducerSpec.model_validate({"enabled": True, "alertsPerVisit": 500, "topic": "alerts-simulated"})
    producer = AlertProducer("producer", spec, IMAGE, ADDRESS, depends_on=[])

    def check(_: object) -> None:
        args = _container(mocks, "alert-producer")["args"]
        assert args[:3] == ["python", "-m", "services.producer.cli"]
        assert args[args.index("--alerts-per-visit") + 1] == "500"  # type: ignore[attr-defined]
        assert "--forever" in args  # type: ignore[operator]

    return when_declared(producer).apply(check)


@pulumi.runtime.test  # type: ignore[untyped-decorator]
def test_gcs_archive_services_have_a_google_account_each(mocks: RecordingMocks) -> pulumi.Output[str]:
    spec = ArchiveSpec.model_validate(
        {
            "bucket": {"kind": "gcs", "name": "alerts", "project": "p"},
            "gcpServiceAccounts": {"ingester": "writer@p.iam", "server": "reader@p.iam"},
        }
    )
    archive = AlertArchive("archive", spec, IMAGE, ADDRESS, ArchivedTopics(["a"], None), None, depends_on=[])

    def check(_: object) -> None:
        accounts = {
            a["metadata"]["name"]: a["metadata"]["annotations"]["iam.gke.io/gcp-service-account"]
            for a in mocks.of_kind("ServiceAccount")
        }
        assert accounts == {"archive-ingester": "writer@p.iam", "archive-server": "reader@p.iam"}
        assert not mocks.of_kind("Secret")

    return when_declared(archive).apply(check)


def test_the_archive_server_may_not_share_the_ingester_s_google_account() -> None:
    with pytest.raises(ValidationError, match="read-only"):
        ArchiveSpec.model_validate(
            {
                "bucket": {"kind": "gcs", "name": "alerts", "project": "p"},
                "gcpServiceAccounts": {"ingester": "one@p.iam", "server": "one@p.iam"},
            }
        )


def test_service_commands_parse_with_the_services_own_parsers() -> None:
    """Each Deployment's args, read by the service's real CLI: API and metrics on every interface
    of the pod (127.0.0.1 would refuse the Service, the probes and the scraper)."""
    archive = ArchiveSpec.model_validate({"bucket": {"kind": "gcs", "name": "alerts", "project": "p"}})
    producer = ProducerSpec.model_validate({"enabled": True})
    commands = {
        "archive-server": (archive_server(archive, IMAGE, ADDRESS), server_cli.build_parser().parse_args),
        "archive-ingester": (
            archive_ingester(archive, IMAGE, ADDRESS, ArchivedTopics(["a"], None)),
            ingester_cli.build_parser().parse_args,
        ),
        "alert-producer": (alert_producer(producer, IMAGE, ADDRESS), producer_cli.parse_args),
    }
    for app, (manifest, parse) in commands.items():
        (container,) = manifest["spec"]["template"]["spec"]["containers"]
        python, dash_m, module, *args = container["args"]
        assert (python, dash_m, module) == ("python", "-m", f"services.{app_module(app)}.cli")
        parsed = parse(args)
        ports = {port["name"]: port["containerPort"] for port in container["ports"]}
        assert parsed.metrics_port == ports["metrics"], app
        assert parsed.metrics_host == "0.0.0.0", app  # noqa: S104
        annotations = manifest["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/port"] == str(ports["metrics"])
        if "http" in ports:
            assert (parsed.host, parsed.port) == ("0.0.0.0", ports["http"])  # noqa: S104


def app_module(app: str) -> str:
    return {"archive-server": "archive_server", "archive-ingester": "archive_ingester"}.get(app, "producer")


def test_replicated_deployments_spread_over_nodes() -> None:
    archive = ArchiveSpec.model_validate(
        {"bucket": {"kind": "gcs", "name": "alerts", "project": "p"}, "serverReplicas": 2}
    )
    pod = archive_server(archive, IMAGE, ADDRESS)["spec"]["template"]["spec"]
    (spread,) = pod["topologySpreadConstraints"]
    assert spread["topologyKey"] == "kubernetes.io/hostname"
    assert spread["labelSelector"]["matchLabels"] == {"app.kubernetes.io/name": "archive-server"}
