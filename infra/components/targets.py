"""Where topics and users are declared: Strimzi CRs at a facility, or a Kafka directly (local).
Each target decides how a topic or a user becomes resources; the components only loop."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import pulumi

from infra.components.access.manifests import kafka_user
from infra.components.kubernetes import apply_manifest, secret
from infra.components.topics.manifests import kafka_topic
from infra.config import Replication, TopicSpec
from infra.naming import PASSWORD_KEY, k8s_name, password_secret_name
from infra.providers.kafka_admin import KafkaTopic, ScramUser, UserAcls, acl_entry
from infra.tables import KafkaUserSpec, topic_config


class KafkaTarget(Protocol):
    def declare_topic(
        self, topic: TopicSpec, replication: Replication, parent: pulumi.Resource
    ) -> pulumi.Resource: ...

    def declare_user(
        self, user: KafkaUserSpec, password: pulumi.Output[str] | None, parent: pulumi.Resource
    ) -> None: ...


@dataclass(frozen=True)
class StrimziTarget:
    """Declare KafkaTopic / KafkaUser CRs for one Strimzi cluster, reconciled by its operators."""

    depends_on: list[pulumi.Resource]  # the Kafka CR, when the stack runs the cluster
    namespace: str
    cluster: str
    api_version: str

    def declare_topic(
        self, topic: TopicSpec, replication: Replication, parent: pulumi.Resource
    ) -> pulumi.Resource:
        manifest = kafka_topic(topic, replication, self.namespace, self.cluster, self.api_version)
        # A deleted KafkaTopic deletes the topic and its alerts (Strimzi's Topic Operator).
        options = pulumi.ResourceOptions(parent=parent, depends_on=self.depends_on, retain_on_delete=True)
        return apply_manifest(manifest, options)

    def declare_user(
        self, user: KafkaUserSpec, password: pulumi.Output[str] | None, parent: pulumi.Resource
    ) -> None:
        """The KafkaUser, after the Secret holding its password (Strimzi reads it from there)."""
        depends: list[pulumi.Resource] = list(self.depends_on)
        if password is not None:
            depends.append(
                secret(
                    password_secret_name(user.username),
                    self.namespace,
                    {PASSWORD_KEY: password},
                    pulumi.ResourceOptions(parent=parent, depends_on=self.depends_on),
                )
            )
        apply_manifest(
            kafka_user(user, self.namespace, self.cluster, self.api_version),
            pulumi.ResourceOptions(parent=parent, depends_on=depends),
        )


@dataclass(frozen=True)
class DirectKafkaTarget:
    """Manage topics, SCRAM credentials and ACLs on a running Kafka with its admin login
    (infra.providers.kafka_admin)."""

    bootstrap: str
    admin_user: str
    admin_password: pulumi.Output[str]

    def login(self) -> dict[str, Any]:
        """The connection every resource on this Kafka carries (the password stays secret)."""
        return {
            "bootstrap": self.bootstrap,
            "adminUser": self.admin_user,
            "adminPassword": pulumi.Output.secret(self.admin_password),
        }

    def declare_topic(
        self, topic: TopicSpec, replication: Replication, parent: pulumi.Resource
    ) -> pulumi.Resource:
        return KafkaTopic(
            f"topic-{k8s_name(topic.name)}",
            {
                **self.login(),
                "name": topic.name,
                "partitions": topic.partitions,
                "replicationFactor": replication.factor,
                "config": topic_config(topic, replication.min_insync),
            },
            pulumi.ResourceOptions(parent=parent),
        )

    def declare_user(
        self, user: KafkaUserSpec, password: pulumi.Output[str] | None, parent: pulumi.Resource
    ) -> None:
        """The SCRAM credential (when the user has a password) and the user's whole ACL set."""
        login = self.login()
        if password is not None:
            ScramUser(
                f"scram-{user.username}",
                {**login, "username": user.username, "password": password},
                pulumi.ResourceOptions(parent=parent),
            )
        UserAcls(
            f"acls-{user.username}",
            {**login, "principal": f"User:{user.username}", "acls": [acl_entry(rule) for rule in user.acls]},
            pulumi.ResourceOptions(parent=parent),
        )
