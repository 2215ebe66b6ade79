"""The schema registry: Confluent's server at a facility, the LSST schemas registered everywhere."""

from __future__ import annotations

import pulumi

from alertdist_common.schemas import ALERT_SUBJECT, available_versions
from infra.components.kubernetes import (
    apply_manifest,
    disruption_budget,
    public_route,
    service,
    service_account,
)
from infra.components.registry.manifests import (
    REGISTRY_PUBLIC_METHODS,
    REGISTRY_PUBLIC_ROUTES,
    registry_deployment,
    registry_network_policy,
    schema_sync_job,
)
from infra.config import RegistrySpec
from infra.naming import REGISTRY_APP, REGISTRY_PORT, ClusterAddress
from infra.providers.registry import SchemaRegistration


class SchemaRegistry(pulumi.ComponentResource):
    """Confluent Schema Registry over the internal mTLS listener, read-only from outside, and
    the schema sync Job that loads every LSST alert schema with its fixed id."""

    def __init__(
        self,
        name: str,
        spec: RegistrySpec,
        sync_image: str,
        address: ClusterAddress,
        depends_on: list[pulumi.Resource],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("alertdist:registry:SchemaRegistry", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, depends_on=depends_on)
        namespace = address.namespace
        apply_manifest(service_account(namespace, REGISTRY_APP), child)
        manifest = registry_deployment(spec, address)
        deployment = apply_manifest(manifest, child)
        budget = disruption_budget(manifest)
        if budget is not None:
            apply_manifest(budget, child)
        apply_manifest(registry_network_policy(spec, namespace), child)
        registry_service = apply_manifest(service(namespace, REGISTRY_APP, REGISTRY_PORT), child)
        if spec.public_route is not None:
            routes, methods = REGISTRY_PUBLIC_ROUTES, REGISTRY_PUBLIC_METHODS
            public = public_route(namespace, REGISTRY_APP, REGISTRY_PORT, spec.public_route, routes, methods)
            apply_manifest(public, child)
        apply_manifest(
            schema_sync_job(sync_image, address),
            pulumi.ResourceOptions(parent=self, depends_on=[deployment, registry_service]),
        )
        self.register_outputs({})


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
        self.registration = SchemaRegistration(
            "alert-schemas",
            {
                "url": registry_url,
                "subject": ALERT_SUBJECT,
                "username": username,
                "password": pulumi.Output.secret(password),
                "expectedIds": self.expected_ids,
                "schemaIds": None,
            },
            pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"schemaIds": self.expected_ids})
