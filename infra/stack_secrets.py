"""Secret stack configuration: read once, kept as Pulumi secret Outputs, never plain."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from infra.config import Facility, StackConfig


class MissingSecretError(KeyError):
    """A secret the stack needs was not set with `pulumi config set --secret`."""


@dataclass(frozen=True)
class S3Credentials:
    """The keys of an S3-compatible store, as Pulumi secrets."""

    access_key: pulumi.Output[str]
    secret_key: pulumi.Output[str]


@dataclass(frozen=True)
class ArchiveS3Keys:
    """The archive's two S3 key pairs: the ingester's may write, the server's only read."""

    read_write: S3Credentials
    read_only: S3Credentials


@dataclass(frozen=True)
class StackSecrets:
    """Passwords by Kafka username, plus facility credentials where the stack needs them."""

    kafka_passwords: pulumi.Output[dict[str, str]]
    archive_s3: ArchiveS3Keys | None = None
    local_kafka_admin_password: pulumi.Output[str] | None = None
    local_registry_admin_password: pulumi.Output[str] | None = None
    local_s3: S3Credentials | None = None

    def kafka_password(self, username: str) -> pulumi.Output[str]:
        def pick(passwords: dict[str, str]) -> str:
            if username not in passwords:
                raise MissingSecretError(
                    f"no password for Kafka user {username!r} in kafkaUserPasswords: "
                    "set it with `pulumi config set --secret --path alertdist:kafkaUserPasswords.<user>`"
                )
            return passwords[username]

        return pulumi.Output.secret(self.kafka_passwords.apply(pick))


def read_secrets(config: pulumi.Config, stack: StackConfig) -> StackSecrets:
    """Read every secret the stack needs from its (encrypted) config."""
    passwords: pulumi.Output[Any] = config.require_secret_object("kafkaUserPasswords")
    if stack.facility is Facility.LOCAL:
        return StackSecrets(
            kafka_passwords=passwords,
            local_kafka_admin_password=config.require_secret("localKafkaAdminPassword"),
            local_registry_admin_password=config.require_secret("localRegistryAdminPassword"),
            local_s3=S3Credentials(
                config.require_secret("localS3AccessKey"), config.require_secret("localS3SecretKey")
            ),
        )
    return StackSecrets(
        kafka_passwords=passwords,
        archive_s3=_archive_s3_keys(config, stack),
    )


def _archive_s3_keys(config: pulumi.Config, stack: StackConfig) -> ArchiveS3Keys | None:
    read_write = read_archive_s3(config, stack)
    read_only = read_archive_s3(config, stack, READ_ONLY_KEY_PREFIX)
    if read_write is None or read_only is None:
        return None
    return ArchiveS3Keys(read_write=read_write, read_only=read_only)


READ_WRITE_KEY_PREFIX = "archiveS3"
READ_ONLY_KEY_PREFIX = "archiveS3Reader"


def read_archive_s3(
    config: pulumi.Config, stack: StackConfig, prefix: str = READ_WRITE_KEY_PREFIX
) -> S3Credentials | None:
    """S3 keys of the facility's archive store, where it is on S3: the ingester's read-write keys
    (`archiveS3AccessKey`...), or with READ_ONLY_KEY_PREFIX the server's read-only ones."""
    if stack.archive is None or stack.archive.bucket.kind != "s3":
        return None
    return S3Credentials(
        config.require_secret(f"{prefix}AccessKey"), config.require_secret(f"{prefix}SecretKey")
    )
