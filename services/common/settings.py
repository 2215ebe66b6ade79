"""Service settings, read from the environment once (ALERTDIST_*), passed down as typed objects."""

from __future__ import annotations

from typing import Literal

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    """The alert archive's object store: ALERTDIST_ARCHIVE_BACKEND (s3|gcs), _BUCKET, _SCHEMA_BUCKET,
    ALERTDIST_S3_ENDPOINT.

    S3 credentials come from the standard AWS_* variables; GCS from workload identity, or the
    emulator named by STORAGE_EMULATOR_HOST.
    """

    model_config = SettingsConfigDict(env_prefix="ALERTDIST_", frozen=True)

    archive_backend: Literal["s3", "gcs"]
    archive_bucket: str
    archive_schema_bucket: str | None = None  # schemas beside the alerts unless set (Rubin's USDF buckets)
    s3_endpoint: str | None = None
    gcs_project: str | None = None
