"""Service settings, read from the environment once (ALERTDIST_*), passed down as typed objects."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class KafkaSettings(BaseSettings):
    """How a service logs into Kafka: ALERTDIST_KAFKA_BOOTSTRAP, _USERNAME, _PASSWORD, ..."""

    model_config = SettingsConfigDict(env_prefix="ALERTDIST_KAFKA_", frozen=True)

    bootstrap: str
    username: str
    password: SecretStr
    security_protocol: Literal["SASL_PLAINTEXT", "SASL_SSL"] = "SASL_PLAINTEXT"
    sasl_mechanism: Literal["SCRAM-SHA-512"] = "SCRAM-SHA-512"
    ca_file: Path | None = None

    def client_config(self) -> dict[str, str]:
        """librdkafka settings common to producers, consumers and admin clients."""
        config = {
            "bootstrap.servers": self.bootstrap,
            "security.protocol": self.security_protocol,
            "sasl.mechanism": self.sasl_mechanism,
            "sasl.username": self.username,
            "sasl.password": self.password.get_secret_value(),
        }
        if self.ca_file is not None:
            config["ssl.ca.location"] = str(self.ca_file)
        return config


class RegistrySettings(BaseSettings):
    """The schema registry: ALERTDIST_REGISTRY_URL, optional _USERNAME and _PASSWORD."""

    model_config = SettingsConfigDict(env_prefix="ALERTDIST_REGISTRY_", frozen=True)

    url: str
    username: str | None = None
    password: SecretStr | None = None

    def auth(self) -> tuple[str, str] | None:
        if self.username is None or self.password is None:
            return None
        return self.username, self.password.get_secret_value()


class ArchiveSettings(BaseSettings):
    """The alert archive's object store: ALERTDIST_ARCHIVE_BACKEND (s3|gcs), _BUCKET, ALERTDIST_S3_ENDPOINT.

    S3 credentials come from the standard AWS_* variables; GCS from workload identity, or the
    emulator named by STORAGE_EMULATOR_HOST.
    """

    model_config = SettingsConfigDict(env_prefix="ALERTDIST_", frozen=True)

    archive_backend: Literal["s3", "gcs"]
    archive_bucket: str
    s3_endpoint: str | None = None
    gcs_project: str | None = None
