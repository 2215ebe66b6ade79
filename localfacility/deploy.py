"""Deploy the local stack onto the running local facility with the real Pulumi engine.

`pulumi up --stack local` (through the automation API, `--refresh` so drift is found and
repaired) declares topics, SCRAM users, their ACLs, the schema registrations and the archive
buckets from the same tables as the facility stacks. Its config is the committed
stacks/Pulumi.local.yaml with this facility's endpoints, and secrets generated here at the first
deploy (`pulumi config set --secret`, encrypted with the facility's passphrase, in
.run/local/pulumi/project/Pulumi.local.yaml, never in git).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from pulumi import automation as auto

from infra.config import LocalEndpoints, StackConfig
from infra.program import public_outputs
from infra.stackfile import PROJECT, load_stack, read_config_values, stack_file
from infra.tables import stack_users
from localfacility import ingress, kafka, objectstore, registry
from localfacility.credentials import KAFKA_ADMIN_USER, REGISTRY_ADMIN_USER
from localfacility.engine import Engine, write_private
from localfacility.facility import LocalFacility
from localfacility.settings import FacilitySettings

STACK = "local"
ARCHIVE_BUCKET = "alert-archive"


def local_endpoints(settings: FacilitySettings) -> LocalEndpoints:
    """Where this facility answers (its ports can be overridden, and a second facility can run
    beside the first)."""
    tls = settings.tls_enabled
    return LocalEndpoints(
        bootstrap_servers=kafka.bootstrap_servers(settings),
        tls_bootstrap_servers=kafka.bootstrap_servers(settings, tls=True) if tls else None,
        kafka_ca_file=str(settings.conf_dir / "tls" / "ca.pem") if tls else None,
        registry_url=ingress.public_registry_url(settings),
        registry_write_url=registry.registry_url(settings),
        archive_url=f"http://{settings.host}:{settings.archive_server_port}",
        s3_endpoint=objectstore.s3_url(settings),
        gcs_endpoint=objectstore.gcs_url(settings),
        archive_bucket=ARCHIVE_BUCKET,
        kafka_admin_user=KAFKA_ADMIN_USER,
        registry_admin_user=REGISTRY_ADMIN_USER,
        kafka_nodes=settings.kafka_nodes,
    )


def local_stack_config(settings: FacilitySettings) -> StackConfig:
    """The local stack pointed at this facility."""
    return load_stack(STACK).model_copy(update={"local": local_endpoints(settings)})


def declared_outputs(settings: FacilitySettings) -> dict[str, Any]:
    """The stack outputs known before a deploy (no passwords yet)."""
    return public_outputs(local_stack_config(settings))


@dataclass
class DeployReport:
    """What the engine did, by operation (`create`, `update`, `delete`, `same`, ...)."""

    operations: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return any(count for operation, count in self.operations.items() if operation != "same")

    def __str__(self) -> str:
        return ", ".join(f"{count} {operation}" for operation, count in sorted(self.operations.items()))


class LocalDeployment:
    """The local stack on the local facility."""

    def __init__(self, facility: LocalFacility) -> None:
        self.facility = facility
        self.config = local_stack_config(facility.settings)
        self.outputs_file = facility.settings.stack_outputs_file

    @cached_property
    def engine(self) -> Engine:
        settings = self.facility.settings
        return Engine(
            state_dir=settings.engine_dir,
            bin_dir=settings.bin_dir,
            passphrase=self.facility.credentials.pulumi_passphrase.get_secret_value(),
        )

    def prepare(self) -> auto.Stack:
        """The stack, its plain config from stacks/ and this facility, its secrets set once."""
        stack = self.engine.stack(STACK)
        endpoints = self.config.local
        assert endpoints is not None
        committed = read_config_values(stack_file(STACK))
        local = {f"{PROJECT}:local": endpoints.model_dump(by_alias=True, exclude_none=True)}
        self.engine.write_plain_config(STACK, {**committed, **local})
        creds, users = self.facility.credentials, stack_users(self.config)
        self.engine.set_missing_secrets(
            STACK,
            {
                "localKafkaAdminPassword": creds.kafka_admin_password.get_secret_value(),
                "localRegistryAdminPassword": creds.registry_admin_password.get_secret_value(),
                "localS3AccessKey": creds.s3_access_key.get_secret_value(),
                "localS3SecretKey": creds.s3_secret_key.get_secret_value(),
                # generated once; `pulumi config set --secret` changes them later
                "kafkaUserPasswords": {user.username: secrets.token_urlsafe(24) for user in users},
            },
        )
        return stack

    def up(self) -> DeployReport:
        """`pulumi up --refresh`: creates what is missing, repairs drift, then saves the outputs."""
        result = self.prepare().up(refresh=True, color="never")
        # `up` read the outputs with --show-secrets already: the post-deploy suite's input (0600)
        outputs = {key: output.value for key, output in result.outputs.items()}
        write_private(self.outputs_file, json.dumps(outputs, indent=2))
        return DeployReport(dict(result.summary.resource_changes or {}))

    def pulumi(self, arguments: list[str]) -> int:
        """Run the CLI by hand on this facility's stack (config prepared as for a deploy)."""
        self.prepare()
        return self.engine.run_interactive(arguments)

    def preview(self) -> DeployReport:
        """`pulumi preview --refresh`: what an `up` would change now."""
        result = self.prepare().preview(refresh=True, color="never")
        return DeployReport(dict(result.change_summary))

    def destroy(self) -> DeployReport:
        result = self.prepare().destroy(color="never")
        self.outputs_file.unlink(missing_ok=True)
        return DeployReport(dict(result.summary.resource_changes or {}))

    def passwords(self) -> dict[str, str]:
        return dict(json.loads(self.outputs_file.read_text())["passwords"])
