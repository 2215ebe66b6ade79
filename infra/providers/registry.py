"""The LSST alert schemas registered on a running registry, each with its fixed id."""

from __future__ import annotations

from typing import Any

import httpx
import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider, UpdateResult

from alertdist_common.registry_sync import delete_subject, registered_ids, sync_schemas


def _registry(props: dict[str, Any]) -> httpx.Client:
    return httpx.Client(base_url=props["url"], auth=(props["username"], props["password"]), timeout=30)


class SchemaRegistrationProvider(ResourceProvider):
    """Registers every expected id under the subject (IMPORT mode); a refresh finds ids that
    went missing, and the next update registers them again."""

    def _sync(self, props: dict[str, Any]) -> dict[str, Any]:
        with _registry(props) as http:
            report = sync_schemas(http, subject=props["subject"])
        return {**props, "schemaIds": sorted(report.registered + report.unchanged)}

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_=f"{props['url']}#{props['subject']}", outs=self._sync(props))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        with _registry(props) as http:
            found = registered_ids(http, [int(i) for i in props["expectedIds"]])
        return ReadResult(id_=id_, outs={**props, "schemaIds": found})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [key for key in ("url", "subject", "expectedIds") if olds.get(key) != news.get(key)]
        if olds.get("schemaIds") != sorted(news["expectedIds"]):
            changed.append("schemaIds")
        replaces = [key for key in changed if key in ("url", "subject")]
        return DiffResult(changes=bool(changed), replaces=replaces)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=self._sync(news))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        with _registry(props) as http:
            delete_subject(http, props["subject"])


class SchemaRegistration(Resource):
    """One subject's registered alert schemas."""

    def __init__(self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions) -> None:
        secret_outputs = pulumi.ResourceOptions(additional_secret_outputs=["password"])
        super().__init__(SchemaRegistrationProvider(), name, props, opts.merge(secret_outputs))
