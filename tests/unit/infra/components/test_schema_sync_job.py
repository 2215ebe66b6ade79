"""The schema sync Job runs again whenever the schema set or the image changes, and only then."""

from __future__ import annotations

import pytest

from alertdist_common.schemas import available_versions
from infra.components.registry import manifests
from infra.components.registry.manifests import schema_set_digest, schema_sync_job
from tests.unit.infra.conftest import ADDRESS

IMAGE = "ghcr.io/lsst-dm/alertdist-services:0.1.0"


def test_the_same_schemas_and_image_name_the_same_job() -> None:
    assert schema_sync_job(IMAGE, ADDRESS) == schema_sync_job(IMAGE, ADDRESS)


def test_a_new_image_is_a_new_job() -> None:
    assert (
        schema_sync_job(IMAGE, ADDRESS)["metadata"]["name"]
        != (schema_sync_job(IMAGE.replace("0.1.0", "0.1.1"), ADDRESS)["metadata"]["name"])
    )


def test_a_new_schema_is_a_new_job(monkeypatch: pytest.MonkeyPatch) -> None:
    before = schema_set_digest(IMAGE)
    monkeypatch.setattr(manifests, "available_versions", lambda: available_versions()[:-1])
    assert schema_set_digest(IMAGE) != before


def test_finished_jobs_are_kept() -> None:
    """A TTL would delete the Job; the next refresh would call that drift and run it again."""
    assert "ttlSecondsAfterFinished" not in schema_sync_job(IMAGE, ADDRESS)["spec"]
