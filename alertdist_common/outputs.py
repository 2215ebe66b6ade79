"""The stack outputs contract: what the Pulumi program exports (`pulumi stack output --json
--show-secrets` prints it), and all the post-deploy suite and the broker tools need to find and log
into a deployed facility. The program writes it (infra.program.public_outputs), the tools read it
with this model; `outputsVersion` grows with any change a reader must know of."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr
from pydantic.alias_generators import to_camel

from alertdist_common.kafka import KafkaSettings


class _Outputs(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


class TopicOutput(_Outputs):
    role: str
    partitions: int
    replication_factor: int
    min_insync_replicas: int
    retention_ms: int
    retention_bytes: int
    max_message_bytes: int
    timestamp_type: str


class ClientFloor(_Outputs):
    """The oldest Kafka clients the facility's Kafka accepts (alertdist_common.clients)."""

    librdkafka: str
    java_client: str


class SecretRef(_Outputs):
    """Where a password lives that the stack does not hold: another owner's Secret and key."""

    namespace: str
    secret: str
    key: str


def read_secret_key(ref: SecretRef) -> str:
    """One key of a Kubernetes Secret, through `kubectl` with the runner's current context (an
    operator's CI at the facility). Nothing is written to disk."""
    command = ["kubectl", "get", "secret", ref.secret, "--namespace", ref.namespace, "--output", "json"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise KeyError(f"cannot read Secret {ref.namespace}/{ref.secret} with kubectl: {exc}") from exc
    if done.returncode != 0:
        raise KeyError(f"cannot read Secret {ref.namespace}/{ref.secret}: {done.stderr.strip()}")
    data = json.loads(done.stdout).get("data") or {}
    if ref.key not in data:
        raise KeyError(f"Secret {ref.namespace}/{ref.secret} has no key {ref.key!r}")
    return base64.b64decode(data[ref.key]).decode()


OUTPUTS_VERSION = 1


def _readable_version(version: int) -> int:
    if version > OUTPUTS_VERSION:
        raise ValueError(
            f"these stack outputs are version {version}; this tool reads up to {OUTPUTS_VERSION}: "
            "install the tool from the release that deployed the stack"
        )
    return version


class StackOutputs(_Outputs):
    outputs_version: Annotated[int, AfterValidator(_readable_version)] = Field(
        default=OUTPUTS_VERSION, description="the contract's version (absent before version 1 named it)"
    )
    facility: str
    bootstrap_servers: str
    security_protocol: str
    sasl_mechanism: str
    tls_bootstrap_servers: str | None = Field(
        default=None, description="a SASL_SSL listener, when the facility offers one"
    )
    kafka_ca_file: str | None = Field(default=None, description="CA of the SASL_SSL listener")
    registry_url: str
    archive_url: str
    alert_topics: list[str]
    topics: dict[str, TopicOutput]
    users: dict[str, str] = Field(description="username -> role")
    passwords: dict[str, SecretStr]
    password_refs: dict[str, SecretRef] = Field(
        default_factory=dict, description="users whose passwords another owner keeps (USDF's phalanx)"
    )
    client_floor: ClientFloor

    @classmethod
    def from_file(cls, path: Path) -> StackOutputs:
        """Read outputs saved from `pulumi stack output --json --show-secrets`."""
        try:
            return cls.model_validate(json.loads(path.read_text()))
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"cannot read stack outputs from {path}: {exc}") from exc

    @classmethod
    def from_stack(cls, stack: str) -> StackOutputs:
        """`pulumi stack output --json --show-secrets` of a deployed stack, by the Pulumi CLI on
        PATH with the operator's backend, read in this process: no file holds the passwords."""
        command = ["pulumi", "stack", "output", "--json", "--show-secrets", "--stack", stack]
        try:
            printed = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        except (OSError, subprocess.CalledProcessError) as exc:
            reason = getattr(exc, "stderr", "") or str(exc)
            raise ValueError(f"cannot read the outputs of stack {stack}: {reason.strip()}") from exc
        return cls.model_validate(json.loads(printed))

    def users_with_role(self, role: str) -> list[str]:
        return sorted(user for user, found in self.users.items() if found == role)

    def has_password(self, user: str) -> bool:
        return user in self.passwords or user in self.password_refs

    def password(self, user: str) -> str:
        """The user's password: from the outputs, or read from its owner's Secret."""
        if user in self.passwords:
            return self.passwords[user].get_secret_value()
        if user in self.password_refs:
            return read_secret_key(self.password_refs[user])
        raise KeyError(f"the stack outputs hold no password for {user!r}")

    def kafka_settings(self, user: str) -> KafkaSettings:
        """How `user` logs into the stack's Kafka, on its first listener."""
        return KafkaSettings(
            bootstrap=self.bootstrap_servers,
            username=user,
            password=self.password(user),
            security_protocol=self.security_protocol,
            sasl_mechanism=self.sasl_mechanism,
        )

    def topics_with_role(self, role: str) -> list[str]:
        return sorted(name for name, topic in self.topics.items() if topic.role == role)
