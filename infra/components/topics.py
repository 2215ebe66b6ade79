"""The alert topics and the system's internal topics, from the one topic table in config."""

from __future__ import annotations

import pulumi
import pulumi_kafka as kafka

from infra import manifests
from infra.components.resources import apply_manifest
from infra.components.targets import KafkaTarget, StrimziTarget
from infra.config import StackConfig
from infra.tables import min_insync_replicas, topic_config


class KafkaTopics(pulumi.ComponentResource):
    """Every topic the stack declares, with partitions, replication and retention."""

    def __init__(
        self, name: str, config: StackConfig, target: KafkaTarget, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("alertdist:topics:KafkaTopics", name, None, opts)
        self.topics: dict[str, pulumi.Resource] = {}
        for topic in config.topics:
            if isinstance(target, StrimziTarget):
                child = pulumi.ResourceOptions(parent=self, depends_on=[target.depends_on])
                self.topics[topic.name] = apply_manifest(manifests.kafka_topic(config, topic), child)
            else:
                self.topics[topic.name] = kafka.Topic(
                    f"topic-{manifests.k8s_name(topic.name)}",
                    name=topic.name,
                    partitions=topic.partitions,
                    replication_factor=config.replication_factor,
                    config=topic_config(topic, min_insync_replicas(config)),
                    opts=pulumi.ResourceOptions(parent=self, provider=target.provider),
                )
        self.register_outputs({"topics": list(self.topics)})
