"""Where the local facility lives and which ports it binds: typed, overridable by environment."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from infra.config import LocalKafkaNodes
from localfacility.ports import free_port_block

PROJECT_ROOT = Path(__file__).resolve().parents[1]
TOOLS_DIR = PROJECT_ROOT / "scripts" / "tools"
# Strimzi's sources, a git archive of each release (../shared/strimzi/README.md): its CRDs and the
# operators the tests build, which Maven Central does not serve.
STRIMZI_SOURCES = PROJECT_ROOT.parent / "shared" / "strimzi"


class FacilitySettings(BaseSettings):
    """Ports and paths of the single-machine facility.

    Every field can be overridden with an ``ALERTDIST_`` environment variable,
    e.g. ``ALERTDIST_KAFKA_EXTERNAL_PORT=29094``. A TLS port of 0 disables the
    SASL_SSL listener.
    """

    model_config = SettingsConfigDict(env_prefix="ALERTDIST_", frozen=True)

    run_dir: Path = PROJECT_ROOT / ".run" / "local"
    install_dir: Path | None = Field(
        default=None,
        description="where the servers are installed (default: run_dir); facilities side by side share one",
    )
    host: str = "127.0.0.1"
    kafka_internal_port: int = Field(default=19092, description="inter-broker SCRAM listener")
    kafka_controller_port: int = Field(default=19093, description="KRaft controller listener")
    kafka_external_port: int = Field(default=19094, description="brokers' SASL_PLAINTEXT listener")
    kafka_external_tls_port: int = Field(default=19095, description="brokers' SASL_SSL listener")
    kafka_heap: str = "1g"
    kafka_nodes: LocalKafkaNodes = Field(
        default=1,
        description="KRaft nodes (each a broker and a controller): 1, light, or 3, replicated as at "
        "the facilities (replication factor 3, min ISR 2)",
    )
    kafka_port_step: int = Field(default=10, description="node n binds each Kafka port + (n - 1) * step")
    postgres_port: int = 15432
    registry_port: int = 18081
    registry_public_port: int = Field(default=18082, description="the registry's public routes (nginx)")
    public_routes: Literal["ingress", "gateway"] = Field(
        default="ingress",
        description="how nginx routes the registry's public paths: as ingress-nginx renders the facility "
        "Ingress (what idf and usdf run), or as a Gateway routes the HTTPRoute",
    )
    s3_port: int = 17070
    gcs_port: int = 14443
    archive_server_port: int = 18080
    archive_metrics_port: int = Field(default=18089, description="archive server's Prometheus metrics")
    kubernetes_port: int = Field(
        default=16440,
        description="the local Kubernetes binds this and the next five: etcd (client, peer), the API "
        "server, the controller manager, the scheduler, KWOK",
    )

    @property
    def bin_dir(self) -> Path:
        return (self.install_dir or self.run_dir) / "bin"

    @property
    def log_dir(self) -> Path:
        return self.run_dir / "logs"

    @property
    def pid_dir(self) -> Path:
        return self.run_dir / "pids"

    @property
    def data_dir(self) -> Path:
        return self.run_dir / "data"

    @property
    def conf_dir(self) -> Path:
        return self.run_dir / "conf"

    def maven_libs_dir(self, tool: str) -> Path:
        """The jars of a Maven-installed tool (scripts/tools/<tool>/pom.xml)."""
        return (self.install_dir or self.run_dir) / f"{tool}-libs"

    @property
    def kafka_libs_dir(self) -> Path:
        return self.maven_libs_dir("kafka")

    @property
    def secrets_file(self) -> Path:
        return self.run_dir / "secrets.json"

    @property
    def engine_dir(self) -> Path:
        """The Pulumi engine's state, passphrase file and project folder for this facility."""
        return self.run_dir / "pulumi"

    @property
    def stack_outputs_file(self) -> Path:
        """The deployed local stack's outputs, passwords included (0600)."""
        return self.run_dir / "stack-outputs.json"

    @property
    def endpoints_file(self) -> Path:
        return self.run_dir / "endpoints.json"

    @property
    def tls_enabled(self) -> bool:
        return self.kafka_external_tls_port > 0


def three_kafka_nodes(run_dir: Path, *, heap: str, tls: bool, **other: Any) -> FacilitySettings:
    """Settings for three KRaft nodes beside the facility's own (tests, benchmarks): their own run
    folder, the facility's installed servers, one block of free loopback ports (four a node)."""
    default = FacilitySettings()
    base = free_port_block(12)
    return FacilitySettings(
        run_dir=run_dir,
        install_dir=default.install_dir or default.run_dir,
        kafka_nodes=3,
        kafka_heap=heap,
        kafka_internal_port=base,
        kafka_controller_port=base + 1,
        kafka_external_port=base + 2,
        kafka_external_tls_port=base + 3 if tls else 0,
        kafka_port_step=4,
        **other,
    )
