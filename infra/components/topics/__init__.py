"""The alert topics and the system's internal topics, from the one topic table in config."""

from __future__ import annotations

import pulumi

from infra.components.kubernetes import apply_manifest
from infra.components.targets import KafkaTarget, StrimziTarget
from infra.components.topics.manifests import kafka_topic
from infra.config import Replication, TopicSpec
from infra.naming import k8s_name
from infra.providers.kafka_admin import KafkaTopic
from infra.tables import topic_config


class KafkaTopics(pulumi.ComponentResource):
    """Every topic the stack declares, with partitions, replication and retention."""

    def __init__(
        self,
        name: str,
        topics: list[TopicSpec],
        replication: Replication,
        target: KafkaTarget,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("alertdist:topics:KafkaTopics", name, None, opts)
        self.topics: dict[str, pulumi.Resource] = {}
        for topic in topics:
            if isinstance(target, StrimziTarget):
                manifest = kafka_topic(
                    topic, replication, target.namespace, target.cluster, target.api_version
                )
                # A deleted KafkaTopic deletes the topic and its alerts (Strimzi's Topic Operator).
                child = pulumi.ResourceOptions(
                    parent=self, depends_on=target.depends_on, retain_on_delete=True
                )
                self.topics[topic.name] = apply_manifest(manifest, child)
            else:
                self.topics[topic.name] = KafkaTopic(
                    f"topic-{k8s_name(topic.name)}",
                    {
                        **target.login(),
                        "name": topic.name,
                        "partitions": topic.partitions,
                        "replicationFactor": replication.factor,
                        "config": topic_config(topic, replication.min_insync),
                    },
                    pulumi.ResourceOptions(parent=self),
                )
        self.register_outputs({"topics": list(self.topics)})
