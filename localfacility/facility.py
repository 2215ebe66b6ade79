"""The local facility as a whole: bring it up, check it, tear it down."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from functools import cached_property

from pydantic import BaseModel, Field

from localfacility import ingress, kafka, objectstore, registry
from localfacility.credentials import FacilityCredentials
from localfacility.install import install_all
from localfacility.process import ServiceSpec, Supervisor
from localfacility.settings import FacilitySettings


class Endpoints(BaseModel):
    """Where each service answers. Holds no secret: those stay in the credentials file."""

    kafka_bootstrap: str
    kafka_bootstrap_tls: str | None
    kafka_ca_file: str | None
    schema_registry_url: str = Field(description="the registry itself: writes, with the admin login")
    schema_registry_public_url: str = Field(description="its public read-only routes, as brokers read them")
    s3_url: str
    gcs_url: str
    credentials_file: str


class ServiceStatus(BaseModel):
    name: str
    pid: int | None
    ready: bool


@dataclass
class LocalFacility:
    """Kafka, schema registry (with its PostgreSQL), S3 and GCS servers on one machine."""

    settings: FacilitySettings

    @cached_property
    def credentials(self) -> FacilityCredentials:
        return FacilityCredentials.load_or_create(self.settings.secrets_file)

    @cached_property
    def supervisor(self) -> Supervisor:
        return Supervisor(pid_dir=self.settings.pid_dir, log_dir=self.settings.log_dir)

    def specs(self) -> list[ServiceSpec]:
        """Every service, in start order."""
        s, c = self.settings, self.credentials
        return [
            registry.postgres_spec(s),
            registry.registry_spec(s, c, s.conf_dir / "schema-registry.yaml"),
            ingress.ingress_spec(s),
            *kafka.node_specs(s, c),
            objectstore.s3_spec(s, c),
            objectstore.gcs_spec(s),
        ]

    def endpoints(self) -> Endpoints:
        s = self.settings
        return Endpoints(
            kafka_bootstrap=kafka.bootstrap_servers(s),
            kafka_bootstrap_tls=kafka.bootstrap_servers(s, tls=True) if s.tls_enabled else None,
            kafka_ca_file=str(s.conf_dir / "tls" / "ca.pem") if s.tls_enabled else None,
            schema_registry_url=registry.registry_url(s),
            schema_registry_public_url=ingress.public_registry_url(s),
            s3_url=objectstore.s3_url(s),
            gcs_url=objectstore.gcs_url(s),
            credentials_file=str(s.secrets_file),
        )

    def up(self) -> list[ServiceStatus]:
        """Install what is missing, start what is not running, wait until everything answers."""
        s, c = self.settings, self.credentials
        for folder in (s.run_dir, s.data_dir, s.conf_dir):
            folder.mkdir(parents=True, exist_ok=True)
        install_all(s)
        kafka.write_config(s, c)
        kafka.format_storage(s, c)
        registry.init_postgres(s, c)
        registry.write_registry_config(s)
        ingress.write_ingress_config(s, c)

        postgres, schema_registry, public_registry, *others = self.specs()
        pids = {spec.name: self.supervisor.launch(spec)[0] for spec in (postgres, *others)}
        self.supervisor.wait_ready(postgres, pids[postgres.name])
        registry.create_database(s, c)
        self.supervisor.start(schema_registry)
        self.supervisor.start(public_registry)
        for spec in others:
            self.supervisor.wait_ready(spec, pids[spec.name])
        s.endpoints_file.write_text(self.endpoints().model_dump_json(indent=2))
        return self.status()

    def down(self, purge: bool = False) -> list[str]:
        """Stop our own processes (by pid file), in reverse start order; optionally delete data."""
        stopped = [spec.name for spec in reversed(self.specs()) if self.supervisor.stop(spec)]
        if purge:
            pg_data = registry.postgres_data_dir(self.settings)
            if not pg_data.is_relative_to(self.settings.run_dir):
                shutil.rmtree(pg_data.parent, ignore_errors=True)
            for folder in (self.settings.data_dir, self.settings.conf_dir, self.settings.engine_dir):
                shutil.rmtree(folder, ignore_errors=True)
            self.settings.secrets_file.unlink(missing_ok=True)
            self.settings.endpoints_file.unlink(missing_ok=True)
            self.settings.stack_outputs_file.unlink(missing_ok=True)
        return stopped

    def status(self) -> list[ServiceStatus]:
        result = []
        for spec in self.specs():
            pid = self.supervisor.running_pid(spec)
            ready = False
            if pid is not None:
                try:
                    ready = spec.ready()
                except Exception:
                    ready = False
            result.append(ServiceStatus(name=spec.name, pid=pid, ready=ready))
        return result

    def is_up(self) -> bool:
        return all(service.ready for service in self.status())
