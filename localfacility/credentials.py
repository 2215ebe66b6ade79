"""Credentials of the local facility: generated once, kept in the run folder, never printed."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from pydantic import BaseModel, SecretStr


def _token() -> SecretStr:
    return SecretStr(secrets.token_urlsafe(24))


class FacilityCredentials(BaseModel):
    """Every secret the facility's servers need. Repr and str never show the values."""

    kafka_admin_password: SecretStr
    kafka_controller_password: SecretStr
    registry_admin_password: SecretStr
    registry_reader_password: SecretStr
    postgres_password: SecretStr
    s3_access_key: SecretStr
    s3_secret_key: SecretStr
    pulumi_passphrase: SecretStr

    @classmethod
    def generate(cls) -> FacilityCredentials:
        return cls(
            kafka_admin_password=_token(),
            kafka_controller_password=_token(),
            registry_admin_password=_token(),
            registry_reader_password=_token(),
            postgres_password=_token(),
            s3_access_key=SecretStr("alertdist" + secrets.token_hex(6)),
            s3_secret_key=_token(),
            pulumi_passphrase=_token(),
        )

    @classmethod
    def load_or_create(cls, path: Path) -> FacilityCredentials:
        """Read the credentials file, creating it (mode 0600) on first use."""
        if path.exists():
            return cls.model_validate_json(path.read_text())
        creds = cls.generate()
        path.parent.mkdir(parents=True, exist_ok=True)
        plain = {name: value.get_secret_value() for name, value in creds}
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(plain, handle, indent=2)
        return creds


KAFKA_ADMIN_USER = "admin"
KAFKA_CONTROLLER_USER = "controller"
REGISTRY_ADMIN_USER = "admin"
REGISTRY_READER_USER = "reader"
POSTGRES_USER = "schemaregistry"
POSTGRES_DATABASE = "schemaregistry"
