"""The schema registry: Confluent's server at a facility, the LSST schemas registered everywhere."""

from __future__ import annotations

from typing import Any

import httpx
import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider

from infra import manifests
from infra.components.resources import apply_manifest
from infra.config import StackConfig
from services.common.alertschemas import ALERT_SUBJECT, available_versions
from services.schema_sync.sync import delete_subject, sync_schemas


class SchemaRegistry(pulumi.ComponentResource):
    """Confluent Schema Registry over the internal mTLS listener, read-only from outside, and
    the schema sync Job that loads every LSST alert schema with its fixed id."""

    def __init__(
        self,
        name: str,
        config: StackConfig,
        depends_on: list[pulumi.Resource],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("alertdist:registry:SchemaRegistry", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, depends_on=depends_on)
        app = manifests.REGISTRY_APP
        apply_manifest(manifests.service_account(config, app, None), child)
        deployment = apply_manifest(manifests.registry_deployment(config), child)
        service = apply_manifest(manifests.service(config, app, manifests.REGISTRY_PORT), child)
        if config.registry.ingress is not None:
            apply_manifest(
                manifests.ingress(
                    config, app, manifests.REGISTRY_PORT, config.registry.ingress, read_only=True
                ),
                child,
            )
        apply_manifest(
            manifests.schema_sync_job(config),
            pulumi.ResourceOptions(parent=self, depends_on=[deployment, service]),
        )
        self.register_outputs({})


class _SchemaRegistrationProvider(ResourceProvider):
    """Registers the LSST alert schemas on a running registry (the local facility's)."""

    def _sync(self, props: dict[str, Any]) -> list[int]:
        auth = (props["username"], props["password"])
        with httpx.Client(base_url=props["url"], auth=auth, timeout=30) as http:
            report = sync_schemas(http, subject=props["subject"])
        return sorted(report.registered + report.unchanged)

    def create(self, props: dict[str, Any]) -> CreateResult:
        ids = self._sync(props)
        return CreateResult(id_=f"{props['url']}#{props['subject']}", outs={**props, "schemaIds": ids})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        keys = ("url", "subject", "expectedIds")
        changed = [key for key in keys if olds.get(key) != news.get(key)]
        return DiffResult(changes=bool(changed), replaces=[k for k in changed if k in ("url", "subject")])

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> Any:
        from pulumi.dynamic import UpdateResult

        return UpdateResult(outs={**news, "schemaIds": self._sync(news)})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_=id_, outs=props)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        auth = (props["username"], props["password"])
        with httpx.Client(base_url=props["url"], auth=auth, timeout=30) as http:
            delete_subject(http, props["subject"])


class _SchemaRegistration(Resource):
    """The dynamic resource holding one subject's registered alert schemas."""

    def __init__(self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions) -> None:
        super().__init__(_SchemaRegistrationProvider(), name, props, opts)


class SchemaRegistrations(pulumi.ComponentResource):
    """Every LSST alert schema under `alert-packet`, id = version = MAJOR*100+MINOR (local stack)."""

    def __init__(
        self,
        name: str,
        registry_url: str,
        username: str,
        password: pulumi.Output[str],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("alertdist:registry:SchemaRegistrations", name, None, opts)
        self.expected_ids = [version.schema_id for version in available_versions()]
        self.registration = _SchemaRegistration(
            "alert-schemas",
            {
                "url": registry_url,
                "subject": ALERT_SUBJECT,
                "username": username,
                "password": pulumi.Output.secret(password),
                "expectedIds": self.expected_ids,
                "schemaIds": None,
            },
            pulumi.ResourceOptions(parent=self, additional_secret_outputs=["password"]),
        )
        self.register_outputs({"schemaIds": self.expected_ids})
