"""The prerequisites program for one facility stack, from the same typed config as the main program."""

from __future__ import annotations

from typing import Any

import pulumi

from infra.config import KafkaClusterSpec, StackConfig
from infra.prerequisites.components import ArchiveBucket, StrimziOperator
from infra.program import load_stack_config
from infra.stack_secrets import S3Credentials, read_archive_s3


def declare(config: StackConfig, s3_credentials: S3Credentials | None) -> dict[str, Any]:
    if config.kafka is None or config.archive is None:
        raise ValueError(
            f"the {config.facility} stack has no prerequisites: it declares no Kafka cluster or archive"
        )
    if isinstance(config.kafka, KafkaClusterSpec):  # a shared cluster has the facility's operator
        StrimziOperator("strimzi", config.kafka.strimzi, config.namespace)
    if config.archive.bucket.existing:  # the facility's own bucket
        return {"archiveBucket": config.archive.bucket.name}
    bucket = ArchiveBucket("archive", config.archive, config.namespace, s3_credentials)
    return {"archiveBucket": bucket.bucket_name}


def main() -> None:
    config = pulumi.Config("alertdist")
    stack = load_stack_config(config)
    for key, value in declare(stack, read_archive_s3(config, stack)).items():
        pulumi.export(key, value)
