"""The alert archive's services on the local facility: the ingester and the HTTP server,
run from this project's own entry points with the local stack's service credentials."""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import httpx

from infra.tables import ARCHIVE_INGESTER_USER
from localfacility import ingress, kafka, objectstore
from localfacility.deploy import ARCHIVE_BUCKET, LocalDeployment
from localfacility.process import ServiceSpec
from services.common.storage import GcsStore, ObjectStore, S3Store

Backend = Literal["s3", "gcs"]


def _module(name: str) -> list[str]:
    """argv running one of our services with this interpreter (its cmdline is exactly this)."""
    return [sys.executable, "-m", name]


@dataclass(frozen=True)
class ArchiveServices:
    """The stack's archive (no label), or with a label a second, separate archive beside it:
    its own consumer group (``archive-ingester-<label>``), pid files and ports."""

    deployment: LocalDeployment
    backend: Backend = "s3"
    label: str = ""
    bucket: str = ARCHIVE_BUCKET
    schema_bucket: str | None = None  # schemas beside the alerts unless set (Rubin's two buckets)
    server_port: int | None = None
    metrics_port: int | None = None
    s3_endpoint: str | None = None  # another S3 server than the facility's
    topics: tuple[str, ...] = ()  # what the ingester reads; the stack's alert topics unless set
    ingester_args: tuple[str, ...] = ()
    kafka_login: tuple[str, str] | None = None  # the ingester's user and password; the stack's unless set

    @property
    def ingester_name(self) -> str:
        """Service name and consumer group of the ingester."""
        return ARCHIVE_INGESTER_USER + (f"-{self.label}" if self.label else "")

    @property
    def server_name(self) -> str:
        return "archive-server" + (f"-{self.label}" if self.label else "")

    @property
    def metrics_file(self) -> Path:
        return self.deployment.facility.settings.run_dir / f"{self.ingester_name}.prom"

    def ingester_metrics(self) -> dict[str, float]:
        """The ingester's figures, read from its metrics file; empty before its first batch."""
        if not self.metrics_file.exists():
            return {}
        pairs = (line.split() for line in self.metrics_file.read_text().splitlines() if line)
        return {name: float(value) for name, value in pairs}

    def archive_url(self) -> str:
        s = self.deployment.facility.settings
        return f"http://{s.host}:{self.server_port or s.archive_server_port}"

    def metrics_url(self) -> str:
        s = self.deployment.facility.settings
        return f"http://{s.host}:{self.metrics_port or s.archive_metrics_port}/metrics"

    def store_env(self) -> dict[str, str]:
        facility = self.deployment.facility
        s, c = facility.settings, facility.credentials
        env = {"ALERTDIST_ARCHIVE_BACKEND": self.backend, "ALERTDIST_ARCHIVE_BUCKET": self.bucket}
        if self.schema_bucket is not None:
            env["ALERTDIST_ARCHIVE_SCHEMA_BUCKET"] = self.schema_bucket
        if self.backend == "s3":
            env |= {
                "ALERTDIST_S3_ENDPOINT": self.s3_endpoint or objectstore.s3_url(s),
                "AWS_ACCESS_KEY_ID": c.s3_access_key.get_secret_value(),
                "AWS_SECRET_ACCESS_KEY": c.s3_secret_key.get_secret_value(),
                "AWS_REGION": "us-east-1",
            }
        else:
            env |= {"STORAGE_EMULATOR_HOST": objectstore.gcs_url(s), "ALERTDIST_GCS_PROJECT": "local"}
        return env

    def store(self) -> ObjectStore:
        """A client of this archive's bucket, with the credentials its services use."""
        facility = self.deployment.facility
        s, c = facility.settings, facility.credentials
        if self.backend == "s3":
            keys = (c.s3_access_key.get_secret_value(), c.s3_secret_key.get_secret_value())
            return S3Store(self.bucket, self.s3_endpoint or objectstore.s3_url(s), credentials=keys)
        return GcsStore(self.bucket, "local", objectstore.gcs_url(s))

    def ingester_env(self) -> dict[str, str]:
        s = self.deployment.facility.settings
        config = self.deployment.config
        dead_letter = next(t.name for t in config.topics if t.role.value == "dead-letter")
        user, password = self.kafka_login or (
            ARCHIVE_INGESTER_USER,
            self.deployment.passwords()[ARCHIVE_INGESTER_USER],
        )
        return {
            **self.store_env(),
            "ALERTDIST_KAFKA_BOOTSTRAP": kafka.bootstrap_servers(s),
            "ALERTDIST_KAFKA_USERNAME": user,
            "ALERTDIST_KAFKA_PASSWORD": password,
            "ALERTDIST_REGISTRY_URL": ingress.public_registry_url(s),
            "ALERTDIST_TOPICS": ",".join(self.topics or [t.name for t in config.alert_topics]),
            # the stack's archive keeps the canaries; an archive of chosen topics reads those alone
            "ALERTDIST_CANARY_TOPIC": config.canary_topic.name
            if config.canary_topic and not self.topics
            else "",
            "ALERTDIST_DEAD_LETTER_TOPIC": dead_letter,
        }

    def ingester_spec(self) -> ServiceSpec:
        """The ingester as started: with its Kafka login from the stack outputs."""
        return replace(self._ingester_process(), env=self.ingester_env())

    def _ingester_process(self) -> ServiceSpec:
        """The ingester as found and stopped (no login needed: the stack may be gone)."""
        return ServiceSpec(
            name=self.ingester_name,
            argv=[
                *_module("services.archive_ingester.cli"),
                "--group",
                self.ingester_name,
                "--metrics-file",
                str(self.metrics_file),
                *self.ingester_args,
            ],
            ready=lambda: True,
            start_timeout=10,
        )

    def server_spec(self) -> ServiceSpec:
        s = self.deployment.facility.settings

        def ready() -> bool:
            return httpx.get(f"{self.archive_url()}/v1/health", timeout=2).status_code == 200

        return ServiceSpec(
            name=self.server_name,
            argv=[
                *_module("services.archive_server.cli"),
                "--host",
                s.host,
                "--port",
                str(self.server_port or s.archive_server_port),
                "--metrics-port",
                str(self.metrics_port or s.archive_metrics_port),
            ],
            env=self.store_env(),
            ready=ready,
            start_timeout=30,
        )

    def specs(self) -> list[ServiceSpec]:
        return [self.ingester_spec(), self.server_spec()]

    def up(self) -> None:
        supervisor = self.deployment.facility.supervisor
        for spec in self.specs():
            supervisor.start(spec)

    def down(self) -> list[str]:
        supervisor = self.deployment.facility.supervisor
        running = [self._ingester_process(), self.server_spec()]
        return [spec.name for spec in reversed(running) if supervisor.stop(spec)]
